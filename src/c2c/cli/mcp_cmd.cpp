// `c2c mcp`: the MCP server on stdio for agents (Claude Code, Codex, OpenCode...).
#include <csignal>

#include "c2c/broker/broker.hpp"
#include "c2c/cli/cli_common.hpp"
#include "c2c/mcp/stdio_server.hpp"

namespace c2c::cli {

void register_mcp_command(CLI::App& app) {
  auto* mcp = app.add_subcommand(
      "mcp", "Run the MCP server on stdio (for Claude Code, Codex, OpenCode...); see docs/mcp.md");
  mcp->footer(
      "Environment: C2C_MCP_BROKER_ROOT (broker directory), C2C_MCP_SESSION_ID (else "
      "CLAUDE_SESSION_ID, CODEX_THREAD_ID), C2C_MCP_AUTO_REGISTER_ALIAS, "
      "C2C_MCP_AUTO_JOIN_ROOMS (comma list), C2C_MCP_CLIENT_PID, C2C_MCP_CHANNEL_DELIVERY=0 "
      "(no push notifications).");
  mcp->callback([] {
    // A client that closes our stdout must not kill us with SIGPIPE mid-write: the write
    // fails instead and the server exits cleanly.
    std::signal(SIGPIPE, SIG_IGN);
    mcp::StdioOptions options;
    options.root = broker::resolve_root();
    const int code = mcp::run_stdio_server(options, c2c::process_env());
    if (code != 0) exit_with_error("mcp server stopped", code);
  });
}

}  // namespace c2c::cli
