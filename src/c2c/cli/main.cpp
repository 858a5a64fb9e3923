#include <cstdlib>
#include <cstring>

#include "c2c/cli/app.hpp"
#include "c2c/core/prefault.hpp"

namespace {

// Maps the executable in a few calls before anything else touches it, for commands that end
// within milliseconds (docs/performance.md, "Start-up"). Priority 101 runs it before every static
// constructor of the program; glibc passes argc and argv to initialisation functions.
// C2C_STARTUP_PREFAULT=0 switches it off (for comparing start-up with and without it).
__attribute__((constructor(101))) void prefault_for_short_commands(int argc, char** argv,
                                                                   char** /*envp*/) {
  if (!c2c::cli::is_short_lived_command(argc, argv)) return;
  const char* setting = std::getenv("C2C_STARTUP_PREFAULT");
  if (setting != nullptr && std::strcmp(setting, "0") == 0) return;
  c2c::prefault_executable();
}

}  // namespace

int main(int argc, char** argv) {
  return c2c::cli::run(argc, argv);
}
