#pragma once

namespace c2c::cli {
// Parses argv, runs the command, maps every failure to an exit code:
// 0 ok, 1 runtime error ("error: ..." on stderr), 2 usage error.
int run(int argc, char** argv);
}  // namespace c2c::cli
