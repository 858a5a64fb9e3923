#include "c2c/cli/placeholder.hpp"
namespace c2c::cli {
void register_peer_commands(CLI::App& app) {
  add_unbuilt(app, "register", "Register this session under an alias in the local broker");
  add_unbuilt(app, "whoami", "Show the alias of this session");
  add_unbuilt(app, "list", "List registered peers");
  add_unbuilt(app, "send", "Send a message to an alias (alias@host goes through the relay)");
  add_unbuilt(app, "send-all", "Send a message to every live peer");
  add_unbuilt(app, "sweep", "Drop dead registrations (their messages go to dead-letter)");
  add_unbuilt(app, "dead-letter", "Show swept messages");
}
}  // namespace c2c::cli
