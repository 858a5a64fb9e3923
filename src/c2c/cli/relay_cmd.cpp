#include "c2c/cli/placeholder.hpp"
namespace c2c::cli {
void register_relay_client_commands(CLI::App& relay) {
  add_unbuilt(relay, "setup", "Save the relay URL and token");
  add_unbuilt(relay, "connect", "Sync the local broker with the relay");
  add_unbuilt(relay, "status", "Check the relay");
  add_unbuilt(relay, "list", "List peers on the relay");
  add_unbuilt(relay, "gc", "Expire dead leases on the relay");
  add_unbuilt(relay, "rooms", "Relay rooms: list, join, send, history, leave");
  add_unbuilt(relay, "register", "Register an alias on the relay");
  add_unbuilt(relay, "identity", "Manage this machine's Ed25519 identity");
}
RelayHealth probe_relay_health() { return {"none", "○ Relay: not configured"}; }
}  // namespace c2c::cli
