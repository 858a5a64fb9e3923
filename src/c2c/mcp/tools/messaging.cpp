// Messaging tools: send, send_all, poll_inbox, peek_inbox, history (docs/mcp.md).
#include "c2c/core/text.hpp"
#include "c2c/mcp/tools/tools.hpp"

namespace c2c::mcp::tools {

using nlohmann::json;

namespace {

constexpr size_t kDefaultHistoryLimit = 50;

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

json message_json(const broker::Message& m) {
  json j = {
      {"from_alias", m.from_alias}, {"to_alias", m.to_alias}, {"content", m.content}, {"ts", m.ts}};
  if (m.deferrable) j["deferrable"] = true;
  if (m.enc_status) j["enc_status"] = *m.enc_status;
  return j;
}

json messages_json(const std::vector<broker::Message>& msgs) {
  json out = json::array();
  for (const auto& m : msgs) out.push_back(message_json(m));
  return out;
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
  json out = {{"queued", true},
              {"ts", receipt->ts},
              {"from_alias", receipt->from_alias},
              {"to_alias", receipt->to_alias},
              {"message_id", receipt->message_id}};
  if (opts.deferrable) out["deferrable"] = true;
  // alias@host: queued for the relay connector rather than delivered to a local inbox.
  if (receipt->remote) out["remote"] = true;
  return out;
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
  json skipped = json::array();
  for (const auto& [alias, reason] : result->skipped) {
    skipped.push_back({{"alias", alias}, {"reason", reason}});
  }
  return json{{"sent_to", result->sent_to}, {"skipped", std::move(skipped)}};
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
  return messages_json(*msgs);
}

Result<json> peek_inbox_tool(ToolContext& ctx, const json&) {
  auto sid = ctx.own_session("peek_inbox");
  if (!sid) return Unexpected{sid.error()};
  auto msgs = ctx.broker().peek(*sid);
  if (!msgs) return Unexpected{msgs.error()};
  return messages_json(*msgs);
}

Result<json> history_tool(ToolContext& ctx, const json& args) {
  auto sid = ctx.own_session("history");
  if (!sid) return Unexpected{sid.error()};
  const long long limit = opt_int(args, "limit").value_or(kDefaultHistoryLimit);
  if (limit <= 0) return json::array();
  auto entries = ctx.broker().history(*sid, static_cast<size_t>(limit));
  if (!entries) return Unexpected{entries.error()};
  json out = json::array();
  for (const auto& e : *entries) {
    out.push_back({{"drained_at", e.drained_at},
                   {"from_alias", e.message.from_alias},
                   {"to_alias", e.message.to_alias},
                   {"content", e.message.content}});
  }
  return out;
}

}  // namespace

void register_messaging_tools(ToolRegistry& r) {
  using namespace schema;
  const json tag = enum_prop({"fail", "blocking", "urgent"},
                             "Optional priority marker prefixed to the message body.");
  r.add({"send",
         "Send a direct message to another agent by alias. A bare alias must be registered in "
         "this broker (see list); 'alias@host' reaches an agent on another machine through the "
         "relay. The recipient reads it with poll_inbox (or gets it pushed). Returns "
         "{queued, ts, from_alias, to_alias, message_id}.",
         object({{"to_alias", string_prop("Recipient alias, or alias@host for a remote agent.")},
                 {"content", string_prop("Message body (plain text).")},
                 {"from_alias", string_prop("Sender alias; only used when this session is not "
                                            "registered, and never an alias another live agent "
                                            "holds.")},
                 {"deferrable", bool_prop("Low priority: not pushed, waits for the recipient's "
                                          "next poll_inbox.")},
                 {"ephemeral", bool_prop("Do not keep this message in the recipient's history "
                                         "archive.")},
                 {"tag", tag}},
                {"to_alias", "content"}),
         send_tool});
  r.add({"send_all",
         "Broadcast a message to every other registered agent in this broker (one copy per "
         "recipient). Returns {sent_to:[alias], skipped:[{alias, reason}]}.",
         object({{"content", string_prop("Message body (plain text).")},
                 {"exclude_aliases", string_array_prop("Aliases that should not receive it.")},
                 {"from_alias", string_prop("Sender alias; only used when this session is not "
                                            "registered.")},
                 {"tag", tag}},
                {"content"}),
         send_all_tool});
  r.add({"poll_inbox",
         "Read and remove every message waiting in your inbox, oldest first. Call it at the "
         "start of each turn and after sending. Returns a JSON array of "
         "{from_alias, to_alias, content, ts, deferrable?}; [] when empty. Room messages have "
         "to_alias '<you>#<room>'. Drained messages stay readable with history.",
         object({{"session_id", string_prop("Only for servers without a session id; must match "
                                            "this server's session otherwise.")}}),
         poll_inbox_tool});
  r.add({"peek_inbox",
         "Look at the messages waiting in your inbox without removing them (same shape as "
         "poll_inbox).",
         object({{"session_id", string_prop("Ignored: always your own inbox.")}}),
         peek_inbox_tool});
  r.add({"history",
         "Messages you already received (drained from your inbox), newest first, as "
         "[{drained_at, from_alias, to_alias, content}].",
         object({{"limit", int_prop("Maximum number of entries (default 50).")}}), history_tool});
}

}  // namespace c2c::mcp::tools
