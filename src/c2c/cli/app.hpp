#pragma once

namespace c2c::cli {
// Parses argv, runs the command, maps every failure to an exit code:
// 0 ok, 1 runtime error ("error: ..." on stderr), 2 usage error.
int run(int argc, char** argv);

// Whether argv names a command that ends within milliseconds: every command but the servers
// (`c2c mcp`, `c2c relay serve`) and the loop connector (`c2c relay connect` without --once,
// --status, --stop or --install-service). main() prefaults the executable for these only
// (core/prefault.hpp). Reads argv alone: it runs before any static object is constructed.
bool is_short_lived_command(int argc, char** argv);
}  // namespace c2c::cli
