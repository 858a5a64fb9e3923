// `c2c doctor`: one line per check of this machine's c2c install (binary, directories and file
// modes, relay reachability and clock, every installed client's entry answering an MCP
// initialize), each ✗ with its fix; --json; exit 1 when something is broken (docs/cli.md).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>

#include "c2c/broker/broker.hpp"
#include "c2c/cli/cli_common.hpp"
#include "c2c/cli/relay_cli.hpp"
#include "c2c/clients/clients.hpp"
#include "c2c/core/env.hpp"
#include "c2c/core/version.hpp"

namespace c2c::cli {
namespace fs = std::filesystem;

namespace {

struct Check {
  std::string name;
  bool ok = true;
  std::string detail;
  std::string fix;  // only for a failed check
};

std::optional<fs::path> on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::string p = path;
  size_t b = 0;
  while (b <= p.size()) {
    const size_t e = std::min(p.find(':', b), p.size());
    const fs::path cand = fs::path(p.substr(b, e - b)) / name;
    if (::access(cand.c_str(), X_OK) == 0) return cand;
    b = e + 1;
  }
  return std::nullopt;
}

std::string mode_text(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", m & 07777);
  return buf;
}

Check binary_check() {
  Check c{"binary", true, "", ""};
  const auto found = on_path("c2c");
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!found) {
    c.ok = false;
    c.detail = "c2c is not on PATH (running " + self.string() + ", version " + kVersion + ")";
    c.fix = "run 'c2c install self' and add ~/.local/bin to PATH";
    return c;
  }
  c.detail = found->string() + " (this is c2c " + std::string(kVersion) + ")";
  if (!fs::equivalent(*found, self, ec)) {
    c.detail = found->string() + " is another binary than the running " + self.string();
  }
  return c;
}

// A permission check of `path`: fails (with `fix`) when its mode has any bit of `forbidden`;
// `missing` says what a path that does not exist means.
Check mode_check(const std::string& name, const fs::path& path, mode_t forbidden,
                 const std::string& fix, const std::function<void(Check&)>& missing) {
  Check c{name, true, path.string(), ""};
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    missing(c);
    return c;
  }
  c.detail = path.string() + " (" + mode_text(st.st_mode) + ")";
  if ((st.st_mode & forbidden) != 0) {
    c.ok = false;
    c.fix = fix + " " + path.string();
  }
  return c;
}

// A directory c2c keeps state in must not be writable by others.
Check dir_check(const std::string& name, const fs::path& dir, bool required) {
  return mode_check(name, dir, 0022, "chmod go-w", [&](Check& c) {
    c.ok = !required;
    c.detail = dir.string() + " does not exist" + (required ? "" : " (created on first use)");
    if (required) c.fix = "create it: mkdir -p -m 700 " + dir.string();
  });
}

// A secret (identity key, token, relay.json with a token) must be readable by its owner only.
Check secret_check(const std::string& name, const fs::path& file) {
  return mode_check(name, file, 0077, "chmod 600",
                    [&](Check& c) { c.detail = file.string() + " absent (not needed yet)"; });
}

// Starts `command args` with the entry's environment and waits (5 s) for its answer to an MCP
// initialize: the same thing the client does when it starts the server.
std::string mcp_handshake(const clients::InstalledEntry& e) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return "cannot create pipes";
  const pid_t pid = ::fork();
  if (pid < 0) return "cannot fork";
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, 2);
    for (const auto& [k, v] : e.env) ::setenv(k.c_str(), v.c_str(), 1);
    // A handshake check must not register anyone: the probe process is its own client.
    ::unsetenv("C2C_MCP_AUTO_REGISTER_ALIAS");
    ::unsetenv("C2C_MCP_AUTO_JOIN_ROOMS");
    std::vector<std::string> argv_s{e.command};
    argv_s.insert(argv_s.end(), e.args.begin(), e.args.end());
    std::vector<char*> argv;
    argv.reserve(argv_s.size() + 1);
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  const std::string init =
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",)"
      R"("capabilities":{},"clientInfo":{"name":"c2c-doctor","version":"1"}}})"
      "\n";
  const bool wrote = ::write(in[1], init.data(), init.size()) == static_cast<ssize_t>(init.size());
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (wrote && got.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(in[1]);
  ::close(out[0]);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (got.find('\n') == std::string::npos) return "no answer to initialize within 5 s";
  const auto j = nlohmann::json::parse(got.substr(0, got.find('\n')), nullptr, false);
  if (!j.is_object() || !j.contains("result") ||
      j["result"].value("serverInfo", nlohmann::json::object()).value("name", "") != "c2c") {
    return "unexpected answer: " + got.substr(0, 200);
  }
  return "";
}

std::vector<Check> client_checks() {
  std::vector<Check> checks;
  clients::Locations loc;
  const char* home = std::getenv("HOME");
  if (home == nullptr) return checks;
  loc.home = home;
  loc.project = fs::current_path();
  if (const char* v = std::getenv("CODEX_HOME"); v && *v) loc.codex_home = fs::path(v);
  if (auto v = env_non_blank(process_env(), "XDG_CONFIG_HOME")) loc.xdg_config_home = fs::path(*v);
  for (clients::Client client : clients::all_clients()) {
    for (clients::Scope scope : {clients::Scope::kUser, clients::Scope::kProject}) {
      const std::string name = std::string("client ") + clients::client_name(client) +
                               (scope == clients::Scope::kUser ? " (user)" : " (project)");
      auto entry = clients::read_installed(client, scope, loc);
      const std::string reinstall = std::string("c2c install ") + clients::client_name(client) +
                                    (scope == clients::Scope::kProject ? " --scope project" : "");
      if (!entry) {
        checks.push_back({name, false, entry.error().message, "fix the file, then " + reinstall});
        continue;
      }
      if (!entry->has_value()) continue;  // not installed there: nothing to check
      const auto& e = **entry;
      Check c{name, true, e.path.string() + " -> " + e.command, ""};
      if (e.args != std::vector<std::string>{"mcp"}) {
        c.ok = false;
        c.detail = e.path.string() + ": args are not [\"mcp\"]";
      } else if (const std::string problem = mcp_handshake(e); !problem.empty()) {
        c.ok = false;
        c.detail = e.path.string() + ": " + e.command + " mcp: " + problem;
      }
      if (!c.ok) c.fix = reinstall;
      checks.push_back(std::move(c));
    }
  }
  return checks;
}

std::vector<Check> relay_checks() {
  using namespace relay_cli;
  std::vector<Check> checks;
  relay::Resolved r;
  try {
    r = resolve(ConnOptions{});
  } catch (const CliError& e) {
    checks.push_back({"relay config", false, e.what(), "fix it with 'c2c relay setup'"});
    return checks;
  }
  if (r.config_path) checks.push_back(secret_check("relay config", *r.config_path));
  checks.push_back(secret_check("identity", r.identity_path));
  if (r.url.empty()) {
    checks.push_back({"relay", true, "not configured (local only)", ""});
    return checks;
  }
  std::optional<crypto::Identity> identity;
  try {
    identity = load_identity(r, false);
  } catch (const CliError& e) {
    checks.push_back({"identity", false, e.what(), "chmod 600 " + r.identity_path.string()});
  }
  const bool has_identity = identity.has_value();
  auto client = make_client(r, std::move(identity), ClientTimeouts{5'000, 5'000});
  auto health = client.health();
  if (!health || !health->ok()) {
    checks.push_back(
        {"relay", false,
         r.url + " unreachable: " + (health ? health->describe() : health.error().message),
         "start the relay or fix the URL: c2c relay setup --relay-url URL"});
    return checks;
  }
  checks.push_back({"relay", true, r.url + " reachable", ""});
  const std::string mode = health->body.value("auth_mode", "");
  if (!has_identity || mode != "prod") {
    checks.push_back({"clock", true,
                      "not measured (needs an identity and a prod relay: it checks signed "
                      "request times)",
                      ""});
    return checks;
  }
  // The relay checks a signed request's time before anything else: a refusal for the window
  // names the skew.
  auto signed_list = client.list_peers("c2c-doctor");
  if (signed_list && signed_list->error_code() == "timestamp_out_of_window") {
    checks.push_back({"clock", false, signed_list->error_text(),
                      "synchronize this machine's clock (e.g. enable NTP: timedatectl "
                      "set-ntp true)"});
  } else {
    checks.push_back({"clock", true, "within the relay's signed-request window", ""});
  }
  return checks;
}

void doctor(bool json) {
  std::vector<Check> checks;
  checks.push_back(binary_check());
  checks.push_back(dir_check("broker root", broker::resolve_root(), false));
  if (const char* home = std::getenv("HOME")) {
    checks.push_back(dir_check("config dir", fs::path(home) / ".config" / "c2c", false));
  }
  for (auto& c : relay_checks()) checks.push_back(std::move(c));
  for (auto& c : client_checks()) checks.push_back(std::move(c));
  bool broken = false;
  for (const auto& c : checks) broken = broken || !c.ok;
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : checks) {
      nlohmann::json item{{"check", c.name}, {"ok", c.ok}, {"detail", c.detail}};
      if (!c.ok) item["fix"] = c.fix;
      list.push_back(std::move(item));
    }
    print_json({{"ok", !broken}, {"checks", list}});
  } else {
    for (const auto& c : checks) {
      std::cout << (c.ok ? "✓ " : "✗ ") << c.name << ": " << c.detail;
      if (!c.ok && !c.fix.empty()) std::cout << " — fix: " << c.fix;
      std::cout << "\n";
    }
  }
  if (broken) exit_with_error("doctor found problems (see the ✗ lines)");
}

}  // namespace

void register_doctor_command(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("doctor", "Check this machine's c2c install, one line per check");
  add_json_flag(*cmd, *json);
  cmd->callback([json] { doctor(*json); });
}

}  // namespace c2c::cli
