#include "c2c/cli/placeholder.hpp"
namespace c2c::cli {
void register_mcp_command(CLI::App& app) {
  add_unbuilt(app, "mcp", "Run the MCP server on stdio (for Claude Code, Codex, OpenCode...)");
}
}  // namespace c2c::cli
