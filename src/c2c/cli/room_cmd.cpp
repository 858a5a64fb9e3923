#include "c2c/cli/placeholder.hpp"
namespace c2c::cli {
void register_room_commands(CLI::App& app) {
  add_unbuilt(app, "rooms", "Local rooms: join, leave, send, list, history, members, invite");
  add_unbuilt(app, "my-rooms", "Rooms this session is a member of");
}
}  // namespace c2c::cli
