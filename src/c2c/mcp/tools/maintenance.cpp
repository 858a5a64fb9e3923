// Maintenance tools: sweep (docs/mcp.md).
#include "c2c/mcp/tools/tools.hpp"

namespace c2c::mcp::tools {

using nlohmann::json;

namespace {

Result<json> sweep_tool(ToolContext& ctx, const json&) {
  auto swept = ctx.broker().sweep();
  if (!swept) return Unexpected{swept.error()};
  json dropped = json::array();
  for (const auto& [sid, alias] : swept->dropped) {
    dropped.push_back({{"session_id", sid}, {"alias", alias}});
  }
  json evicted = json::array();
  for (const auto& [room, alias] : swept->evicted_room_members) {
    evicted.push_back({{"room_id", room}, {"alias", alias}});
  }
  return json{{"dropped_regs", std::move(dropped)},
              {"deleted_inboxes", swept->deleted_inboxes},
              {"preserved_messages", swept->preserved_messages},
              {"evicted_room_members", std::move(evicted)}};
}

}  // namespace

void register_maintenance_tools(ToolRegistry& r) {
  r.add({"sweep",
         "Remove registrations whose agent process has exited, delete their inboxes (queued "
         "messages are kept in dead-letter and redelivered if the alias registers again) and "
         "evict them from rooms. Returns {dropped_regs, deleted_inboxes, preserved_messages, "
         "evicted_room_members}.",
         schema::object(json::object()), sweep_tool});
}

}  // namespace c2c::mcp::tools
