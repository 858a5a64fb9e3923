#pragma once
// The managed connector (docs/relay-client.md "Running the connector as a service"):
// `c2c relay connect --daemon | --status | --stop | --install-service`.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "c2c/cli/relay_cli.hpp"
#include "c2c/connector/daemon.hpp"

namespace c2c::cli::relay_cli {

struct ManageOptions {
  bool daemon = false;
  bool status = false;
  bool stop = false;
  bool install_service = false;
  std::string log_file;                  // "" = connector::default_log_path()
  uint64_t log_max_bytes = 10ull << 20;  // then <log>.1 and a new file
};

// Adds --daemon, --status, --stop, --install-service, --log-file, --log-max-bytes.
void add_manage_options(CLI::App* cmd, ManageOptions& m);

// Runs --status / --stop / --install-service; false when none was given (the caller syncs).
// `loop_args` are the connect flags the installed unit repeats (interval, verbose).
bool run_manage_command(const ManageOptions& m, const ConnOptions& conn,
                        const std::vector<std::string>& loop_args);

// Where the connector of a command line works (--broker-root or the resolved broker root).
std::filesystem::path connector_root(const ConnOptions& conn);

// A loop-mode connector's hold on its broker root: the lock, and with --daemon the detached
// process and its timestamped log. `say` writes one output line (to stdout, or to the log).
struct ManagedLoop {
  std::optional<connector::PidLock> lock;
  std::optional<connector::LineLog> log;
  // Tell the starting command the daemon is up, or why it is not (no-ops in the foreground).
  std::function<void()> ready;
  std::function<void(const std::string& error)> failed;
  void say(const std::string& line);
  ~ManagedLoop();
};
// Takes the lock (a second loop for the same root is refused) and, with --daemon, detaches.
// Returns in the process that runs the loop.
std::unique_ptr<ManagedLoop> start_managed_loop(const ManageOptions& m,
                                                const std::filesystem::path& root,
                                                const relay::Resolved& r);

}  // namespace c2c::cli::relay_cli
