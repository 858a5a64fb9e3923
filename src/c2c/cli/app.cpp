#include "c2c/cli/app.hpp"

#include <iostream>

#include "c2c/cli/cli_common.hpp"
#include "c2c/core/version.hpp"

namespace c2c::cli {

void print_json(const nlohmann::json& j) { std::cout << j.dump(2) << "\n" << std::flush; }

int run(int argc, char** argv) {
  CLI::App app{"c2c: messaging for AI coding agents (local broker, MCP server, relay)", "c2c"};
  app.require_subcommand(1);
  app.set_version_flag("--version,-V", std::string("c2c ") + kVersion + " (" + kGitHash + ")");
  app.failure_message(CLI::FailureMessage::help);

  register_peer_commands(app);
  register_inbox_commands(app);
  register_room_commands(app);
  register_health_command(app);
  register_install_command(app);
  register_mcp_command(app);

  auto* relay = app.add_subcommand(
      "relay", "Cross-machine messaging: relay server, connector, identity and relay admin");
  relay->require_subcommand(1);
  register_relay_serve(*relay);
  register_relay_client_commands(*relay);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Usage errors: one line on stderr, exit 2.
    std::cerr << "error: " << e.what() << "\n";
    std::cerr << "run 'c2c --help' (or 'c2c <command> --help') for usage\n";
    return kExitUsage;
  } catch (const CliError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitError;
  }
  return 0;
}

}  // namespace c2c::cli
