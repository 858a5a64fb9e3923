// Messaging tools: send, send_all, poll_inbox, wait_for_message, delivery_status, peek_inbox,
// history (docs/mcp.md).
#include <algorithm>
#include <chrono>

#include "c2c/core/text.hpp"
#include "c2c/mcp/inbox_wait.hpp"
#include "c2c/mcp/tools/tools.hpp"

namespace c2c::mcp::tools {

using nlohmann::json;

namespace {

constexpr size_t kDefaultHistoryLimit = 50;
constexpr double kDefaultWaitSeconds = 60;
constexpr double kMaxWaitSeconds = 300;

broker::SendOptions send_options(const json& args) {
  broker::SendOptions opts;
  opts.deferrable = opt_bool(args, "deferrable");
  opts.ephemeral = opt_bool(args, "ephemeral");
  opts.tag = opt_string(args, "tag").value_or("");
  return opts;
}

// The broker's message stays; an unknown alias also says how to find the right one.
Error explain_send_error(Error e) {
  if (e.code == ErrorCode::kUnknownAlias)
    e.message += ". Use the list tool to see registered aliases.";
  return e;
}

Result<json> send_tool(ToolContext& ctx, const json& args) {
  const std::string to = std::string(trim(args.at("to_alias").get<std::string>()));
  const std::string content = args.at("content").get<std::string>();
  auto from = ctx.acting_alias(args, "send", ctx.session().get(), {"from_alias"}, "sender");
  if (!from) return Unexpected{from.error()};
  if (iequals(*from, to)) {
    return fail(ErrorCode::kBadRequest,
                "send rejected: cannot send a message to yourself (" + *from + ")");
  }
  const auto opts = send_options(args);
  auto receipt = ctx.broker().send(*from, to, content, opts);
  if (!receipt) return Unexpected{explain_send_error(receipt.error())};
  return json_view::sent(*receipt, opts, kAgentView);
}

Result<json> send_all_tool(ToolContext& ctx, const json& args) {
  const std::string content = args.at("content").get<std::string>();
  auto from = ctx.acting_alias(args, "send_all", ctx.session().get(), {"from_alias"}, "sender");
  if (!from) return Unexpected{from.error()};
  std::vector<std::string> exclude;
  if (const auto it = args.find("exclude_aliases"); it != args.end() && it->is_array()) {
    for (const auto& a : *it) exclude.push_back(a.get<std::string>());
  }
  auto result = ctx.broker().send_all(*from, content, exclude, send_options(args));
  if (!result) return Unexpected{result.error()};
  return json_view::broadcast(*result);
}

Result<json> poll_inbox_tool(ToolContext& ctx, const json& args) {
  const auto own = ctx.session().get();
  std::optional<std::string> sid = own;
  if (auto arg = opt_string(args, "session_id"); arg && !trim(*arg).empty()) {
    // Draining someone else's inbox from a server bound to a session is refused.
    if (own && *own != trim(*arg)) {
      return fail(ErrorCode::kBadRequest,
                  "poll_inbox: session_id argument does not match caller's MCP session "
                  "(C2C_MCP_SESSION_ID); omit session_id to read your own inbox");
    }
    sid = std::string(trim(*arg));
  }
  if (!sid) return Unexpected{ctx.own_session("poll_inbox").error()};
  auto msgs = ctx.broker().poll(*sid, "poll_inbox");
  if (!msgs) return Unexpected{msgs.error()};
  return json_view::messages(*msgs, kAgentView);
}

// Blocks until this session's inbox holds a message or timeout_s passes; returns the drained
// messages like poll_inbox ([] on timeout). The watch is installed before each look at the
// inbox, so a message landing in between is never slept through.
Result<json> wait_for_message_tool(ToolContext& ctx, const json& args) {
  auto sid = ctx.own_session("wait_for_message");
  if (!sid) return Unexpected{sid.error()};
  double timeout = opt_number(args, "timeout_s").value_or(kDefaultWaitSeconds);
  if (!(timeout >= 0)) timeout = 0;
  timeout = std::min(timeout, kMaxWaitSeconds);
  InboxWait watch;
  C2C_TRY(watch.start(ctx.broker().root(), *sid));
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::round<std::chrono::milliseconds>(std::chrono::duration<double>(timeout));
  while (true) {
    auto msgs = ctx.broker().poll(*sid, "wait_for_message");
    if (!msgs) return Unexpected{msgs.error()};
    if (!msgs->empty()) return json_view::messages(*msgs, kAgentView);
    // Rounded up: a wait never ends before its timeout (a truncated 0.9 ms would be 0).
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    if (left <= 0) return json::array();
    const auto outcome = watch.wait(left, ctx.cancellation());
    // Cancelled (notifications/cancelled, shutdown, or inside a batch): nothing more is
    // drained, so no message goes into a response nobody reads.
    if (outcome == InboxWait::Outcome::kCancelled) return json::array();
    if (outcome == InboxWait::Outcome::kTimeout) {
      // One last look: the timeout and a message may have crossed.
      auto last = ctx.broker().poll(*sid, "wait_for_message");
      if (!last) return Unexpected{last.error()};
      return json_view::messages(*last, kAgentView);
    }
  }
}

Result<json> delivery_status_tool(ToolContext& ctx, const json& args) {
  const std::string id(trim(args.at("message_id").get<std::string>()));
  auto status = ctx.broker().delivery_status(id);
  if (!status) return Unexpected{status.error()};
  if (!*status) {
    return fail(ErrorCode::kNotFound,
                "delivery_status: no receipts for message_id " + id +
                    " in this broker (not sent from here, or older than the 7-day retention)");
  }
  return broker::delivery_status_json(**status);
}

Result<json> peek_inbox_tool(ToolContext& ctx, const json&) {
  auto sid = ctx.own_session("peek_inbox");
  if (!sid) return Unexpected{sid.error()};
  auto msgs = ctx.broker().peek(*sid);
  if (!msgs) return Unexpected{msgs.error()};
  return json_view::messages(*msgs, kAgentView);
}

Result<json> history_tool(ToolContext& ctx, const json& args) {
  auto sid = ctx.own_session("history");
  if (!sid) return Unexpected{sid.error()};
  const long long limit = opt_int(args, "limit").value_or(kDefaultHistoryLimit);
  if (limit <= 0) return json::array();
  auto entries = ctx.broker().history(*sid, static_cast<size_t>(limit));
  if (!entries) return Unexpected{entries.error()};
  json out = json::array();
  for (const auto& e : *entries) out.push_back(json_view::archive_entry(e, kAgentView));
  return out;
}

}  // namespace

void register_messaging_tools(ToolRegistry& r) {
  using namespace schema;
  const json tag = tag_prop();
  // poll_inbox, wait_for_message and peek_inbox answer {messages: [message]}.
  const json inbox_out = out_object({{"messages", out_array(message_schema())}}, {"messages"});
  r.add({"send",
         "Send a direct message to another agent by alias. A bare alias must be registered in "
         "this broker (see list); 'alias@host' reaches an agent on another machine through the "
         "relay. The recipient reads it with poll_inbox (or gets it pushed). Do not send to "
         "yourself. Returns {queued, ts, from_alias, to_alias, message_id}; queued means "
         "stored in the recipient's inbox (or the relay outbox), not yet read: "
         "delivery_status {message_id} tells whether it was delivered and read.",
         object({{"to_alias", string_prop("Recipient alias, or alias@host for a remote agent.")},
                 {"content", content_prop()},
                 {"from_alias", string_prop("Sender alias; only used when this session is not "
                                            "registered, and never an alias another live agent "
                                            "holds.")},
                 {"deferrable", bool_prop("Low priority: not pushed, waits for the recipient's "
                                          "next poll_inbox.")},
                 {"ephemeral", bool_prop("Do not keep this message in the recipient's history "
                                         "archive.")},
                 {"tag", tag}},
                {"to_alias", "content"}),
         send_tool})
      .output("Send a direct message", {.open_world = true},
              out_object({{"queued", out("boolean")},
                          {"ts", out("number")},
                          {"from_alias", out("string")},
                          {"to_alias", out("string")},
                          {"message_id", out("string")},
                          {"deferrable", out("boolean")},
                          {"remote", out("boolean")}},
                         {"queued", "ts", "from_alias", "to_alias", "message_id"}));
  r.add({"send_all",
         "Broadcast a message to every other registered agent in this broker (one copy per "
         "recipient). Returns {sent_to:[alias], skipped:[{alias, reason}], "
         "message_ids:{alias: message_id}}.",
         object({{"content", content_prop()},
                 {"exclude_aliases", string_array_prop("Aliases that should not receive it.")},
                 {"from_alias", string_prop("Sender alias; only used when this session is not "
                                            "registered.")},
                 {"tag", tag}},
                {"content"}),
         send_all_tool})
      .output("Broadcast to every agent", {.open_world = true},
              out_object({{"sent_to", out_strings()},
                          {"skipped", out_array(out_object(
                                          {{"alias", out("string")}, {"reason", out("string")}},
                                          {"alias", "reason"}))},
                          {"message_ids", out("object")}},
                         {"sent_to", "skipped"}));
  r.add({"poll_inbox",
         "Read and remove every message waiting in your inbox, oldest first. Call it at the "
         "start of each turn and after sending. Returns a JSON array of "
         "{from_alias, to_alias, content, ts, deferrable?}; [] when empty. Room messages have "
         "to_alias '<you>#<room>': answer those with send_room. Reply to a direct message by "
         "sending to its from_alias. Drained messages stay readable with history.",
         object({{"session_id", string_prop("Only for servers without a session id; must match "
                                            "this server's session otherwise.")}}),
         poll_inbox_tool})
      .output("Read and drain inbox", {}, inbox_out, "messages");
  r.add({"wait_for_message",
         "Wait until a message arrives for you, then read and remove it (like poll_inbox), "
         "or until timeout_s seconds pass. Use it to wait for an answer when your client does "
         "not show pushed messages, instead of calling poll_inbox in a loop. Returns the same "
         "array as poll_inbox; [] when the timeout passed.",
         object({{"timeout_s", number_prop("Seconds to wait (default 60, at most 300; 0 = look "
                                           "once).")}}),
         wait_for_message_tool, /*blocking=*/true})
      .output("Wait for a message", {}, inbox_out, "messages");
  r.add({"delivery_status",
         "How far a message you sent got, per recipient: accepted (queued locally or stored by "
         "the relay), delivered (written into the recipient's inbox), read (the recipient "
         "drained it or got it pushed). Returns {message_id, from_alias, state, "
         "recipients:[{recipient, state, accepted_at, delivered_at, read_at}], events}.",
         object({{"message_id", string_prop("The message_id a send returned.")}}, {"message_id"}),
         delivery_status_tool})
      .output(
          "Delivery status of a sent message", {.read_only = true, .idempotent = true},
          out_object({{"message_id", out("string")},
                      {"from_alias", out("string")},
                      {"state", out("string")},
                      {"recipients", out_array(out_object({{"recipient", out("string")},
                                                           {"state", out("string")},
                                                           {"accepted_at", out_nullable("number")},
                                                           {"delivered_at", out_nullable("number")},
                                                           {"read_at", out_nullable("number")}},
                                                          {"recipient", "state"}))},
                      {"events", out_array(out_object({{"state", out("string")},
                                                       {"recipient", out("string")},
                                                       {"ts", out("number")},
                                                       {"via", out("string")},
                                                       {"node", out("string")},
                                                       {"verified", out("string")}},
                                                      {"state", "recipient", "ts"}))}},
                     {"message_id", "from_alias", "state", "recipients", "events"}));
  r.add({"peek_inbox",
         "Look at the messages waiting in your inbox without removing them (same shape as "
         "poll_inbox).",
         object({{"session_id", string_prop("Ignored: always your own inbox.")}}), peek_inbox_tool})
      .output("Peek at inbox", {.read_only = true, .idempotent = true}, inbox_out, "messages");
  r.add({"history",
         "Messages you already received (drained from your inbox), newest first, as "
         "[{drained_at, from_alias, to_alias, content}].",
         object({{"limit", int_prop("Maximum number of entries (default 50).")}}), history_tool})
      .output("Read history", {.read_only = true, .idempotent = true},
              out_object({{"messages", out_array(out_object(
                                           {{"drained_at", out("number")},
                                            {"from_alias", out("string")},
                                            {"to_alias", out("string")},
                                            {"content", out("string")}},
                                           {"drained_at", "from_alias", "to_alias", "content"}))}},
                         {"messages"}),
              "messages");
}

}  // namespace c2c::mcp::tools
