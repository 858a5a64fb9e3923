#include "c2c/cli/app.hpp"

#include <algorithm>
#include <array>
#include <iostream>
#include <iterator>
#include <string_view>
#include <vector>

#include "c2c/cli/cli_common.hpp"
#include "c2c/core/version.hpp"

namespace c2c::cli {

void print_json(const nlohmann::json& j) {
  std::cout << j.dump(2) << "\n" << std::flush;
}

void add_json_flag(CLI::App& cmd, bool& json) {
  cmd.add_flag("--json,-j", json, "Print JSON");
}

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// When a parse failed because a word stands where a command group expects one of its commands
// (`c2c sned`, `c2c relay staus`), the one-line message naming that word and the closest
// command; "" when the failure is something else. CLI11 alone only says "A subcommand is
// required".
std::string unknown_command_message(CLI::App& app, int argc, char** argv) {
  CLI::App* cur = &app;
  std::string path = app.get_name();
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') return "";  // options: their values cannot be told apart
    const auto subs = cur->get_subcommands([](CLI::App*) { return true; });
    const auto known = std::find_if(subs.begin(), subs.end(),
                                    [&](const CLI::App* sub) { return sub->check_name(word); });
    if (known != subs.end()) {
      cur = *known;
      path += " " + (*known)->get_name();
      continue;
    }
    const auto positionals =
        cur->get_options([](const CLI::Option* o) { return o->get_positional(); });
    if (subs.empty() || !positionals.empty()) return "";
    std::string best;
    size_t best_d = std::string::npos;
    for (const CLI::App* sub : subs) {
      const size_t d = edit_distance(word, sub->get_name());
      if (d < best_d) {
        best_d = d;
        best = sub->get_name();
      }
    }
    std::string msg = "unknown command '" + word + "' for '" + path + "'";
    // A suggestion only when it is plausibly a typo (at most a third of the word wrong, >= 1).
    if (!best.empty() && best_d <= std::max<size_t>(1, word.size() / 3 + 1)) {
      msg += "; did you mean '" + path + " " + best + "'?";
    } else {
      msg += " (run '" + path + " --help' for the list)";
    }
    return msg;
  }
  return "";
}

void register_relay(CLI::App& app) {
  auto* relay = app.add_subcommand(
      "relay", "Cross-machine messaging: relay server, connector, identity and relay admin");
  relay->require_subcommand(1);
  register_relay_serve(*relay);
  register_relay_client_commands(*relay);
}

// The command groups, in `c2c --help` order, with the top-level words each one adds (aliases
// included). Only a speed-up: a word not listed here registers every group.
// `only`: the word to register the command of, "" for all of the group's commands. A group
// whose commands share their setup registers all of them whatever `only` says (whole<>).
using AddCommands = void (*)(CLI::App&, std::string_view only);
template <void (*AddGroup)(CLI::App&)>
void whole(CLI::App& app, std::string_view /*only*/) {
  AddGroup(app);
}
struct Group {
  AddCommands add;
  std::array<std::string_view, 8> words;  // unused slots stay empty
};
const Group kGroups[] = {
    // One by one: an agent's `c2c send` builds `send` alone, not its seven siblings.
    {register_peer_commands,
     {"register", "whoami", "list", "send", "send-all", "sweep", "dead-letter", "delivery-status"}},
    {whole<register_inbox_commands>, {"poll-inbox", "peek-inbox", "history"}},
    {whole<register_room_commands>, {"rooms", "room", "my-rooms"}},
    {whole<register_health_command>, {"health"}},
    // install <client>, uninstall and mail-hook hang off the install group's `install`.
    {whole<register_install_command>, {"install", "uninstall", "mail-hook"}},
    {whole<register_mcp_command>, {"mcp"}},
    {whole<register_client_commands>, {"install", "uninstall", "mail-hook"}},
    {whole<register_doctor_command>, {"doctor"}},
    {whole<register_relay>, {"relay"}},
};

}  // namespace

// Building the whole tree (hundreds of options) and tearing it down again took most of the
// instructions `c2c send` executes (docs/performance.md, "Start-up"); a command needs only its
// own group, a peer command only itself. --help, typos and unknown words still see every
// command.
void register_commands(CLI::App& app, int argc, const char* const* argv) {
  const std::string_view word = argc > 1 ? argv[1] : "";
  if (argc == 2 && (word == "--version" || word == "-V")) return;
  auto defines = [&](const Group& g) {
    return !word.empty() && std::find(g.words.begin(), g.words.end(), word) != g.words.end();
  };
  const bool known = std::any_of(std::begin(kGroups), std::end(kGroups), defines);
  for (const Group& g : kGroups) {
    if (!known) {
      g.add(app, "");
    } else if (defines(g)) {
      g.add(app, word);
    }
  }
}

int run(int argc, char** argv) {
  CLI::App app{"c2c: messaging for AI coding agents (local broker, MCP server, relay)", "c2c"};
  app.require_subcommand(1);
  app.set_version_flag("--version,-V", std::string("c2c ") + kVersion + " (" + kGitHash + ")");
  app.failure_message(CLI::FailureMessage::help);

  register_commands(app, argc, argv);

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
    if (const auto unknown = unknown_command_message(app, argc, argv); !unknown.empty()) {
      std::cerr << "error: " << unknown << "\n";
      return kExitUsage;
    }
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
