#include "c2c/clients/jsonc_edit.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

namespace c2c::clients {

using nlohmann::ordered_json;

namespace {

constexpr size_t kNone = std::string_view::npos;
constexpr int kMaxDepth = 64;

struct Node;
struct Member {
  std::string key;
  size_t key_begin = 0;
  std::unique_ptr<Node> value;
  size_t comma = kNone;  // the ',' after the value, if any
};
struct Node {
  bool is_object = false;
  size_t begin = 0, end = 0;  // [begin, end) of the value's text
  std::vector<Member> members;
  ordered_json value;  // the parsed value (objects: filled while parsing)
};

class Parser {
 public:
  explicit Parser(std::string_view text) : t_(text) {}

  Result<std::unique_ptr<Node>> document() {
    skip();
    if (p_ == t_.size()) {  // an empty file is an empty object
      auto n = std::make_unique<Node>();
      n->is_object = true;
      n->value = ordered_json::object();
      n->begin = n->end = p_;
      return n;
    }
    auto n = value(0);
    if (!n) return n;
    skip();
    if (p_ != t_.size()) return error("unexpected text after the JSON value");
    return n;
  }

 private:
  Unexpected<> error(const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < p_ && i < t_.size(); ++i) {
      if (t_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return fail(ErrorCode::kBadRequest,
                "line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + what);
  }

  // Whitespace and comments.
  void skip() {
    while (p_ < t_.size()) {
      const char c = t_[p_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++p_;
      } else if (t_.compare(p_, 2, "//") == 0) {
        while (p_ < t_.size() && t_[p_] != '\n') ++p_;
      } else if (t_.compare(p_, 2, "/*") == 0) {
        const size_t e = t_.find("*/", p_ + 2);
        p_ = e == kNone ? t_.size() : e + 2;
      } else {
        return;
      }
    }
  }

  Result<std::unique_ptr<Node>> value(int depth) {
    if (depth > kMaxDepth) return error("nested deeper than 64 levels");
    skip();
    if (p_ >= t_.size()) return error("unexpected end of file, expected a value");
    auto n = std::make_unique<Node>();
    n->begin = p_;
    const char c = t_[p_];
    if (c == '{') {
      if (auto r = object(*n, depth); !r) return Unexpected{r.error()};
    } else if (c == '[') {
      if (auto r = array(*n, depth); !r) return Unexpected{r.error()};
    } else {
      if (auto r = scalar(*n); !r) return Unexpected{r.error()};
    }
    n->end = p_;
    return n;
  }

  Result<std::string> string_literal() {
    const size_t b = p_;
    if (p_ >= t_.size() || t_[p_] != '"') return error("expected a string");
    ++p_;
    while (p_ < t_.size() && t_[p_] != '"') {
      if (t_[p_] == '\\') ++p_;
      if (p_ < t_.size() && (t_[p_] == '\n')) return error("unterminated string");
      ++p_;
    }
    if (p_ >= t_.size()) return error("unterminated string");
    ++p_;
    const auto v = ordered_json::parse(t_.substr(b, p_ - b), nullptr, false);
    if (v.is_discarded() || !v.is_string()) {
      p_ = b;
      return error("invalid string");
    }
    return v.get<std::string>();
  }

  Result<void> scalar(Node& n) {
    if (t_[p_] == '"') {
      auto s = string_literal();
      if (!s) return Unexpected{s.error()};
      n.value = *s;
      return {};
    }
    const size_t b = p_;
    while (p_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[p_])) || t_[p_] == '-' ||
                              t_[p_] == '+' || t_[p_] == '.')) {
      ++p_;
    }
    if (p_ == b) return error(std::string("unexpected character '") + t_[p_] + "'");
    const auto v = ordered_json::parse(t_.substr(b, p_ - b), nullptr, false);
    if (v.is_discarded() || v.is_object() || v.is_array()) {
      p_ = b;
      return error("invalid value '" + std::string(t_.substr(b, std::min<size_t>(p_ - b, 20))) +
                   "'");
    }
    n.value = v;
    return {};
  }

  Result<void> object(Node& n, int depth) {
    n.is_object = true;
    n.value = ordered_json::object();
    ++p_;  // '{'
    skip();
    while (p_ < t_.size() && t_[p_] != '}') {
      Member m;
      m.key_begin = p_;
      auto key = string_literal();
      if (!key) return Unexpected{key.error()};
      m.key = *key;
      skip();
      if (p_ >= t_.size() || t_[p_] != ':') return error("expected ':' after an object key");
      ++p_;
      auto v = value(depth + 1);
      if (!v) return Unexpected{v.error()};
      m.value = std::move(*v);
      if (std::any_of(n.members.begin(), n.members.end(),
                      [&](const Member& o) { return o.key == m.key; })) {
        p_ = m.key_begin;
        return error("duplicate key \"" + m.key + "\"");
      }
      n.value[m.key] = m.value->value;
      skip();
      if (p_ < t_.size() && t_[p_] == ',') {
        m.comma = p_++;
        skip();
      } else if (p_ < t_.size() && t_[p_] != '}') {
        n.members.push_back(std::move(m));
        return error("expected ',' or '}' in an object");
      }
      n.members.push_back(std::move(m));
    }
    if (p_ >= t_.size()) return error("unexpected end of file, expected '}'");
    ++p_;  // '}'
    return {};
  }

  Result<void> array(Node& n, int depth) {
    n.value = ordered_json::array();
    ++p_;  // '['
    skip();
    while (p_ < t_.size() && t_[p_] != ']') {
      auto v = value(depth + 1);
      if (!v) return Unexpected{v.error()};
      n.value.push_back((*v)->value);
      skip();
      if (p_ < t_.size() && t_[p_] == ',') {
        ++p_;
        skip();
      } else if (p_ < t_.size() && t_[p_] != ']') {
        return error("expected ',' or ']' in an array");
      }
    }
    if (p_ >= t_.size()) return error("unexpected end of file, expected ']'");
    ++p_;  // ']'
    return {};
  }

  std::string_view t_;
  size_t p_ = 0;
};

// The whitespace before position `pos` on its line, when nothing else precedes it there.
std::string line_indent(std::string_view t, size_t pos) {
  size_t b = pos;
  while (b > 0 && (t[b - 1] == ' ' || t[b - 1] == '\t')) --b;
  if (b > 0 && t[b - 1] != '\n') return "";
  return std::string(t.substr(b, pos - b));
}

// The file's indentation step: the indentation of the first member of the root object, else
// two spaces.
std::string indent_unit(std::string_view t, const Node& root) {
  if (root.is_object && !root.members.empty()) {
    std::string ind = line_indent(t, root.members.front().key_begin);
    if (!ind.empty()) return ind;
  }
  return "  ";
}

// `value` as JSON, its lines after the first indented by `indent` + `unit` steps.
std::string render(const ordered_json& value, const std::string& indent, const std::string& unit) {
  const bool tabs = !unit.empty() && unit[0] == '\t';
  const std::string raw = value.dump(static_cast<int>(unit.size()), tabs ? '\t' : ' ');
  std::string out;
  for (const char c : raw) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

Result<std::unique_ptr<Node>> parse_tree(std::string_view text) {
  return Parser(text).document();
}

// Walks `path` as far as it exists; returns the deepest object reached and how many keys of
// the path it consumed.
Result<std::pair<const Node*, size_t>> walk(const Node& root,
                                            const std::vector<std::string>& path) {
  const Node* n = &root;
  size_t i = 0;
  for (; i < path.size(); ++i) {
    if (!n->is_object) break;
    const auto it = std::find_if(n->members.begin(), n->members.end(),
                                 [&](const Member& m) { return m.key == path[i]; });
    if (it == n->members.end()) break;
    n = it->value.get();
  }
  return std::make_pair(n, i);
}

// Checks that `text` parses to `expected`; an edit that does not is never written.
Result<std::string> verified(std::string text, const ordered_json& expected) {
  auto check = parse_jsonc(text);
  if (!check) {
    return fail(ErrorCode::kInternal,
                "the edited file would not parse (" + check.error().message + "); left unchanged");
  }
  if (*check != expected) {
    return fail(ErrorCode::kInternal,
                "the edit would change more than the c2c entry; left "
                "unchanged");
  }
  return text;
}

ordered_json* find_path(ordered_json& j, const std::vector<std::string>& path, size_t n) {
  ordered_json* cur = &j;
  for (size_t i = 0; i < n; ++i) {
    if (!cur->is_object() || !cur->contains(path[i])) return nullptr;
    cur = &(*cur)[path[i]];
  }
  return cur;
}

}  // namespace

Result<ordered_json> parse_jsonc(std::string_view text) {
  auto tree = parse_tree(text);
  if (!tree) return Unexpected{tree.error()};
  return (*tree)->value;
}

Result<std::string> jsonc_set(std::string_view text, const std::vector<std::string>& path,
                              const ordered_json& value) {
  auto tree = parse_tree(text);
  if (!tree) return Unexpected{tree.error()};
  const Node& root = **tree;
  if (!root.is_object) return fail(ErrorCode::kBadRequest, "the top level is not a JSON object");
  // The expected result, computed on the parsed value.
  ordered_json expected = root.value;
  {
    ordered_json* cur = &expected;
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      ordered_json& next = (*cur)[path[i]];
      if (next.is_null()) next = ordered_json::object();
      if (!next.is_object()) {
        return fail(ErrorCode::kBadRequest, "\"" + path[i] + "\" is not a JSON object");
      }
      cur = &next;
    }
    (*cur)[path.back()] = value;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return expected.dump(2) + "\n";
  }
  const std::string unit = indent_unit(text, root);
  auto walked = walk(root, path);
  if (!walked) return Unexpected{walked.error()};
  const auto [node, depth] = *walked;
  std::string out(text);
  if (depth == path.size()) {
    // The member exists: replace its value text.
    auto parent_walk = walk(root, {path.begin(), path.end() - 1});
    const Node* parent = parent_walk->first;
    const auto& m = *std::find_if(parent->members.begin(), parent->members.end(),
                                  [&](const Member& x) { return x.key == path.back(); });
    out.replace(node->begin, node->end - node->begin,
                render(value, line_indent(text, m.key_begin), unit));
    return verified(std::move(out), expected);
  }
  if (!node->is_object) {
    return fail(ErrorCode::kBadRequest, "\"" + path[depth - 1] + "\" is not a JSON object");
  }
  // Insert the missing part as a new member of `node`.
  ordered_json inserted = value;
  for (size_t i = path.size() - 1; i > depth; --i) inserted = ordered_json{{path[i], inserted}};
  const std::string key = ordered_json(path[depth]).dump();
  if (node->members.empty()) {
    const std::string outer = line_indent(text, node->begin);
    const std::string inner = outer + unit;
    std::string_view interior = text.substr(node->begin + 1, node->end - node->begin - 2);
    std::string member = "\n" + inner + key + ": " + render(inserted, inner, unit);
    if (is_blank(interior) || interior.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      out.replace(node->begin + 1, interior.size(), member + "\n" + outer);
    } else {
      out.insert(node->begin + 1, member);  // keeps the comments inside `{ }`
    }
    return verified(std::move(out), expected);
  }
  const Member& last = node->members.back();
  const std::string indent = line_indent(text, last.key_begin);
  std::string member;
  if (indent.empty() &&
      text.substr(node->begin, last.key_begin - node->begin).find('\n') == std::string_view::npos) {
    member = " " + key + ": " + render(inserted, "", unit);  // a one-line object stays one line
  } else {
    member = "\n" + indent + key + ": " + render(inserted, indent, unit);
  }
  if (last.comma != kNone) {
    out.insert(last.comma + 1, member);  // after a trailing comma (JSONC)
  } else {
    out.insert(last.value->end, "," + member);
  }
  return verified(std::move(out), expected);
}

Result<std::string> jsonc_remove(std::string_view text, const std::vector<std::string>& path) {
  auto tree = parse_tree(text);
  if (!tree) return Unexpected{tree.error()};
  const Node& root = **tree;
  auto walked = walk(root, {path.begin(), path.end() - 1});
  if (!walked) return Unexpected{walked.error()};
  const auto [parent, depth] = *walked;
  if (depth + 1 != path.size() || !parent->is_object) return std::string(text);
  const auto it = std::find_if(parent->members.begin(), parent->members.end(),
                               [&](const Member& m) { return m.key == path.back(); });
  if (it == parent->members.end()) return std::string(text);
  ordered_json expected = root.value;
  find_path(expected, path, path.size() - 1)->erase(path.back());

  std::string out(text);
  const size_t i = static_cast<size_t>(it - parent->members.begin());
  const Member& m = *it;
  if (parent->members.size() == 1) {
    out.replace(parent->begin + 1, parent->end - parent->begin - 2, "");
  } else if (i + 1 < parent->members.size()) {
    // Not the last member: from the start of its line (when it starts one) through its comma
    // and the rest of that line.
    size_t b = m.key_begin;
    const std::string ind = line_indent(text, b);
    const bool own_line = !ind.empty() || (b > 0 && text[b - 1] == '\n');
    if (own_line) b -= ind.size();
    size_t e = m.comma + 1;
    const size_t nl = text.find('\n', e);
    if (own_line && nl != kNone && is_blank(text.substr(e, nl - e))) {
      e = nl + 1;
    } else {
      while (e < text.size() && (text[e] == ' ' || text[e] == '\t')) ++e;
    }
    out.erase(b, e - b);
  } else {
    // The last member: from the previous member's comma through this value (and its own
    // trailing comma, if any).
    const Member& prev = parent->members[i - 1];
    const size_t b = prev.comma;
    const size_t e = m.comma != kNone ? m.comma + 1 : m.value->end;
    out.erase(b, e - b);
  }
  return verified(std::move(out), expected);
}

}  // namespace c2c::clients
