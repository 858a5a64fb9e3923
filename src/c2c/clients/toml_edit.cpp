#include "c2c/clients/toml_edit.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdio>
#include <set>

namespace c2c::clients {

namespace {

Unexpected<> parse_failure(const toml::parse_error& e) {
  const auto& b = e.source().begin;
  return fail(ErrorCode::kBadRequest, "line " + std::to_string(b.line) + ", column " +
                                          std::to_string(b.column) + ": " +
                                          std::string(e.description()));
}

Result<toml::table> parse(std::string_view text) {
  try {
    return toml::parse(text);
  } catch (const toml::parse_error& e) {
    return parse_failure(e);
  }
}

// A TOML basic string ("..."): backslash, quote and control characters escaped. The result is
// parsed back by toml++ before anything is written (verified()).
std::string literal(const std::string& v) {
  std::string out = "\"";
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string key_text(const std::string& key) {
  const bool bare = !key.empty() && key.find_first_not_of(
                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                                        "nopqrstuvwxyz0123456789_-") == std::string::npos;
  return bare ? key : literal(key);
}

std::string section_text(const std::vector<std::string>& path, const TomlEntry& e) {
  std::string header;
  for (const auto& k : path) header += (header.empty() ? "" : ".") + key_text(k);
  std::string out = "[" + header + "]\n";
  for (const auto& [k, v] : e.strings) out += key_text(k) + " = " + literal(v) + "\n";
  for (const auto& [k, items] : e.arrays) {
    std::string list;
    for (const auto& item : items) list += (list.empty() ? "" : ", ") + literal(item);
    out += key_text(k) + " = [" + list + "]\n";
  }
  if (!e.inline_table_key.empty()) {
    std::string fields;
    for (const auto& [k, v] : e.inline_table) {
      fields += (fields.empty() ? "" : ", ") + key_text(k) + " = " + literal(v);
    }
    out +=
        key_text(e.inline_table_key) + " = {" + (fields.empty() ? "" : " " + fields + " ") + "}\n";
  }
  return out;
}

toml::table entry_table(const TomlEntry& e) {
  toml::table t;
  for (const auto& [k, v] : e.strings) t.insert_or_assign(k, v);
  for (const auto& [k, items] : e.arrays) {
    toml::array a;
    for (const auto& item : items) a.push_back(item);
    t.insert_or_assign(k, std::move(a));
  }
  if (!e.inline_table_key.empty()) {
    toml::table inl;
    for (const auto& [k, v] : e.inline_table) inl.insert_or_assign(k, v);
    t.insert_or_assign(e.inline_table_key, std::move(inl));
  }
  return t;
}

toml::node* find(toml::table& root, const std::vector<std::string>& path) {
  toml::node* n = &root;
  for (const auto& k : path) {
    auto* t = n->as_table();
    if (t == nullptr) return nullptr;
    n = t->get(k);
    if (n == nullptr) return nullptr;
  }
  return n;
}

// Every line (1-based) a node and its children occupy.
void collect_lines(const toml::node& n, std::set<size_t>& lines) {
  const auto& s = n.source();
  if (s.begin.line > 0) {
    const size_t end = std::max<size_t>(s.end.line, s.begin.line);
    for (size_t l = s.begin.line; l <= end; ++l) lines.insert(l);
  }
  if (const auto* t = n.as_table()) {
    for (auto&& [k, v] : *t) collect_lines(v, lines);
  } else if (const auto* a = n.as_array()) {
    for (auto&& v : *a) collect_lines(v, lines);
  }
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t b = 0;
  while (b < text.size()) {
    const size_t nl = text.find('\n', b);
    if (nl == std::string_view::npos) {
      lines.emplace_back(text.substr(b));
      break;
    }
    lines.emplace_back(text.substr(b, nl - b + 1));
    b = nl + 1;
  }
  return lines;
}

// Removes the lines of table `path`; returns the text and the index (0-based) of the first
// removed line, where a replacement goes.
Result<std::pair<std::string, size_t>> cut(std::string_view text, toml::table& root,
                                           const std::vector<std::string>& path) {
  toml::node* n = find(root, path);
  std::set<size_t> lines;
  collect_lines(*n, lines);
  auto all = split_lines(text);
  std::string out;
  const size_t first = lines.empty() ? all.size() : *lines.begin() - 1;
  for (size_t i = 0; i < all.size(); ++i) {
    if (lines.count(i + 1) == 0) out += all[i];
  }
  return std::make_pair(out, first);
}

// Tables left empty (e.g. [mcp_servers] once its only server is gone) do not count.
void prune_empty(toml::table& t) {
  for (auto it = t.begin(); it != t.end();) {
    if (auto* sub = it->second.as_table()) {
      prune_empty(*sub);
      if (sub->empty()) {
        it = t.erase(it);
        continue;
      }
    }
    ++it;
  }
}

bool same(toml::table a, toml::table b) {
  prune_empty(a);
  prune_empty(b);
  return a == b;
}

Result<std::string> verified(std::string text, const toml::table& expected) {
  auto check = parse(text);
  if (!check) {
    return fail(ErrorCode::kInternal,
                "the edited file would not parse (" + check.error().message + "); left unchanged");
  }
  if (!same(*check, expected)) {
    return fail(ErrorCode::kInternal,
                "the c2c entry shares lines with other settings; edit it by hand (left "
                "unchanged)");
  }
  return text;
}

size_t line_offset(const std::string& text, size_t line_index) {
  size_t pos = 0;
  for (size_t i = 0; i < line_index && pos != std::string::npos; ++i) {
    pos = text.find('\n', pos);
    if (pos != std::string::npos) ++pos;
  }
  return pos == std::string::npos ? text.size() : pos;
}

}  // namespace

Result<void> check_toml(std::string_view text) {
  auto t = parse(text);
  if (!t) return Unexpected{t.error()};
  return {};
}

Result<std::string> toml_set(std::string_view text, const std::vector<std::string>& path,
                             const TomlEntry& entry) {
  auto root = parse(text);
  if (!root) return Unexpected{root.error()};
  toml::table expected = *root;
  {
    toml::table* t = &expected;
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      toml::node* next = t->get(path[i]);
      if (next == nullptr) {
        t->insert_or_assign(path[i], toml::table{});
        next = t->get(path[i]);
      }
      if (next->as_table() == nullptr) {
        return fail(ErrorCode::kBadRequest, "'" + path[i] + "' is not a table");
      }
      t = next->as_table();
    }
    t->insert_or_assign(path.back(), entry_table(entry));
  }
  const std::string section = section_text(path, entry);
  toml::node* existing = find(*root, path);
  if (existing != nullptr) {
    if (const auto* t = existing->as_table(); t != nullptr && *t == entry_table(entry)) {
      return std::string(text);  // already exactly this: idempotent
    }
    auto c = cut(text, *root, path);
    if (!c) return Unexpected{c.error()};
    std::string out = c->first;
    out.insert(line_offset(out, c->second), section);
    return verified(std::move(out), expected);
  }
  std::string out(text);
  if (!out.empty() && out.back() != '\n') out += '\n';
  if (!out.empty()) out += '\n';
  out += section;
  return verified(std::move(out), expected);
}

Result<std::string> toml_remove(std::string_view text, const std::vector<std::string>& path) {
  auto root = parse(text);
  if (!root) return Unexpected{root.error()};
  if (find(*root, path) == nullptr) return std::string(text);
  toml::table expected = *root;
  {
    toml::table* parent = &expected;
    for (size_t i = 0; i + 1 < path.size(); ++i) parent = parent->get(path[i])->as_table();
    parent->erase(path.back());
  }
  auto c = cut(text, *root, path);
  if (!c) return Unexpected{c.error()};
  // Drop one blank line left where the table was, so install + uninstall restores the file.
  auto lines = split_lines(c->first);
  const size_t first = std::min(c->second, lines.size());
  const auto blank = [&](size_t i) {
    return lines[i].find_first_not_of(" \t\r\n") == std::string::npos;
  };
  if (first < lines.size() && blank(first) && (first == 0 || blank(first - 1))) {
    lines.erase(lines.begin() + static_cast<long>(first));
  } else if (first == lines.size() && first > 0 && blank(first - 1)) {
    lines.pop_back();
  }
  std::string out;
  for (const auto& l : lines) out += l;
  return verified(std::move(out), expected);
}

Result<std::optional<TomlEntry>> toml_get(std::string_view text,
                                          const std::vector<std::string>& path,
                                          const std::string& inline_key) {
  auto root = parse(text);
  if (!root) return Unexpected{root.error()};
  toml::node* n = find(*root, path);
  if (n == nullptr || n->as_table() == nullptr) return std::optional<TomlEntry>{};
  TomlEntry e;
  for (auto&& [k, v] : *n->as_table()) {
    const std::string key(k.str());
    if (auto s = v.value<std::string>()) {
      e.strings.emplace_back(key, *s);
    } else if (const auto* a = v.as_array()) {
      std::vector<std::string> items;
      for (auto&& item : *a) items.push_back(item.value<std::string>().value_or(""));
      e.arrays.emplace_back(key, std::move(items));
    } else if (const auto* t = v.as_table(); t != nullptr && key == inline_key) {
      e.inline_table_key = key;
      for (auto&& [ik, iv] : *t) {
        e.inline_table.emplace_back(std::string(ik.str()), iv.value<std::string>().value_or(""));
      }
    }
  }
  return std::optional<TomlEntry>(std::move(e));
}

}  // namespace c2c::clients
