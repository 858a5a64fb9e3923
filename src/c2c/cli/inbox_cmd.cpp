#include "c2c/cli/placeholder.hpp"
namespace c2c::cli {
void register_inbox_commands(CLI::App& app) {
  add_unbuilt(app, "poll-inbox", "Drain this session's inbox (--peek to only read)");
  add_unbuilt(app, "peek-inbox", "Read an inbox without draining it");
  add_unbuilt(app, "history", "Show messages this session already drained");
}
}  // namespace c2c::cli
