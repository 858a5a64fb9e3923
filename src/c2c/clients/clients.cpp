#include "c2c/clients/clients.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "c2c/clients/jsonc_edit.hpp"
#include "c2c/clients/toml_edit.hpp"
#include "c2c/core/secret_file.hpp"

namespace c2c::clients {

using nlohmann::ordered_json;

namespace {

const std::vector<std::string> kMcpServersPath = {"mcpServers", "c2c"};  // Claude, Gemini
const std::vector<std::string> kOpenCodePath = {"mcp", "c2c"};
const std::vector<std::string> kCodexPath = {"mcp_servers", "c2c"};
const std::vector<std::string> kHookPath = {"hooks", "PostToolUse"};
constexpr const char* kHookSuffix = " mail-hook";
// Codex passes only a fixed set of variables to MCP servers; this one is named explicitly.
constexpr const char* kCodexSessionVariable = "CODEX_THREAD_ID";

Result<std::optional<std::string>> read_file(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::optional<std::string>{};
  std::ifstream in(p, std::ios::binary);
  if (!in) return fail(ErrorCode::kIo, "cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return std::optional<std::string>(ss.str());
}

fs::path opencode_file(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "opencode.jsonc", ec)) return dir / "opencode.jsonc";
  return dir / "opencode.json";
}

fs::path claude_settings(Scope s, const Locations& loc) {
  return s == Scope::kUser ? loc.home / ".claude" / "settings.json"
                           : loc.project / ".claude" / "settings.json";
}

ordered_json env_object(const InstallOptions& o) {
  ordered_json env = ordered_json::object();
  for (const auto& [k, v] : server_env(o)) env[k] = v;
  return env;
}

// The entry in a JSON client's own shape.
ordered_json json_entry(const InstallOptions& o) {
  switch (o.client) {
    case Client::kClaude:
      return {{"type", "stdio"}, {"command", o.command}, {"args", {"mcp"}}, {"env", env_object(o)}};
    case Client::kGemini:
      return {{"command", o.command}, {"args", {"mcp"}}, {"env", env_object(o)}};
    case Client::kOpenCode:
      return {{"type", "local"},
              {"command", {o.command, "mcp"}},
              {"environment", env_object(o)},
              {"enabled", true}};
    case Client::kCodex:
      break;
  }
  return nullptr;
}

TomlEntry codex_entry(const InstallOptions& o) {
  TomlEntry e;
  e.strings = {{"command", o.command}};
  e.arrays = {{"args", {"mcp"}}, {"env_vars", {kCodexSessionVariable}}};
  e.inline_table_key = "env";
  e.inline_table = server_env(o);
  return e;
}

const std::vector<std::string>& json_path(Client c) {
  return c == Client::kOpenCode ? kOpenCodePath : kMcpServersPath;
}

Unexpected<> unparsable(const fs::path& p, const Error& e) {
  return fail(ErrorCode::kBadRequest, "cannot parse " + p.string() + ": " + e.message +
                                          " (fix or move the file, then retry)");
}

// The new PostToolUse list: without c2c's hook, plus it when `add`.
Result<ordered_json> hook_list(const ordered_json& settings, const InstallOptions& o, bool add) {
  ordered_json list = ordered_json::array();
  if (settings.contains("hooks") && settings["hooks"].is_object() &&
      settings["hooks"].contains("PostToolUse")) {
    const ordered_json& old = settings["hooks"]["PostToolUse"];
    if (!old.is_array()) return fail(ErrorCode::kBadRequest, "hooks.PostToolUse is not a list");
    for (const auto& group : old) {
      bool ours = false;
      if (group.is_object() && group.contains("hooks") && group["hooks"].is_array()) {
        for (const auto& h : group["hooks"]) {
          const std::string cmd = h.is_object() ? h.value("command", "") : "";
          ours = ours || (cmd.size() >= std::string(kHookSuffix).size() &&
                          cmd.find(kHookSuffix) != std::string::npos);
        }
      }
      if (!ours) list.push_back(group);
    }
  }
  if (add) {
    // Not after c2c's own tools: their results already carry the mail.
    list.push_back({{"matcher", "^(?!mcp__c2c__).*"},
                    {"hooks", {{{"type", "command"}, {"command", hook_command(o)}}}}});
  }
  return list;
}

Result<void> add_change(Plan& plan, const fs::path& path, const std::optional<std::string>& before,
                        std::string after) {
  if (before && *before == after) return {};
  if (!before && after.empty()) return {};
  plan.changes.push_back({path, before.has_value(), before.value_or(""), std::move(after)});
  return {};
}

Result<Plan> plan(const InstallOptions& o, const Locations& loc, bool install) {
  auto path = config_path(o.client, o.scope, loc);
  if (!path) return Unexpected{path.error()};
  auto before = read_file(*path);
  if (!before) return Unexpected{before.error()};
  const std::string text = before->value_or("");
  Plan p;
  std::string after;
  if (o.client == Client::kCodex) {
    if (auto ok = check_toml(text); !ok) return unparsable(*path, ok.error());
    auto r = install ? toml_set(text, kCodexPath, codex_entry(o)) : toml_remove(text, kCodexPath);
    if (!r) return fail(ErrorCode::kBadRequest, path->string() + ": " + r.error().message);
    after = std::move(*r);
  } else {
    if (auto ok = parse_jsonc(text); !ok) return unparsable(*path, ok.error());
    std::string base = text;
    if (install && o.client == Client::kOpenCode && !before->has_value()) {
      base = "{\n  \"$schema\": \"https://opencode.ai/config.json\"\n}\n";
    }
    auto r = install ? jsonc_set(base, json_path(o.client), json_entry(o))
                     : jsonc_remove(text, json_path(o.client));
    if (!r) return fail(ErrorCode::kBadRequest, path->string() + ": " + r.error().message);
    after = std::move(*r);
    // Uninstall also drops the servers object when c2c was its only entry (install created it),
    // so install + uninstall gives the original file back.
    const std::string parent = json_path(o.client).front();
    if (!install && after != text) {
      auto j = parse_jsonc(after);
      if (j && j->contains(parent) && (*j)[parent].is_object() && (*j)[parent].empty()) {
        if (auto dropped = jsonc_remove(after, {parent}); dropped) after = std::move(*dropped);
      }
    }
  }
  if (!install && !before->has_value()) after.clear();
  if (auto r = add_change(p, *path, *before, std::move(after)); !r) return Unexpected{r.error()};

  // Claude Code's mail hook lives in its settings file, not next to the server entry.
  if (o.client == Client::kClaude && (o.hook || !install)) {
    const fs::path settings_path = claude_settings(o.scope, loc);
    auto sb = read_file(settings_path);
    if (!sb) return Unexpected{sb.error()};
    const std::string stext = sb->value_or("");
    auto settings = parse_jsonc(stext);
    if (!settings) return unparsable(settings_path, settings.error());
    auto list = hook_list(*settings, o, install);
    if (!list)
      return fail(ErrorCode::kBadRequest, settings_path.string() + ": " + list.error().message);
    const bool had = settings->contains("hooks") && (*settings)["hooks"].is_object() &&
                     (*settings)["hooks"].contains("PostToolUse");
    const bool same = had && (*settings)["hooks"]["PostToolUse"] == *list;
    if ((install || had) && !same) {
      auto r = list->empty() && had ? jsonc_remove(stext, kHookPath)
                                    : jsonc_set(stext, kHookPath, *list);
      if (!r)
        return fail(ErrorCode::kBadRequest, settings_path.string() + ": " + r.error().message);
      if (auto a = add_change(p, settings_path, *sb, std::move(*r)); !a)
        return Unexpected{a.error()};
    }
  }
  if (install) {
    if (o.client == Client::kClaude && o.scope == Scope::kProject) {
      p.notes.emplace_back("Claude Code asks once before it uses a project's .mcp.json server.");
    }
    if (o.client == Client::kGemini) {
      p.notes.emplace_back("Gemini CLI starts MCP servers only in trusted folders (/permissions).");
    }
  }
  return p;
}

std::string mode_note(const fs::path& p) {
  return p.string();
}

}  // namespace

// A switch, not a table: -Wswitch names a Client added without a name.
const char* client_name(Client c) {
  switch (c) {
    case Client::kClaude:
      return "claude";
    case Client::kCodex:
      return "codex";
    case Client::kOpenCode:
      return "opencode";
    case Client::kGemini:
      return "gemini";
  }
  return "?";
}

std::optional<Client> parse_client(std::string_view name) {
  for (Client c : all_clients()) {
    if (name == client_name(c)) return c;
  }
  return std::nullopt;
}

const std::vector<Client>& all_clients() {
  static const std::vector<Client> kAll = {Client::kClaude, Client::kCodex, Client::kOpenCode,
                                           Client::kGemini};
  return kAll;
}

Result<fs::path> config_path(Client c, Scope s, const Locations& loc) {
  switch (c) {
    case Client::kClaude:
      return s == Scope::kUser ? loc.home / ".claude.json" : loc.project / ".mcp.json";
    case Client::kCodex:
      if (s == Scope::kProject) {
        return fail(ErrorCode::kBadRequest,
                    "codex keeps MCP servers only in $CODEX_HOME/config.toml: use --scope user");
      }
      return loc.codex_home.value_or(loc.home / ".codex") / "config.toml";
    case Client::kOpenCode:
      return opencode_file(s == Scope::kUser
                               ? loc.xdg_config_home.value_or(loc.home / ".config") / "opencode"
                               : loc.project);
    case Client::kGemini:
      return s == Scope::kUser ? loc.home / ".gemini" / "settings.json"
                               : loc.project / ".gemini" / "settings.json";
  }
  return fail(ErrorCode::kBadRequest, "unknown client");
}

std::vector<std::pair<std::string, std::string>> server_env(const InstallOptions& o) {
  std::vector<std::pair<std::string, std::string>> env;
  env.emplace_back("C2C_MCP_CLIENT_TYPE", client_name(o.client));
  env.emplace_back("C2C_MCP_AUTO_REGISTER_ALIAS",
                   o.alias.empty() ? client_name(o.client) : o.alias);
  if (!o.rooms.empty()) {
    std::string rooms;
    for (const auto& r : o.rooms) rooms += (rooms.empty() ? "" : ",") + r;
    env.emplace_back("C2C_MCP_AUTO_JOIN_ROOMS", rooms);
  }
  if (!o.broker_root.empty()) env.emplace_back("C2C_MCP_BROKER_ROOT", o.broker_root);
  return env;
}

Result<Plan> plan_install(const InstallOptions& o, const Locations& loc) {
  return plan(o, loc, true);
}

Result<Plan> plan_uninstall(const InstallOptions& o, const Locations& loc) {
  return plan(o, loc, false);
}

Result<void> apply(const Plan& plan) {
  for (const auto& c : plan.changes) {
    std::error_code ec;
    fs::create_directories(c.path.parent_path(), ec);
    if (ec)
      return fail(ErrorCode::kIo,
                  "cannot create " + c.path.parent_path().string() + ": " + ec.message());
    mode_t mode = 0600;
    if (c.existed) {
      struct stat st {};
      if (::stat(c.path.c_str(), &st) == 0) mode = st.st_mode & 07777;
      const fs::path backup = c.path.string() + ".c2c-backup";
      fs::copy_file(c.path, backup, fs::copy_options::overwrite_existing, ec);
      if (ec)
        return fail(ErrorCode::kIo, "cannot back up " + c.path.string() + ": " + ec.message());
    }
    C2C_TRY(replace_file(c.path, c.after, mode));  // the kept mode, whatever the umask
  }
  return {};
}

std::string describe(const Plan& plan) {
  std::string out;
  const auto lines = [](const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    std::string l;
    while (std::getline(ss, l)) v.push_back(l);
    return v;
  };
  for (const auto& c : plan.changes) {
    out += (c.existed ? "--- " : "--- (new file) ") + mode_note(c.path) + "\n";
    const auto a = lines(c.before);
    const auto b = lines(c.after);
    // Common prefix and suffix stay out; the middle is shown as removed / added lines.
    size_t pre = 0;
    while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
    size_t suf = 0;
    while (suf < a.size() - pre && suf < b.size() - pre &&
           a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) {
      ++suf;
    }
    for (size_t i = pre; i < a.size() - suf; ++i) out += "-" + a[i] + "\n";
    for (size_t i = pre; i < b.size() - suf; ++i) out += "+" + b[i] + "\n";
  }
  return out;
}

Result<std::optional<InstalledEntry>> read_installed(Client c, Scope s, const Locations& loc) {
  auto path = config_path(c, s, loc);
  if (!path) return std::optional<InstalledEntry>{};
  auto text = read_file(*path);
  if (!text) return Unexpected{text.error()};
  if (!text->has_value()) return std::optional<InstalledEntry>{};
  InstalledEntry e;
  e.path = *path;
  if (c == Client::kCodex) {
    auto t = toml_get(**text, kCodexPath, "env");
    if (!t) return unparsable(*path, t.error());
    if (!t->has_value()) return std::optional<InstalledEntry>{};
    for (const auto& [k, v] : (*t)->strings) {
      if (k == "command") e.command = v;
    }
    for (const auto& [k, v] : (*t)->arrays) {
      if (k == "args") e.args = v;
    }
    e.env = (*t)->inline_table;
    return std::optional<InstalledEntry>(std::move(e));
  }
  auto j = parse_jsonc(**text);
  if (!j) return unparsable(*path, j.error());
  const ordered_json* cur = &*j;
  for (const auto& k : json_path(c)) {
    if (!cur->is_object() || !cur->contains(k)) return std::optional<InstalledEntry>{};
    cur = &(*cur)[k];
  }
  const std::string env_key = c == Client::kOpenCode ? "environment" : "env";
  if (c == Client::kOpenCode) {
    const auto cmd = cur->value("command", ordered_json::array());
    for (size_t i = 0; cmd.is_array() && i < cmd.size(); ++i) {
      if (!cmd[i].is_string()) continue;
      if (i == 0) {
        e.command = cmd[i];
      } else {
        e.args.push_back(cmd[i]);
      }
    }
  } else {
    e.command = cur->value("command", "");
    for (const auto& a : cur->value("args", ordered_json::array())) {
      if (a.is_string()) e.args.push_back(a);
    }
  }
  const ordered_json env = cur->value(env_key, ordered_json::object());  // items() needs an lvalue
  for (const auto& [k, v] : env.items()) {
    if (v.is_string()) e.env.emplace_back(k, v.get<std::string>());
  }
  return std::optional<InstalledEntry>(std::move(e));
}

std::string hook_command(const InstallOptions& o) {
  const auto quote = [](const std::string& v) {
    if (v.find_first_of(" '\"$\\`;&|<>()*?[]#~") == std::string::npos && !v.empty()) return v;
    std::string q = "'";
    for (char ch : v) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
  };
  std::string cmd;
  if (!o.broker_root.empty()) cmd = "C2C_MCP_BROKER_ROOT=" + quote(o.broker_root) + " ";
  return cmd + quote(o.command) + kHookSuffix;
}

}  // namespace c2c::clients
