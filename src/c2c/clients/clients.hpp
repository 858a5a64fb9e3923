#pragma once
// `c2c install <client>` / `c2c uninstall <client>`: where each agent client (Claude Code,
// Codex, OpenCode, Gemini CLI) keeps its MCP servers, the c2c entry in that client's own format,
// and the file changes that add or remove it (docs/clients.md). Planning is pure (text in, text
// out); apply() writes each file with a backup and an atomic replace.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "c2c/core/result.hpp"

namespace c2c::clients {

namespace fs = std::filesystem;

enum class Client { kClaude, kCodex, kOpenCode, kGemini };
enum class Scope { kUser, kProject };

// "claude", "codex", "opencode", "gemini".
const char* client_name(Client c);
std::optional<Client> parse_client(std::string_view name);
const std::vector<Client>& all_clients();

struct Locations {
  fs::path home;
  fs::path project;                         // the project directory (project scope): the cwd
  std::optional<fs::path> codex_home;       // $CODEX_HOME
  std::optional<fs::path> xdg_config_home;  // $XDG_CONFIG_HOME
};

struct InstallOptions {
  Client client = Client::kClaude;
  Scope scope = Scope::kUser;
  std::string command;             // the c2c binary the client starts (absolute path)
  std::string alias;               // C2C_MCP_AUTO_REGISTER_ALIAS; empty: the client's name
  std::vector<std::string> rooms;  // C2C_MCP_AUTO_JOIN_ROOMS
  std::string broker_root;         // C2C_MCP_BROKER_ROOT; empty: the default
  bool hook = false;               // Claude Code: the PostToolUse mail hook
};

// The config file install edits for a client and scope. Fails for a scope the client lacks.
Result<fs::path> config_path(Client c, Scope s, const Locations& loc);

// The environment install gives the server (in this order).
std::vector<std::pair<std::string, std::string>> server_env(const InstallOptions& o);

struct FileChange {
  fs::path path;
  bool existed = false;
  std::string before;
  std::string after;
};

struct Plan {
  std::vector<FileChange> changes;  // only files whose text changes
  std::vector<std::string> notes;   // what the user should know (one line each)
};

// The changes that install / uninstall c2c for o.client. A file that cannot be parsed is
// refused: "cannot parse ~/.claude.json: line 3, column 7: ... (fix or move it, then retry)".
Result<Plan> plan_install(const InstallOptions& o, const Locations& loc);
Result<Plan> plan_uninstall(const InstallOptions& o, const Locations& loc);

// Writes every change: the previous file is kept as <file>.c2c-backup, the new text goes to a
// temporary file in the same directory that is renamed over the file (never half-written).
// The file mode of an existing file is kept; new files are 0600 (they may hold tokens).
Result<void> apply(const Plan& plan);

// A readable description of the plan for --dry-run: per file, the lines removed and added.
std::string describe(const Plan& plan);

// The c2c server entry as the client's config holds it (command, args, env), read back from
// the file; nullopt when there is none. For doctor.
struct InstalledEntry {
  fs::path path;
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
};
Result<std::optional<InstalledEntry>> read_installed(Client c, Scope s, const Locations& loc);

// The Claude Code hook command line install --hook writes: `[C2C_MCP_BROKER_ROOT=..] c2c
// mail-hook`, shell-quoted.
std::string hook_command(const InstallOptions& o);

}  // namespace c2c::clients
