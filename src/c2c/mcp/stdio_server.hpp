#pragma once
// `c2c mcp`: wires the broker, the session (auto-register / auto-join), the Server, the push
// watcher and the stdio framing together, then serves until stdin reaches EOF.

#include <filesystem>

#include "c2c/mcp/session.hpp"

namespace c2c::mcp {

struct StdioOptions {
  int in_fd = 0;
  int out_fd = 1;
  int log_fd = 2;              // human diagnostics ("c2c mcp: ...")
  std::filesystem::path root;  // broker root (already resolved)
};

// Returns the process exit code: 0 after stdin EOF (or when the client closed stdout).
int run_stdio_server(const StdioOptions& options, const EnvLookup& env);

}  // namespace c2c::mcp
