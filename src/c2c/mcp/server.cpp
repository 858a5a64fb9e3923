#include "c2c/mcp/server.hpp"

#include <exception>

#include "c2c/core/text.hpp"
#include "c2c/core/version.hpp"
#include "c2c/mcp/tools/tools.hpp"

namespace c2c::mcp {

using nlohmann::json;

const char* const kInstructions =
    "c2c lets you message other AI agents working on this machine (and on other machines "
    "through a relay). Every agent has an alias.\n"
    "1. Identity: call whoami. If it returns an empty text, call register with an alias "
    "(e.g. {\"alias\":\"reviewer-1\"}).\n"
    "2. Read: call poll_inbox at the start of each turn and after sending; it returns and "
    "removes waiting messages, oldest first (history shows ones already read). If your client "
    "shows channel notifications (notifications/claude/channel), messages also arrive by "
    "themselves; a pushed message is not returned again by poll_inbox.\n"
    "3. Write: list shows who is registered; send {to_alias, content} messages one agent "
    "(alias@host reaches an agent on another machine); send_all messages everyone.\n"
    "4. Rooms: join_room, send_room, room_history, list_rooms, my_rooms, leave_room. A room "
    "message reaches you with to_alias '<you>#<room>': answer with send_room to that room.\n"
    "Reply to a direct message by sending to its from_alias. Keep messages short and "
    "self-contained.";

namespace {

constexpr int kInternalError = -32603;
// Deeper JSON than this is refused before anything walks it recursively.
constexpr int kMaxDepth = 64;

// Output must never throw: invalid UTF-8 read from broker files is replaced, not fatal.
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json error_response(const json& id, int code, std::string message) {
  return {
      {"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", std::move(message)}}}};
}

json result_response(const json& id, json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json tool_result(std::string text, bool is_error) {
  return {{"content", json::array({{{"type", "text"}, {"text", std::move(text)}}})},
          {"isError", is_error}};
}

bool valid_id(const json& id) {
  return id.is_string() || id.is_number() || id.is_null();
}

enum class Parsed { kOk, kSyntax, kTooDeep };

Parsed parse_bounded(std::string_view text, json& out) {
  bool too_deep = false;
  const json::parser_callback_t limit = [&too_deep](int depth, json::parse_event_t, json&) {
    if (depth > kMaxDepth) too_deep = true;
    return !too_deep;
  };
  out = json::parse(text.begin(), text.end(), limit, /*allow_exceptions=*/false);
  if (too_deep) return Parsed::kTooDeep;
  return out.is_discarded() ? Parsed::kSyntax : Parsed::kOk;
}

}  // namespace

std::string negotiate_protocol_version(const json& requested) {
  if (requested.is_string()) {
    for (const char* v : kProtocolVersions) {
      if (requested.get<std::string>() == v) return v;
    }
  }
  return std::end(kProtocolVersions)[-1];
}

json channel_notification(const broker::Message& m) {
  return {
      {"jsonrpc", "2.0"},
      {"method", "notifications/claude/channel"},
      {"params",
       {{"content", m.content},
        {"meta", {{"from", m.from_alias}, {"to", m.to_alias}, {"ts", format_hhmm_utc(m.ts)}}}}}};
}

Server::Server(broker::Broker& broker, SessionConfig config, SessionState& session,
               const ToolRegistry& tools)
    : broker_(broker), config_(std::move(config)), session_(session), tools_(tools) {}

std::string Server::oversized_response() const {
  return dump(error_response(nullptr, kInvalidRequest, "Invalid Request: message too large"));
}

std::vector<std::string> Server::handle_line(std::string_view line) {
  try {
    json msg;
    switch (parse_bounded(line, msg)) {
      case Parsed::kSyntax:
        return {dump(error_response(nullptr, kParseError, "Parse error"))};
      case Parsed::kTooDeep:
        return {dump(error_response(nullptr, kInvalidRequest,
                                    "Invalid Request: JSON nested deeper than 64 levels"))};
      case Parsed::kOk:
        break;
    }
    if (msg.is_array()) {
      // JSON-RPC batch (protocol 2025-03-26): one array of responses, or nothing.
      if (msg.empty()) {
        return {dump(error_response(nullptr, kInvalidRequest, "Invalid Request: empty batch"))};
      }
      json responses = json::array();
      for (const auto& item : msg) {
        if (auto r = handle_message(item)) responses.push_back(std::move(*r));
      }
      if (responses.empty()) return {};
      return {dump(responses)};
    }
    if (auto r = handle_message(msg)) return {dump(*r)};
    return {};
  } catch (const std::exception& e) {
    return {
        dump(error_response(nullptr, kInternalError, std::string("Internal error: ") + e.what()))};
  }
}

std::optional<json> Server::handle_message(const json& msg) {
  if (!msg.is_object()) {
    return error_response(nullptr, kInvalidRequest, "Invalid Request: expected a JSON object");
  }
  const auto id_it = msg.find("id");
  const bool has_id = id_it != msg.end() && !id_it->is_null();
  if (id_it != msg.end() && !valid_id(*id_it)) {
    return error_response(nullptr, kInvalidRequest,
                          "Invalid Request: id must be a string or a number");
  }
  const json id = has_id ? *id_it : json(nullptr);
  const auto method_it = msg.find("method");
  if (method_it == msg.end()) {
    // A response to a request we never send, or garbage: answer only what carried an id.
    if (msg.contains("result") || msg.contains("error")) return std::nullopt;
    return error_response(id, kInvalidRequest, "Invalid Request: missing 'method'");
  }
  if (msg.value("jsonrpc", json()) != "2.0") {
    return error_response(id, kInvalidRequest, "Invalid Request: 'jsonrpc' must be \"2.0\"");
  }
  if (!method_it->is_string()) {
    return error_response(id, kInvalidRequest, "Invalid Request: 'method' must be a string");
  }
  const std::string method = method_it->get<std::string>();
  static const json kNoParams = json::object();
  const auto params_it = msg.find("params");
  const json& params = (params_it == msg.end() || params_it->is_null()) ? kNoParams : *params_it;

  if (!has_id) {
    // Notifications get no response, whatever they are.
    if (method == "notifications/initialized") mark_ready();
    return std::nullopt;
  }
  if (!params.is_object()) {
    return error_response(id, kInvalidParams, "Invalid params: 'params' must be an object");
  }
  if (method == "initialize") return result_response(id, initialize(params));
  if (method == "ping") return result_response(id, json::object());
  if (method == "tools/list") {
    mark_ready();
    return result_response(id, tools_.list_json());
  }
  if (method == "tools/call") {
    mark_ready();
    return call_tool(id, params);
  }
  return error_response(id, kMethodNotFound, "Unknown method: " + method);
}

json Server::initialize(const json& params) {
  const json version = params.contains("protocolVersion") ? params["protocolVersion"] : json();
  if (const auto caps = params.find("capabilities"); caps != params.end() && caps->is_object()) {
    if (const auto exp = caps->find("experimental"); exp != caps->end() && exp->is_object()) {
      if (const auto ch = exp->find("claude/channel"); ch != exp->end()) {
        // Capabilities only accumulate: a later initialize cannot switch push off.
        if (!ch->is_null() && *ch != json(false) && !channel_capable_.exchange(true) && ready_ &&
            push_enabled() && on_push_ready_) {
          on_push_ready_();  // a re-initialize switched push on: drain what is queued
        }
      }
    }
  }
  return {{"protocolVersion", negotiate_protocol_version(version)},
          {"serverInfo", {{"name", "c2c"}, {"version", kVersion}}},
          {"capabilities",
           {{"tools", json::object()}, {"experimental", {{"claude/channel", json::object()}}}}},
          {"instructions", kInstructions}};
}

json Server::call_tool(const json& id, const json& params) {
  const auto name_it = params.find("name");
  if (name_it == params.end() || !name_it->is_string()) {
    return error_response(id, kInvalidParams, "Invalid params: tools/call needs a string 'name'");
  }
  static const json kNoArgs = json::object();
  const auto args_it = params.find("arguments");
  const json& args = (args_it == params.end() || args_it->is_null()) ? kNoArgs : *args_it;
  if (!args.is_object()) {
    return error_response(id, kInvalidParams, "Invalid params: 'arguments' must be an object");
  }
  const std::string name = name_it->get<std::string>();
  const ToolSpec* tool = tools_.find(name);
  if (tool == nullptr) {
    return error_response(id, kInvalidParams,
                          "Unknown tool: " + name + " (tools/list shows the available tools)");
  }
  if (auto valid = validate_arguments(tool->input_schema, args); !valid) {
    return result_response(id, tool_result(name + ": " + valid.error().message, true));
  }
  ToolContext ctx(broker_, config_, session_);
  Result<json> out = fail(ErrorCode::kInternal, "");
  try {
    out = tool->handler(ctx, args);
  } catch (const std::exception& e) {
    out = fail(ErrorCode::kInternal, name + ": internal error: " + e.what());
  }
  if (!out) return result_response(id, tool_result(out.error().message, true));
  return result_response(
      id, tool_result(out->is_string() ? out->get<std::string>() : dump(*out), false));
}

void Server::mark_ready() {
  if (ready_.exchange(true)) return;
  if (push_enabled() && on_push_ready_) on_push_ready_();
}

bool Server::push_enabled() const {
  return config_.channel_delivery && channel_capable_ && ready_ && session_.get().has_value();
}

Result<std::vector<std::string>> Server::drain_push() {
  std::vector<std::string> lines;
  if (!push_enabled()) return lines;
  const auto sid = session_.get();
  if (!sid) return lines;
  auto msgs = broker_.drain_push(*sid);
  if (!msgs) return Unexpected{msgs.error()};
  lines.reserve(msgs->size());
  for (const auto& m : *msgs) lines.push_back(dump(channel_notification(m)));
  return lines;
}

}  // namespace c2c::mcp
