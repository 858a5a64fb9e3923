#pragma once
// Who this MCP server speaks for: the session id and alias taken from the environment the
// agent's client launched us with (docs/mcp.md), the live "current session" that a
// `register` call may bind later, and the startup auto-register / auto-join.

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/core/env.hpp"

namespace c2c::mcp {

// The environment is an input (c2c::EnvLookup, core/env.hpp), so session resolution is tested
// without setenv.

// The variables that name the session, in order, for a C2C_MCP_CLIENT_TYPE ("" = unknown):
// C2C_MCP_SESSION_ID first, then the client's own (claude: CLAUDE_SESSION_ID,
// CLAUDE_CODE_SESSION_ID; codex: CODEX_THREAD_ID; unknown type: all of them).
std::vector<const char*> session_variables(const std::string& client_type);

struct SessionConfig {
  // The first of session_variables(client_type) that is set (trimmed; blank = unset); else,
  // when C2C_MCP_CLIENT_TYPE is set, "<type>-<client pid>" (one session per client process).
  std::optional<std::string> env_session_id;
  // C2C_MCP_AUTO_REGISTER_ALIAS (trimmed; "" = no auto-register).
  std::string auto_register_alias;
  // C2C_MCP_AUTO_JOIN_ROOMS: comma list, trimmed, invalid room ids dropped.
  std::vector<std::string> auto_join_rooms;
  // C2C_MCP_CLIENT_PID as given ("" = unset).
  std::string client_pid;
  // C2C_MCP_CLIENT_TYPE, stored on auto-register.
  std::string client_type;
  // C2C_MCP_CHANNEL_DELIVERY: push notifications unless 0/false/no/off.
  bool channel_delivery = true;

  static SessionConfig from_env(const EnvLookup& env);
};

// True if /proc/<pid> exists.
bool pid_exists(long long pid);
// The liveness pid to register: C2C_MCP_CLIENT_PID if it names a live process ("0" = this
// server), else the server's parent (the agent's client that spawned us).
long long registration_pid(const std::string& client_pid);

// The session the server currently acts for. Starts as the env session (or the auto-register
// alias when no env id exists, as the original c2c does); an explicit `register` binds it when the
// environment gave none. Read by the request loop and the push watcher: thread-safe.
class SessionState {
 public:
  explicit SessionState(std::optional<std::string> initial = std::nullopt)
      : sid_(std::move(initial)) {}
  std::optional<std::string> get() const;
  void bind(std::string session_id);
  // Called after every bind (the push watcher re-targets its inbox).
  void on_change(std::function<void()> callback);

 private:
  mutable std::mutex mu_;
  std::optional<std::string> sid_;
  std::function<void()> on_change_;
};

// Startup: auto-register C2C_MCP_AUTO_REGISTER_ALIAS for the session (with the original c2c's
// guards: never rename a live session, never take an alias from another live process), then
// join C2C_MCP_AUTO_JOIN_ROOMS. Never fails the server: returns human lines for stderr.
std::vector<std::string> auto_register_and_join(broker::Broker& broker, const SessionConfig& config,
                                                SessionState& session);

// A suggestion for a taken alias: <alias>-p for p in 2,3,5,7,11, the first nobody alive holds.
std::optional<std::string> suggest_free_alias(broker::Broker& broker, const std::string& alias);

}  // namespace c2c::mcp
