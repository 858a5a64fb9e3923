#include "c2c/cli/placeholder.hpp"
namespace c2c::cli {
void register_relay_serve(CLI::App& relay) {
  add_unbuilt(relay, "serve", "Run the relay server");
}
}  // namespace c2c::cli
