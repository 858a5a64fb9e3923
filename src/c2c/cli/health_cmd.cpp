#include "c2c/cli/placeholder.hpp"
namespace c2c::cli {
void register_health_command(CLI::App& app) {
  add_unbuilt(app, "health", "Check the local broker and the relay");
}
}  // namespace c2c::cli
