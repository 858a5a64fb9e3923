// Room tools: join_room, leave_room, send_room, list_rooms, my_rooms, room_history
// (docs/mcp.md).
#include <algorithm>

#include "c2c/core/text.hpp"
#include "c2c/mcp/tools/tools.hpp"

namespace c2c::mcp::tools {

using nlohmann::json;

namespace {

constexpr long long kDefaultJoinHistory = 20;
constexpr long long kMaxJoinHistory = 200;
constexpr long long kDefaultRoomHistory = 50;

Result<std::string> room_id_arg(const json& args) {
  std::string room = std::string(trim(args.at("room_id").get<std::string>()));
  if (!is_valid_room_id(room)) {
    return fail(ErrorCode::kInvalidRoom,
                "invalid room_id: '" + room + "' (1-64 chars of [A-Za-z0-9_-])");
  }
  return room;
}

json room_info_json(const broker::RoomInfo& room, bool blank_members) {
  json aliases = json::array();
  json details = json::array();
  size_t alive = 0, dead = 0, unknown = 0;
  if (!blank_members) {
    for (size_t i = 0; i < room.members.size(); ++i) {
      const auto& m = room.members[i];
      const auto l =
          i < room.member_liveness.size() ? room.member_liveness[i] : broker::Liveness::kUnknown;
      aliases.push_back(m.alias);
      details.push_back(
          {{"alias", m.alias}, {"session_id", m.session_id}, {"alive", json_view::liveness(l)}});
      (l == broker::Liveness::kAlive ? alive : l == broker::Liveness::kDead ? dead : unknown)++;
    }
  }
  return {{"room_id", room.room_id},
          {"member_count", aliases.size()},
          {"members", aliases},
          {"alive_member_count", alive},
          {"dead_member_count", dead},
          {"unknown_member_count", unknown},
          {"member_details", details},
          {"visibility", room.meta.visibility},
          {"invited_members", blank_members ? json::array() : json(room.meta.invited_members)}};
}

bool is_member(const broker::RoomInfo& room, const std::optional<std::string>& sid,
               const std::optional<std::string>& alias) {
  return std::any_of(room.members.begin(), room.members.end(), [&](const auto& m) {
    return (sid && m.session_id == *sid) || (alias && iequals(m.alias, *alias));
  });
}

struct Caller {
  std::optional<std::string> session_id;
  std::optional<std::string> alias;
};

Result<Caller> caller(ToolContext& ctx) {
  Caller c{ctx.session().get(), std::nullopt};
  if (c.session_id) {
    auto alias = ctx.alias_of(*c.session_id);
    if (!alias) return Unexpected{alias.error()};
    c.alias = *alias;
  }
  return c;
}

Result<json> join_room_tool(ToolContext& ctx, const json& args) {
  auto room = room_id_arg(args);
  if (!room) return Unexpected{room.error()};
  auto sid = ctx.own_session("join_room");
  if (!sid) return Unexpected{sid.error()};
  auto alias = ctx.acting_alias(args, "join_room", *sid, {"alias"}, "member");
  if (!alias) return Unexpected{alias.error()};
  const long long limit = std::clamp(opt_int(args, "history_limit").value_or(kDefaultJoinHistory),
                                     0LL, kMaxJoinHistory);
  auto joined = ctx.broker().join_room(*room, *alias, *sid, static_cast<size_t>(limit));
  if (!joined) return Unexpected{joined.error()};
  return json{{"room_id", joined->room_id},
              {"members", json_view::members(joined->members)},
              {"history", json_view::history(joined->history)}};
}

Result<json> leave_room_tool(ToolContext& ctx, const json& args) {
  auto room = room_id_arg(args);
  if (!room) return Unexpected{room.error()};
  auto alias = ctx.acting_alias(args, "leave_room", ctx.session().get(), {"alias"}, "member");
  if (!alias) return Unexpected{alias.error()};
  auto members = ctx.broker().leave_room(*room, *alias);
  if (!members) return Unexpected{members.error()};
  return json{{"room_id", *room}, {"members", json_view::members(*members)}};
}

Result<json> send_room_tool(ToolContext& ctx, const json& args) {
  auto room = room_id_arg(args);
  if (!room) return Unexpected{room.error()};
  auto from = ctx.acting_alias(args, "send_room", ctx.session().get(), {"alias"}, "sender");
  if (!from) return Unexpected{from.error()};
  broker::SendOptions opts;
  opts.tag = opt_string(args, "tag").value_or("");
  auto sent = ctx.broker().send_room(*room, *from, args.at("content").get<std::string>(), opts);
  if (!sent) return Unexpected{sent.error()};
  return json{{"delivered_to", sent->delivered_to},
              {"skipped", sent->skipped},
              {"ts", sent->ts},
              {"message_id", sent->message_id}};
}

Result<json> list_rooms_tool(ToolContext& ctx, const json&) {
  auto who = caller(ctx);
  if (!who) return Unexpected{who.error()};
  auto rooms = ctx.broker().list_rooms();
  if (!rooms) return Unexpected{rooms.error()};
  json out = json::array();
  for (const auto& room : *rooms) {
    if (room.meta.visibility != "invite_only" || is_member(room, who->session_id, who->alias)) {
      out.push_back(room_info_json(room, false));
      continue;
    }
    // Invite-only: invitees see that the room exists, not who is in it; others see nothing.
    const auto& inv = room.meta.invited_members;
    if (who->alias && std::any_of(inv.begin(), inv.end(),
                                  [&](const auto& a) { return iequals(a, *who->alias); })) {
      out.push_back(room_info_json(room, true));
    }
  }
  return out;
}

Result<json> my_rooms_tool(ToolContext& ctx, const json&) {
  auto sid = ctx.own_session("my_rooms");
  if (!sid) return Unexpected{sid.error()};
  auto rooms = ctx.broker().list_rooms();
  if (!rooms) return Unexpected{rooms.error()};
  json out = json::array();
  for (const auto& room : *rooms) {
    if (is_member(room, *sid, std::nullopt)) out.push_back(room_info_json(room, false));
  }
  return out;
}

Result<json> room_history_tool(ToolContext& ctx, const json& args) {
  auto room_id = room_id_arg(args);
  if (!room_id) return Unexpected{room_id.error()};
  auto who = caller(ctx);
  if (!who) return Unexpected{who.error()};
  // The ACL is checked here too: the broker treats an empty caller alias as the operator.
  auto room = ctx.broker().room(*room_id);
  if (!room) return Unexpected{room.error()};
  if (room->has_value() && (*room)->meta.visibility == "invite_only" &&
      !is_member(**room, who->session_id, who->alias)) {
    return fail(ErrorCode::kNotAMember, "not a member of " + *room_id +
                                            " (the room is invite-only; ask a member to invite "
                                            "you, then join_room)");
  }
  const long long limit = opt_int(args, "limit").value_or(kDefaultRoomHistory);
  auto entries = ctx.broker().room_history(*room_id, limit <= 0 ? 0 : static_cast<size_t>(limit),
                                           opt_number(args, "since"), who->alias.value_or(""));
  if (!entries) return Unexpected{entries.error()};
  return json_view::history(*entries);
}

}  // namespace

void register_rooms_tools(ToolRegistry& r) {
  using namespace schema;
  const json room_id = string_prop("Room name: 1-64 chars of [A-Za-z0-9_-].");
  const json members = out_array(out_object(
      {{"alias", out("string")}, {"session_id", out("string")}, {"joined_at", out("number")}},
      {"alias", "session_id", "joined_at"}));
  const json room_info =
      out_object({{"room_id", out("string")},
                  {"member_count", out("integer")},
                  {"members", out_strings()},
                  {"alive_member_count", out("integer")},
                  {"dead_member_count", out("integer")},
                  {"unknown_member_count", out("integer")},
                  {"member_details", out_array(out_object({{"alias", out("string")},
                                                           {"session_id", out("string")},
                                                           {"alive", out_nullable("boolean")}},
                                                          {"alias", "session_id", "alive"}))},
                  {"visibility", out("string")},
                  {"invited_members", out_strings()}},
                 {"room_id", "member_count", "members", "member_details", "visibility"});
  const json rooms = out_object({{"rooms", out_array(room_info)}}, {"rooms"});
  r.add({"join_room",
         "Join a chat room (created if it does not exist) so you receive every message sent to "
         "it; members are told you joined. Returns {room_id, members:[{alias, session_id, "
         "joined_at}], history:[{ts, from_alias, content}]} with recent history.",
         object({{"room_id", room_id},
                 {"alias", string_prop("Member alias; only used when this session is not "
                                       "registered.")},
                 {"history_limit", int_prop("How many recent room messages to return "
                                            "(default 20, max 200).")}},
                {"room_id"}),
         join_room_tool})
      .output("Join a room", {.idempotent = true},
              out_object({{"room_id", out("string")},
                          {"members", members},
                          {"history", out_array(room_history_entry_schema())}},
                         {"room_id", "members", "history"}));
  r.add({"leave_room",
         "Leave a room; you stop receiving its messages. Returns {room_id, members} after "
         "leaving.",
         object({{"room_id", room_id},
                 {"alias", string_prop("Member alias; only used when this session is not "
                                       "registered.")}},
                {"room_id"}),
         leave_room_tool})
      .output(
          "Leave a room", {.idempotent = true},
          out_object({{"room_id", out("string")}, {"members", members}}, {"room_id", "members"}));
  r.add({"send_room",
         "Send a message to every member of a room (you need not be a member). Each member "
         "gets it in their inbox with to_alias '<member>#<room>'. Returns {delivered_to, "
         "skipped, ts}.",
         object({{"room_id", room_id},
                 {"content", content_prop()},
                 {"alias", string_prop("Sender alias; only used when this session is not "
                                       "registered.")},
                 {"tag", tag_prop()}},
                {"room_id", "content"}),
         send_room_tool})
      .output(
          "Send to a room", {.open_world = true},
          out_object(
              {{"delivered_to", out_strings()}, {"skipped", out_strings()}, {"ts", out("number")}},
              {"delivered_to", "skipped", "ts"}));
  r.add({"list_rooms",
         "List the rooms of this broker with their members and liveness counts. Invite-only "
         "rooms are shown only to members (and, without member details, to invitees).",
         object(json::object()), list_rooms_tool})
      .output("List rooms", {.read_only = true, .idempotent = true}, rooms, "rooms");
  r.add({"my_rooms", "List the rooms this session is a member of (same shape as list_rooms).",
         object(json::object()), my_rooms_tool})
      .output("My rooms", {.read_only = true, .idempotent = true}, rooms, "rooms");
  r.add({"room_history",
         "Read a room's message history, oldest to newest: [{ts, from_alias, content}].",
         object({{"room_id", room_id},
                 {"limit", int_prop("Return only the last N messages (default 50; 0 = all).")},
                 {"since", number_prop("Only messages with ts >= this Unix time (seconds).")}},
                {"room_id"}),
         room_history_tool})
      .output("Read room history", {.read_only = true, .idempotent = true},
              out_object({{"messages", out_array(room_history_entry_schema())}}, {"messages"}),
              "messages");
}

}  // namespace c2c::mcp::tools
