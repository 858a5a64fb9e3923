#pragma once
// The MCP server's dispatch: one JSON-RPC message in, zero or more JSON lines out. No I/O here
// (stdio_server.cpp owns the fds), so every method and error path is unit-tested and fuzzed
// through handle_line.
//
// Methods: initialize (protocol version negotiation, capabilities), ping, tools/list,
// tools/call, notifications/initialized. Errors: -32700 parse error (id null), -32600 invalid
// request (null ids included), -32601 unknown method, -32602 invalid params, -32002 tools/*
// before initialize. Ids are echoed as received, digit for digit. Tool failures are tool
// results with isError:true, never JSON-RPC errors.
//
// Threading: handle_line runs on the request loop; drain_push runs on the push watcher thread.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/mcp/inbox_wait.hpp"
#include "c2c/mcp/session.hpp"
#include "c2c/mcp/tool_registry.hpp"

namespace c2c::mcp {

// Protocol versions this server speaks, oldest first; the last one is answered to clients
// asking for a version we do not know. All of them open with the initialize handshake
// (docs/mcp.md "Protocol revisions"): push and the session binding need its state.
inline constexpr const char* kProtocolVersions[] = {"2024-11-05", "2025-03-26", "2025-06-18",
                                                    "2025-11-25"};
std::string negotiate_protocol_version(const nlohmann::json& requested);

// The answer to `server/discover` (the stateless revision's probe): declined with -32601,
// naming the handshake versions above, so a dual-era client falls back to initialize.
nlohmann::json decline_discover(const nlohmann::json& id);

// JSON-RPC error codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
// tools/list or tools/call before initialize (LSP's ServerNotInitialized code).
inline constexpr int kNotInitialized = -32002;

// Text of the initialize `instructions`: how an agent should use the tools.
extern const char* const kInstructions;

// `notifications/claude/channel` for one message: {content, meta:{from, to, ts:"HH:MM"}}.
nlohmann::json channel_notification(const broker::Message& message);

class Server {
 public:
  Server(broker::Broker& broker, SessionConfig config, SessionState& session,
         const ToolRegistry& tools = default_tools());

  // Handles one framed message (a JSON value as text). Returns the lines to write: nothing for
  // notifications and client responses, one response otherwise (a batch gives one array).
  // Never throws, whatever the input.
  std::vector<std::string> handle_line(std::string_view line);
  // The answer to a message the framing layer dropped for being over the size limit.
  std::string oversized_response() const;

  // Push: true once the client declared capabilities.experimental["claude/channel"] and sent
  // notifications/initialized, channel delivery is not disabled and the session is known.
  bool push_enabled() const;
  // Drains the session's non-deferrable messages and returns one notification line each
  // (empty when push is off). Each message is handed out exactly once. `write`, when given,
  // gets the lines as soon as the inbox is rewritten, before the messages are reported read
  // (a receipt write the push need not wait for).
  using LinesWriter = std::function<void(const std::vector<std::string>&)>;
  Result<std::vector<std::string>> drain_push(const LinesWriter& write = nullptr);
  // Called when push becomes enabled, so the watcher drains what queued before.
  void on_push_ready(std::function<void()> callback) { on_push_ready_ = std::move(callback); }

  SessionState& session() { return session_; }

  // Blocking tools (ToolSpec::blocking, i.e. wait_for_message). With a runner set, a
  // tools/call of one (outside a batch) is handed to it as a job and handle_line answers
  // nothing for now; the job returns the response line, or nullopt when the call was
  // cancelled (notifications/cancelled: no response, as MCP asks). Without a runner they are
  // answered inline. At most kMaxBlockingCalls run at once; more get a tool error.
  using Job = std::function<std::optional<std::string>()>;
  void set_async_runner(std::function<void(Job)> runner) { runner_ = std::move(runner); }
  static constexpr size_t kMaxBlockingCalls = 8;
  // Cancels every pending blocking call (shutdown); their jobs return promptly.
  void cancel_all();
  // Runs after each blocking call ends, on its thread: the push watcher drains what it held
  // back while the call was waiting (push stays off meanwhile, so the call gets the messages).
  void on_blocking_done(std::function<void()> callback) { on_blocking_done_ = std::move(callback); }

 private:
  // `raw_id`: the id's source text when only it carries the id exactly (see handle_line).
  std::optional<nlohmann::json> handle_message(const nlohmann::json& msg,
                                               const std::optional<std::string>& raw_id);
  nlohmann::json initialize(const nlohmann::json& params);
  nlohmann::json call_tool(const nlohmann::json& id, const nlohmann::json& params,
                           const Cancellation* cancel = nullptr);
  // Hands a blocking tools/call to the runner; nullopt when it did (the job answers).
  std::optional<nlohmann::json> start_blocking(const nlohmann::json& id,
                                               const nlohmann::json& params,
                                               const std::optional<std::string>& raw_id);
  void cancel_request(const nlohmann::json& params);
  void mark_ready();

  broker::Broker& broker_;
  SessionConfig config_;
  SessionState& session_;
  const ToolRegistry& tools_;
  std::atomic<bool> channel_capable_{false};
  std::atomic<bool> ready_{false};
  std::atomic<bool> initialized_{false};  // an initialize request was answered
  std::function<void()> on_push_ready_;
  std::function<void(Job)> runner_;
  std::function<void()> on_blocking_done_;
  bool in_batch_ = false;               // handle_line's thread only
  std::atomic<int> blocking_calls_{0};  // running blocking calls (inline or on a runner)
  std::mutex pending_mu_;
  std::map<std::string, std::shared_ptr<Cancellation>> pending_;  // by request id (JSON text)
};

}  // namespace c2c::mcp
