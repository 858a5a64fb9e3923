#pragma once
// What a tool handler may use (the broker, the session, the env config) and the helpers every
// family shares: which session a call acts for and which alias it acts as (docs/mcp.md).
// One registration function per tool family, one .cpp each.

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "c2c/broker/broker.hpp"
#include "c2c/broker/json_view.hpp"
#include "c2c/mcp/inbox_wait.hpp"
#include "c2c/mcp/session.hpp"
#include "c2c/mcp/tool_registry.hpp"

namespace c2c::mcp {

class ToolContext {
 public:
  ToolContext(broker::Broker& broker, const SessionConfig& config, SessionState& session)
      : broker_(broker), config_(config), session_(session) {}

  broker::Broker& broker() { return broker_; }
  // Set while a blocking tool runs on its own thread: fires on notifications/cancelled or
  // server shutdown. Null for calls answered inline.
  const Cancellation* cancellation() const { return cancel_; }
  void set_cancellation(const Cancellation* cancel) { cancel_ = cancel; }
  const SessionConfig& config() const { return config_; }
  SessionState& session() { return session_; }

  // Tools whose `session_id` argument may name the session: argument > current session.
  Result<std::string> session_from_args(const nlohmann::json& args, std::string_view tool);
  // Tools bound to the caller's own session (any `session_id` argument is ignored).
  Result<std::string> own_session(std::string_view tool);
  // The alias registered for a session, if any.
  Result<std::optional<std::string>> alias_of(const std::string& session_id);

  // The alias a send/room call acts as: the alias registered for `session_id`, else the first
  // of `arg_names` present in args. An alias taken from the arguments must not belong to
  // another live session (the impersonation guard). `role` is "sender" or "member" (messages).
  Result<std::string> acting_alias(const nlohmann::json& args, std::string_view tool,
                                   const std::optional<std::string>& session_id,
                                   std::initializer_list<const char*> arg_names,
                                   std::string_view role);

 private:
  broker::Broker& broker_;
  const SessionConfig& config_;
  SessionState& session_;
  const Cancellation* cancel_ = nullptr;
};

// Reads an optional argument already validated against the tool's schema (null = absent).
std::optional<std::string> opt_string(const nlohmann::json& args, const char* name);
bool opt_bool(const nlohmann::json& args, const char* name);
std::optional<long long> opt_int(const nlohmann::json& args, const char* name);
std::optional<double> opt_number(const nlohmann::json& args, const char* name);

// The JSON shapes of broker data, shared with the CLI's --json output; tools show the
// agent's view (View::kAgent).
namespace json_view = broker::json_view;
inline constexpr auto kAgentView = broker::json_view::View::kAgent;

// Input properties shared by the sending tools: the message body and the priority tag.
nlohmann::json content_prop();
nlohmann::json tag_prop();

// Output schemas shared by several tools: one inbox message
// {from_alias, to_alias, content, ts, deferrable?, enc_status?} and one room history entry.
nlohmann::json message_schema();
nlohmann::json room_history_entry_schema();

namespace tools {
void register_identity_tools(ToolRegistry& r);  // register, whoami, list
// send, send_all, poll_inbox, peek_inbox, history, wait_for_message, delivery_status
void register_messaging_tools(ToolRegistry& r);
void register_rooms_tools(
    ToolRegistry& r);  // join_room, leave_room, send_room, list_rooms, my_rooms, room_history
void register_maintenance_tools(ToolRegistry& r);  // sweep
}  // namespace tools

}  // namespace c2c::mcp
