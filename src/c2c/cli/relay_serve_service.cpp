// `c2c relay serve --print-service [serve flags]`: a systemd system unit that runs the relay
// with the given flags (docs/relay-server.md "Running the relay as a system service").
#include <filesystem>
#include <iostream>

#include "c2c/cli/cli_common.hpp"
#include "c2c/core/service_unit.hpp"
#include "c2c/core/text.hpp"

namespace c2c::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kStateDir = "/var/lib/c2c";

bool given(const CLI::App& cmd, const std::string& name) {
  const CLI::Option* opt = cmd.get_option_no_throw(name);
  return opt != nullptr && opt->count() > 0;
}

std::string first_result(const CLI::App& cmd, const std::string& name) {
  const CLI::Option* opt = cmd.get_option_no_throw(name);
  return opt != nullptr && !opt->results().empty() ? opt->results().front() : std::string();
}

}  // namespace

void print_serve_service(const CLI::App& cmd) {
  if (given(cmd, "--token")) {
    exit_with_error(
        "--print-service does not write tokens into unit files: pass --token-file FILE (the "
        "unit hands it to the relay as a systemd credential)",
        kExitUsage);
  }
  ServiceUnit u;
  u.comments = {"c2c relay server; written by `c2c relay serve --print-service`.",
                "Install: save as /etc/systemd/system/c2c-relay.service, then",
                "  systemctl daemon-reload && systemctl enable --now c2c-relay.service",
                "State (SQLite database, relay identity) lives in /var/lib/c2c."};
  u.description = "c2c relay server";
  u.unit = {{"After", "network-online.target"}, {"Wants", "network-online.target"}};
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) exit_with_error("cannot locate the running c2c binary: " + ec.message());
  u.exec = {self.string(), "relay", "serve"};
  std::vector<std::string> writable;
  // Repeat every flag given (except the token ones and this one), paths made absolute.
  for (const CLI::Option* opt : cmd.get_options()) {
    if (opt->count() == 0) continue;
    const std::string name = opt->get_name();
    if (name == "--print-service" || name == "--token" || name == "--token-file" ||
        name == "--help") {
      continue;
    }
    if (opt->get_expected_min() == 0) {  // a flag
      u.exec.push_back(name);
      continue;
    }
    for (const auto& value : opt->results()) {
      u.exec.push_back(name);
      const bool path = name == "--db-path" || name == "--persist-dir" || name == "--tls-cert" ||
                        name == "--tls-key" || name == "--allowed-identities";
      u.exec.push_back(path ? fs::absolute(value).lexically_normal().string() : value);
      if (name == "--db-path" && !starts_with(u.exec.back(), kStateDir)) {
        writable.push_back(fs::path(u.exec.back()).parent_path().string());
      }
      if (name == "--persist-dir" && !starts_with(u.exec.back(), kStateDir)) {
        writable.push_back(u.exec.back());
      }
    }
  }
  // A service keeps its state: SQLite in the state directory unless told otherwise.
  if (!given(cmd, "--storage")) {
    u.exec.insert(u.exec.end(), {"--storage", "sqlite"});
    if (!given(cmd, "--db-path")) {
      u.exec.insert(u.exec.end(), {"--db-path", std::string(kStateDir) + "/relay.db"});
    }
  }
  if (!given(cmd, "--gc-interval")) u.exec.insert(u.exec.end(), {"--gc-interval", "300"});
  u.service = {{"Type", "simple"},
               {"DynamicUser", "yes"},
               {"StateDirectory", "c2c"},
               {"WorkingDirectory", kStateDir}};
  if (given(cmd, "--token-file")) {
    const std::string token_file =
        fs::absolute(first_result(cmd, "--token-file")).lexically_normal().string();
    // The token reaches the relay as a credential only it can read (mode 0400, its own user).
    u.service.emplace_back("LoadCredential", "relay-token:" + token_file);
    u.exec_raw = {"--token-file", "${CREDENTIALS_DIRECTORY}/relay-token"};
  } else {
    u.comments.emplace_back("No --token-file was given: this relay runs in dev mode (no auth).");
  }
  for (const auto& dir : writable) u.service.emplace_back("ReadWritePaths", dir);
  const std::vector<std::pair<std::string, std::string>> hardening = {
      {"Restart", "on-failure"},
      {"RestartSec", "2"},
      {"LimitNOFILE", "65536"},
      {"NoNewPrivileges", "yes"},
      {"ProtectSystem", "strict"},
      {"ProtectHome", "yes"},
      {"PrivateTmp", "yes"},
      {"PrivateDevices", "yes"},
      {"ProtectKernelTunables", "yes"},
      {"ProtectKernelModules", "yes"},
      {"ProtectControlGroups", "yes"},
      {"RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
      {"RestrictNamespaces", "yes"},
      {"LockPersonality", "yes"},
      {"SystemCallArchitectures", "native"},
      {"CapabilityBoundingSet", ""}};
  u.service.insert(u.service.end(), hardening.begin(), hardening.end());
  u.wanted_by = "multi-user.target";
  std::cout << render_unit(u) << std::flush;
}

}  // namespace c2c::cli
