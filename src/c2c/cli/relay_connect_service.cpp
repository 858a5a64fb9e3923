// The managed connector: --daemon, --status, --stop, --install-service (see the header).
#include "c2c/cli/relay_connect_service.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "c2c/broker/broker.hpp"
#include "c2c/core/env.hpp"
#include "c2c/core/service_unit.hpp"
#include "c2c/core/text.hpp"

namespace c2c::cli::relay_cli {

namespace fs = std::filesystem;

namespace {

constexpr int kExitNotRunning = 3;  // as `systemctl status` / LSB status: program not running
constexpr double kStopTimeoutSeconds = 15;
constexpr const char* kUnitName = "c2c-relay-connector.service";

double now_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

fs::path self_exe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) exit_with_error("cannot locate the running c2c binary: " + ec.message());
  return p;
}

fs::path absolute(const std::string& p) {
  return fs::absolute(p).lexically_normal();
}

void print_status(const fs::path& root, bool json) {
  const auto st = connector::probe(root);
  if (json) {
    nlohmann::json j = {{"running", st.running}, {"broker_root", root.string()}};
    if (st.running) {
      j["pid"] = st.pid;
      if (st.state) {
        j["mode"] = st.state->mode;
        j["started_at"] = format_rfc3339_utc(st.state->started_at);
        j["relay_url"] = st.state->relay_url;
        j["node_id"] = st.state->node_id;
        j["log_file"] = st.state->log_file;
      }
    }
    print_json(j);
  } else if (!st.running) {
    std::cout << "relay connector: not running (broker root " << root.string() << ")\n";
  } else {
    std::cout << "relay connector: running (pid " << st.pid;
    if (st.state) std::cout << ", " << st.state->mode;
    std::cout << ")\nbroker root: " << root.string() << "\n";
    if (st.state) {
      std::cout << "relay: " << st.state->relay_url << "\nnode: " << st.state->node_id
                << "\nstarted: " << format_rfc3339_utc(st.state->started_at) << "\n";
      if (!st.state->log_file.empty()) std::cout << "log: " << st.state->log_file << "\n";
    }
  }
  std::cout.flush();
  if (!st.running) std::exit(kExitNotRunning);
}

void stop(const fs::path& root) {
  auto r = connector::stop_running(root, kStopTimeoutSeconds);
  if (!r && r.error().code == ErrorCode::kNotFound) {
    std::cout << "relay connector: not running (broker root " << root.string() << ")\n";
    return;
  }
  if (!r) exit_with_error(r.error().message);
  std::cout << "relay connector: stopped (pid " << r.value() << ")\n";
}

fs::path user_unit_dir() {
  auto config = xdg_base_dir(XdgBase::kConfig);
  if (!config) exit_with_error("HOME is not set; cannot place the user unit");
  return *config / "systemd" / "user";
}

void install_service(const ConnOptions& conn, const fs::path& root,
                     const std::vector<std::string>& loop_args) {
  if (!conn.token.empty()) {
    exit_with_error(
        "--install-service does not write tokens into unit files: save the token with "
        "`c2c relay setup` or pass --token-file FILE",
        kExitUsage);
  }
  ServiceUnit u;
  u.comments = {"c2c relay connector for broker root " + root.string(),
                "Written by `c2c relay connect --install-service`; docs/relay-client.md."};
  u.description = "c2c relay connector";
  u.exec = {self_exe().string(), "relay", "connect", "--broker-root", root.string()};
  if (!conn.relay_url.empty()) u.exec.insert(u.exec.end(), {"--relay-url", conn.relay_url});
  if (!conn.token_file.empty()) {
    u.exec.insert(u.exec.end(), {"--token-file", absolute(conn.token_file).string()});
  }
  if (!conn.node_id.empty()) u.exec.insert(u.exec.end(), {"--node-id", conn.node_id});
  if (!conn.identity_path.empty()) {
    u.exec.insert(u.exec.end(), {"--identity-path", absolute(conn.identity_path).string()});
  }
  u.exec.insert(u.exec.end(), loop_args.begin(), loop_args.end());
  // The loop already backs off while the relay is down; a restart covers crashes only.
  u.service = {{"Type", "simple"}, {"Restart", "on-failure"}, {"RestartSec", "5"}};
  u.wanted_by = "default.target";

  const fs::path dir = user_unit_dir();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) exit_with_error("cannot create " + dir.string() + ": " + ec.message());
  const fs::path path = dir / kUnitName;
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << render_unit(u);
    if (!out) exit_with_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path, ec);
  if (ec) exit_with_error("cannot write " + path.string() + ": " + ec.message());
  std::cout << "wrote " << path.string() << "\n"
            << "enable and start it:\n"
            << "  systemctl --user daemon-reload\n"
            << "  systemctl --user enable --now " << kUnitName << "\n"
            << "keep it running while you are logged out:\n"
            << "  loginctl enable-linger \"$USER\"\n"
            << "logs: journalctl --user -u " << kUnitName << "\n";
}

}  // namespace

void add_manage_options(CLI::App* cmd, ManageOptions& m) {
  cmd->add_flag("--daemon", m.daemon,
                "Run the loop in the background (pidfile in the broker root, log in "
                "~/.local/share/c2c/relay-connector.log)");
  cmd->add_flag("--status", m.status,
                "Show whether a connector runs for this broker root (exit 3 when none does)");
  cmd->add_flag("--stop", m.stop, "Stop the connector running for this broker root");
  cmd->add_flag("--install-service", m.install_service,
                "Write a systemd user unit running this connector and print how to enable it");
  cmd->add_option("--log-file", m.log_file,
                  "Log file of --daemon (default ~/.local/share/c2c/relay-connector.log)");
  cmd->add_option("--log-max-bytes", m.log_max_bytes,
                  "Rotate the --daemon log to <log>.1 at this size (default 10 MiB; 0: never)");
}

fs::path connector_root(const ConnOptions& conn) {
  return conn.broker_root.empty() ? broker::resolve_root() : absolute(conn.broker_root);
}

bool run_manage_command(const ManageOptions& m, const ConnOptions& conn,
                        const std::vector<std::string>& loop_args) {
  const int modes = int(m.daemon) + int(m.status) + int(m.stop) + int(m.install_service);
  if (modes > 1) {
    exit_with_error("--daemon, --status, --stop and --install-service exclude each other",
                    kExitUsage);
  }
  if (m.status) {
    print_status(connector_root(conn), conn.json);
  } else if (m.stop) {
    stop(connector_root(conn));
  } else if (m.install_service) {
    install_service(conn, connector_root(conn), loop_args);
  } else {
    return false;
  }
  return true;
}

void ManagedLoop::say(const std::string& line) {
  if (log) {
    log->write(line);
  } else {
    std::cout << line << "\n" << std::flush;  // one line at a time: logs and tests read them live
  }
}

ManagedLoop::~ManagedLoop() {
  if (lock) lock->clear();
}

std::unique_ptr<ManagedLoop> start_managed_loop(const ManageOptions& m, const fs::path& root,
                                                const relay::Resolved& r) {
  auto loop = std::make_unique<ManagedLoop>();
  loop->lock.emplace(unwrap(connector::PidLock::acquire(root)));
  connector::ConnectorState state;
  state.mode = m.daemon ? "daemon" : "foreground";
  state.started_at = now_epoch();
  state.broker_root = root.string();
  state.relay_url = r.url;
  state.node_id = r.node_id;
  if (!m.daemon) {
    unwrap(loop->lock->publish(state));
    loop->ready = [] {};
    loop->failed = [](const std::string&) {};
    return loop;
  }
  const fs::path log_path =
      m.log_file.empty() ? connector::default_log_path() : absolute(m.log_file);
  state.log_file = log_path.string();
  // Fails here, in the foreground, when the log cannot be opened.
  unwrap(connector::LineLog::open(log_path, m.log_max_bytes, /*redirect_std=*/false));
  auto detached = unwrap(connector::detach([log_path, root](pid_t pid) {
    std::cout << "relay connector: started (pid " << pid << ", broker root " << root.string()
              << ")\nlog: " << log_path.string() << "\n";
  }));
  // In the daemon: stdout and stderr now go to the log as well.
  auto daemon_log = connector::LineLog::open(log_path, m.log_max_bytes, /*redirect_std=*/true);
  if (!daemon_log) {
    detached.failed(daemon_log.error().message);
    std::_Exit(1);
  }
  loop->log.emplace(std::move(daemon_log).value());
  if (auto p = loop->lock->publish(state); !p) {
    detached.failed(p.error().message);
    std::_Exit(1);
  }
  loop->ready = detached.ready;
  loop->failed = detached.failed;
  return loop;
}

}  // namespace c2c::cli::relay_cli
