#include "c2c/mcp/server.hpp"

#include <algorithm>
#include <exception>
#include <map>

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
    "themselves; a pushed message is not returned again by poll_inbox. To wait for an answer "
    "when your client shows no notifications, call wait_for_message {timeout_s} instead of "
    "calling poll_inbox in a loop.\n"
    "3. Write: list shows who is registered; send {to_alias, content} messages one agent "
    "(alias@host reaches an agent on another machine); send_all messages everyone. Each send "
    "returns a message_id; delivery_status "
    "{message_id} tells whether it was delivered and read.\n"
    "4. Rooms: join_room, send_room, room_history, list_rooms, my_rooms, leave_room. A room "
    "message reaches you with to_alias '<you>#<room>': answer with send_room to that room.\n"
    "Reply to a direct message by sending to its from_alias exactly as received: a message "
    "from another machine has from_alias 'alias@host', which routes back. Keep messages "
    "short and self-contained.";

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
  return id.is_string() || id.is_number();
}

// The exact source text of the request ids that JSON numbers cannot carry exactly (integers
// beyond 64 bits and fractions parse as doubles), so the answer echoes the id as received.
// Keys: the index of the message in a batch, or 0 for a single message.
class RawIdScan : public json::json_sax_t {
 public:
  std::map<size_t, std::string> raw;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t& text) override {
    if (expect_id_) raw[batch_ ? element_ : 0] = text;
    return value();
  }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override {
    value();
    stack_.push_back('o');
    return true;
  }
  bool key(string_t& k) override {
    const bool message_level =
        (stack_.size() == 1 && stack_[0] == 'o') || (stack_.size() == 2 && stack_[0] == 'a');
    expect_id_ = message_level && k == "id";
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    value();
    if (stack_.empty()) batch_ = true;
    stack_.push_back('a');
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  // Called at the start of every value: counts the elements of a top-level batch.
  bool value() {
    if (stack_.size() == 1 && stack_[0] == 'a') ++element_;
    expect_id_ = false;
    return true;
  }
  std::vector<char> stack_;
  bool batch_ = false;
  bool expect_id_ = false;
  size_t element_ = static_cast<size_t>(-1);
};

bool has_float_id(const json& msg) {
  const auto it = msg.is_object() ? msg.find("id") : msg.end();
  return msg.is_object() && it != msg.end() && it->is_number_float();
}

// Renders a response, putting back the id's source text when it had to be kept raw.
std::string render(json response, const std::optional<std::string>& raw_id) {
  if (!raw_id || !response.is_object() || !response.contains("id") ||
      !response["id"].is_number_float()) {
    return dump(response);
  }
  response.erase("id");
  const std::string rest = dump(response);  // "{...}", never empty: it holds "jsonrpc"
  return "{\"id\":" + *raw_id + (rest.size() > 2 ? "," : "") + rest.substr(1);
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

json decline_discover(const json& id) {
  std::string versions;
  for (const char* v : kProtocolVersions) versions += std::string(versions.empty() ? "" : ", ") + v;
  // Not -32022 (UnsupportedProtocolVersion) and no DiscoverResult: both would tell the client
  // this server is stateless. Any other error makes it send initialize.
  return error_response(id, kMethodNotFound,
                        "server/discover is not supported: c2c speaks MCP with the initialize "
                        "handshake (protocol versions " +
                            versions + "); send initialize");
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
    // Ids that only their source text carries exactly (see RawIdScan).
    std::map<size_t, std::string> raw_ids;
    const bool needs_raw =
        msg.is_array() ? std::any_of(msg.begin(), msg.end(), has_float_id) : has_float_id(msg);
    if (needs_raw) {
      RawIdScan scan;
      (void)json::sax_parse(line.begin(), line.end(), &scan);
      raw_ids = std::move(scan.raw);
    }
    auto raw_of = [&raw_ids](size_t i) -> std::optional<std::string> {
      const auto it = raw_ids.find(i);
      if (it == raw_ids.end()) return std::nullopt;
      return it->second;
    };
    if (msg.is_array()) {
      // JSON-RPC batch (protocol 2025-03-26): one array of responses, or nothing.
      if (msg.empty()) {
        return {dump(error_response(nullptr, kInvalidRequest, "Invalid Request: empty batch"))};
      }
      std::string responses;
      // A batch is answered as one array: blocking calls in it are answered inline.
      in_batch_ = true;
      for (size_t i = 0; i < msg.size(); ++i) {
        if (auto r = handle_message(msg[i], raw_of(i))) {
          responses += responses.empty() ? "[" : ",";
          responses += render(std::move(*r), raw_of(i));
        }
      }
      in_batch_ = false;
      if (responses.empty()) return {};
      return {responses + "]"};
    }
    if (auto r = handle_message(msg, raw_of(0))) return {render(std::move(*r), raw_of(0))};
    return {};
  } catch (const std::exception& e) {
    in_batch_ = false;
    return {
        dump(error_response(nullptr, kInternalError, std::string("Internal error: ") + e.what()))};
  }
}

std::optional<json> Server::handle_message(const json& msg,
                                           const std::optional<std::string>& raw_id) {
  if (!msg.is_object()) {
    return error_response(nullptr, kInvalidRequest, "Invalid Request: expected a JSON object");
  }
  const auto id_it = msg.find("id");
  const bool has_id = id_it != msg.end();
  const auto method_it = msg.find("method");
  if (method_it == msg.end() && (msg.contains("result") || msg.contains("error"))) {
    // A response to a request we never send (an error response may carry id null): ignored.
    return std::nullopt;
  }
  if (has_id && id_it->is_null()) {
    // JSON-RPC 2.0 makes a message with "id": null a request, not a notification, and MCP
    // forbids null ids: answer Invalid Request, with id null (docs/mcp.md "Protocol").
    return error_response(nullptr, kInvalidRequest,
                          "Invalid Request: id must not be null (use a string or an integer)");
  }
  if (has_id && !valid_id(*id_it)) {
    return error_response(nullptr, kInvalidRequest,
                          "Invalid Request: id must be a string or a number");
  }
  const json id = has_id ? *id_it : json(nullptr);
  if (method_it == msg.end()) {
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
    if (method == "notifications/cancelled" && params.is_object()) cancel_request(params);
    return std::nullopt;
  }
  if (!params.is_object()) {
    return error_response(id, kInvalidParams, "Invalid params: 'params' must be an object");
  }
  if (method == "initialize") {
    json result = initialize(params);
    initialized_ = true;
    return result_response(id, std::move(result));
  }
  if (method == "ping") return result_response(id, json::object());
  if ((method == "tools/list" || method == "tools/call") && !initialized_) {
    // MCP's lifecycle: nothing but ping before initialize (docs/mcp.md "Protocol").
    return error_response(id, kNotInitialized,
                          "Server not initialized: send initialize before " + method);
  }
  if (method == "tools/list") {
    mark_ready();
    return result_response(id, tools_.list_json());
  }
  if (method == "tools/call") {
    mark_ready();
    if (runner_ && !in_batch_) {
      const auto name = params.find("name");
      const ToolSpec* tool = name != params.end() && name->is_string()
                                 ? tools_.find(name->get<std::string>())
                                 : nullptr;
      if (tool != nullptr && tool->blocking) return start_blocking(id, params, raw_id);
    }
    return call_tool(id, params);
  }
  if (method == "server/discover") return decline_discover(id);
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
  return {
      {"protocolVersion", negotiate_protocol_version(version)},
      {"serverInfo", {{"name", "c2c"}, {"title", "c2c agent messaging"}, {"version", kVersion}}},
      {"capabilities",
       {{"tools", json::object()}, {"experimental", {{"claude/channel", json::object()}}}}},
      {"instructions", kInstructions}};
}

namespace {

// The response of a blocking call that returned no messages (`[]`).
bool drained_nothing(const std::string& response_line) {
  const json r = json::parse(response_line, nullptr, false);
  const json* text = r.is_object() ? &r : nullptr;
  for (const char* k : {"result", "content"}) {
    if (text == nullptr || !text->is_object() || !text->contains(k)) return true;
    text = &(*text)[k];
  }
  if (!text->is_array() || text->empty()) return true;
  const auto t = (*text)[0].find("text");
  return t == (*text)[0].end() || *t == "[]";
}

}  // namespace

std::optional<json> Server::start_blocking(const json& id, const json& params,
                                           const std::optional<std::string>& raw_id) {
  const std::string key = id.dump();
  auto cancel = std::make_shared<Cancellation>();
  {
    std::lock_guard lock(pending_mu_);
    if (pending_.count(key) != 0) {
      return error_response(id, kInvalidRequest,
                            "Invalid Request: request id " + key + " is already in use");
    }
    if (pending_.size() >= kMaxBlockingCalls) {
      return result_response(
          id, tool_result("too many blocking calls pending (at most " +
                              std::to_string(kMaxBlockingCalls) + "); wait for one to end",
                          true));
    }
    pending_.emplace(key, cancel);
  }
  // Counted from now, not from when the thread starts: push holds back from the moment the
  // request was read, so a message sent after any later response goes to this call.
  ++blocking_calls_;
  runner_([this, id, params, key, cancel, raw_id]() -> std::optional<std::string> {
    std::optional<std::string> line;
    try {
      line = render(call_tool(id, params, cancel.get()), raw_id);
    } catch (const std::exception& e) {
      line = render(error_response(id, kInternalError, std::string("Internal error: ") + e.what()),
                    raw_id);
    }
    {
      std::lock_guard lock(pending_mu_);
      pending_.erase(key);
    }
    if (--blocking_calls_ == 0 && on_blocking_done_) on_blocking_done_();
    // A cancelled call answers nothing (MCP), unless it drained messages just before: those
    // must reach the client rather than vanish.
    if (cancel->cancelled() && drained_nothing(*line)) return std::nullopt;
    return line;
  });
  return std::nullopt;
}

void Server::cancel_request(const json& params) {
  const auto it = params.find("requestId");
  if (it == params.end() || !(it->is_string() || it->is_number())) return;
  std::lock_guard lock(pending_mu_);
  if (const auto p = pending_.find(it->dump()); p != pending_.end()) p->second->cancel();
}

void Server::cancel_all() {
  std::lock_guard lock(pending_mu_);
  for (auto& [key, cancel] : pending_) cancel->cancel();
}

json Server::call_tool(const json& id, const json& params, const Cancellation* cancel) {
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
  ctx.set_cancellation(cancel);
  Result<json> out = fail(ErrorCode::kInternal, "");
  // Inside a batch (answered as one array) a blocking tool only looks once.
  std::optional<Cancellation> batch_cancel;
  const bool inline_blocking = tool->blocking && cancel == nullptr;
  if (inline_blocking && in_batch_) {
    batch_cancel.emplace();
    batch_cancel->cancel();
    ctx.set_cancellation(&*batch_cancel);
  }
  // Inline blocking calls count here; start_blocking counts the ones on a runner.
  const bool count = inline_blocking;
  if (count) ++blocking_calls_;
  try {
    out = tool->handler(ctx, args);
  } catch (const std::exception& e) {
    out = fail(ErrorCode::kInternal, name + ": internal error: " + e.what());
  }
  if (count && --blocking_calls_ == 0 && on_blocking_done_) on_blocking_done_();
  if (!out) return result_response(id, tool_result(out.error().message, true));
  return result_response(id, tool->success_result(*out));
}

void Server::mark_ready() {
  if (ready_.exchange(true)) return;
  if (push_enabled() && on_push_ready_) on_push_ready_();
}

bool Server::push_enabled() const {
  return config_.channel_delivery && channel_capable_ && ready_ && session_.get().has_value();
}

Result<std::vector<std::string>> Server::drain_push(const LinesWriter& write) {
  std::vector<std::string> lines;
  // A wait_for_message call is waiting: it takes the messages (and reports them read).
  if (!push_enabled() || blocking_calls_ > 0) return lines;
  const auto sid = session_.get();
  if (!sid) return lines;
  auto msgs = broker_.drain_push(*sid, [&](const std::vector<broker::Message>& drained) {
    lines.reserve(drained.size());
    for (const auto& m : drained) lines.push_back(dump(channel_notification(m)));
    if (write) write(lines);
  });
  if (!msgs) return Unexpected{msgs.error()};
  return lines;
}

}  // namespace c2c::mcp
