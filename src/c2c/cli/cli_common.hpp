#pragma once
// Shared by every command group: the error type that carries an exit code, Result unwrapping,
// and output helpers. Data goes to stdout, diagnostics to stderr.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "c2c/core/result.hpp"

namespace c2c::cli {

inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// Thrown by command callbacks; app.cpp prints "error: <what>" and exits with exit_code.
class CliError : public std::runtime_error {
 public:
  explicit CliError(const std::string& message, int exit_code = kExitError)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Ends the running command: app.cpp prints "error: <message>" and exits with exit_code. (Not
// named fail: c2c::fail (core/result.hpp) returns an error as a value, and the CLI uses it too.)
[[noreturn]] inline void exit_with_error(const std::string& message, int exit_code = kExitError) {
  throw CliError(message, exit_code);
}

template <typename T>
T unwrap(Result<T> r) {
  if (!r.has_value()) exit_with_error(r.error().message);
  return std::move(r).value();
}
inline void unwrap(const Result<void>& r) {
  if (!r.has_value()) exit_with_error(r.error().message);
}

// Pretty JSON + newline on stdout.
void print_json(const nlohmann::json& j);
// --json/-j "Print JSON": the flag asking a command for print_json output.
void add_json_flag(CLI::App& cmd, bool& json);

// Registers the command group(s) that define argv[1] when it names a known command (a peer
// command alone), none for a lone --version, else every group (app.cpp; a start-up speed-up,
// docs/performance.md).
void register_commands(CLI::App& app, int argc, const char* const* argv);

// Command-group registration; each lives in its own *_cmd.cpp.
// register, whoami, list, send, send-all, sweep, dead-letter, delivery-status; `only` (a
// command's word) registers that one alone, "" all of them (app.cpp: the commands agents call
// most get no siblings built beside them).
void register_peer_commands(CLI::App& app, std::string_view only);
void register_inbox_commands(CLI::App& app);   // poll-inbox, peek-inbox, history
void register_room_commands(CLI::App& app);    // rooms / room, my-rooms
void register_health_command(CLI::App& app);   // health
void register_install_command(CLI::App& app);  // install self
void register_mcp_command(CLI::App& app);      // mcp
void register_client_commands(CLI::App& app);  // install <client>, uninstall, mail-hook
void register_doctor_command(CLI::App& app);   // doctor
void register_relay_serve(CLI::App& relay);    // relay serve
// relay serve --print-service: the systemd system unit for the flags given to `serve`.
void print_serve_service(const CLI::App& serve);
void register_relay_client_commands(
    CLI::App& relay);  // relay setup|connect|status|list|gc|rooms|register|identity|dm

// The relay line of `c2c health` (implemented with the relay client commands).
struct RelayHealth {
  std::string status;  // "green" | "yellow" | "red" | "none"
  std::string line;    // e.g. "✓ Relay: http://127.0.0.1:7331 (3 alive peers)"
};
RelayHealth probe_relay_health();

}  // namespace c2c::cli
