// Maintenance tools: sweep (docs/mcp.md).
#include "c2c/mcp/tools/tools.hpp"

namespace c2c::mcp::tools {

using nlohmann::json;

namespace {

Result<json> sweep_tool(ToolContext& ctx, const json&) {
  auto swept = ctx.broker().sweep();
  if (!swept) return Unexpected{swept.error()};
  return json_view::swept(*swept, kAgentView);
}

}  // namespace

void register_maintenance_tools(ToolRegistry& r) {
  using namespace schema;
  r.add({"sweep",
         "Remove registrations whose agent process has exited, delete their inboxes (queued "
         "messages are kept in dead-letter and redelivered if the alias registers again) and "
         "evict them from rooms. Returns {dropped_regs, deleted_inboxes, preserved_messages, "
         "evicted_room_members}.",
         object(json::object()), sweep_tool})
      .output(
          "Sweep dead agents", {.destructive = true, .idempotent = true},
          out_object(
              {{"dropped_regs",
                out_array(out_object({{"session_id", out("string")}, {"alias", out("string")}},
                                     {"session_id", "alias"}))},
               {"deleted_inboxes", out_strings()},
               {"preserved_messages", out("integer")},
               {"evicted_room_members",
                out_array(out_object({{"room_id", out("string")}, {"alias", out("string")}},
                                     {"room_id", "alias"}))}},
              {"dropped_regs", "deleted_inboxes", "preserved_messages", "evicted_room_members"}));
}

}  // namespace c2c::mcp::tools
