// `c2c install claude|codex|opencode|gemini`, `c2c uninstall <client>` and `c2c mail-hook`
// (Claude Code's PostToolUse hook): wiring over c2c/clients (docs/clients.md).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>

#include "c2c/broker/broker.hpp"
#include "c2c/cli/cli_common.hpp"
#include "c2c/clients/clients.hpp"
#include "c2c/core/env.hpp"
#include "c2c/core/text.hpp"

namespace c2c::cli {
namespace fs = std::filesystem;
using clients::Client;
using clients::Scope;

namespace {

struct ClientArgs {
  std::string scope = "user";
  std::string alias;
  std::string rooms;
  std::string broker_root;
  std::string command;
  bool dry_run = false;
  bool hook = false;
  bool json = false;
};

std::optional<fs::path> env_path(const char* name) {
  auto v = env_non_blank(process_env(), name);
  if (!v) return std::nullopt;
  return fs::path(*v);
}

clients::Locations locations() {
  clients::Locations loc;
  const auto home = env_path("HOME");
  if (!home) exit_with_error("HOME is not set");
  loc.home = *home;
  loc.project = fs::current_path();
  loc.codex_home = env_path("CODEX_HOME");
  loc.xdg_config_home = env_path("XDG_CONFIG_HOME");
  return loc;
}

clients::InstallOptions options(Client c, const ClientArgs& a) {
  clients::InstallOptions o;
  o.client = c;
  if (a.scope == "user") {
    o.scope = Scope::kUser;
  } else if (a.scope == "project") {
    o.scope = Scope::kProject;
  } else {
    exit_with_error("--scope must be user or project, got '" + a.scope + "'", kExitUsage);
  }
  if (!a.alias.empty() && !is_valid_alias(a.alias)) {
    exit_with_error("invalid alias '" + a.alias + "': 1-64 chars of [A-Za-z0-9._-], no leading dot",
                    kExitUsage);
  }
  o.alias = a.alias;
  for (const auto& part : split(a.rooms, ',')) {
    const std::string room(trim(part));
    if (room.empty()) continue;
    if (!is_valid_room_id(room))
      exit_with_error("invalid room '" + room + "': 1-64 chars of [A-Za-z0-9_-]", kExitUsage);
    o.rooms.push_back(room);
  }
  if (!a.broker_root.empty()) o.broker_root = fs::absolute(a.broker_root).lexically_normal();
  if (!a.command.empty()) {
    o.command = a.command;
  } else {
    // The binary that runs now: clients start servers with their own PATH, which may not
    // hold ~/.local/bin, so the entry names it by absolute path.
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) exit_with_error("cannot locate the running c2c binary: " + ec.message());
    o.command = self.string();
  }
  if (a.hook && c != Client::kClaude) exit_with_error("--hook is only for claude", kExitUsage);
  o.hook = a.hook;
  return o;
}

void run(Client c, const ClientArgs& a, bool install) {
  const auto o = options(c, a);
  const auto loc = locations();
  const clients::Plan plan =
      unwrap(install ? clients::plan_install(o, loc) : clients::plan_uninstall(o, loc));
  const std::string target = unwrap(clients::config_path(c, o.scope, loc)).string();
  if (!a.dry_run) unwrap(clients::apply(plan));
  if (a.json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& ch : plan.changes) {
      files.push_back({{"path", ch.path.string()},
                       {"backup", ch.existed ? ch.path.string() + ".c2c-backup" : ""}});
    }
    print_json({{"ok", true},
                {"client", clients::client_name(c)},
                {"action", install ? "install" : "uninstall"},
                {"config", target},
                {"changed", files},
                {"dry_run", a.dry_run},
                {"notes", plan.notes}});
    return;
  }
  if (a.dry_run) {
    if (plan.changes.empty()) std::cout << "no change: " << target << " is already up to date\n";
    std::cout << clients::describe(plan);
    return;
  }
  if (plan.changes.empty()) {
    std::cout << (install ? "c2c is already installed for " : "c2c is not installed for ")
              << clients::client_name(c) << " (" << target << " unchanged)\n";
  }
  for (const auto& ch : plan.changes) {
    std::cout << (install ? "updated " : "removed c2c from ") << ch.path.string();
    if (ch.existed) std::cout << " (backup: " << ch.path.string() << ".c2c-backup)";
    std::cout << "\n";
  }
  for (const auto& n : plan.notes) std::cout << "note: " << n << "\n";
}

void add_client_subcommands(CLI::App& parent, bool install) {
  for (Client c : clients::all_clients()) {
    const std::string name = clients::client_name(c);
    auto* sub = parent.add_subcommand(
        name, install ? "Add c2c's MCP server to " + name + "'s config (docs/clients.md)"
                      : "Remove c2c from " + name + "'s config");
    auto a = std::make_shared<ClientArgs>();
    sub->add_option("--scope", a->scope, "user (default) or project (the current directory)");
    if (install) {
      sub->add_option("--alias", a->alias,
                      "Alias the agent registers (default: the client's name)");
      sub->add_option("--rooms", a->rooms, "Comma-separated rooms to join at startup");
      sub->add_option("--broker-root", a->broker_root,
                      "Broker directory (default: per git repository)");
      sub->add_option("--command", a->command, "c2c binary the client starts (default: this one)");
      if (c == Client::kClaude) {
        sub->add_flag("--hook", a->hook, "Also add the PostToolUse hook that shows new mail");
      }
    }
    sub->add_flag("--dry-run", a->dry_run, "Print the change, write nothing");
    sub->add_flag("--json,-j", a->json, "Machine-readable output");
    sub->callback([c, a, install] { run(c, *a, install); });
  }
}

// Claude Code runs this after each tool call (PostToolUse). It reads the hook's JSON from
// stdin, peeks at that session's inbox without draining it and, when mail waits, tells the
// agent through additionalContext to call poll_inbox.
void mail_hook() {
  const std::string input((std::istreambuf_iterator<char>(std::cin)),
                          std::istreambuf_iterator<char>());
  const auto j = nlohmann::json::parse(input, nullptr, false);
  std::string sid;
  if (j.is_object() && j.contains("session_id") && j["session_id"].is_string())
    sid = j["session_id"];
  if (sid.empty()) {
    const char* v = std::getenv("CLAUDE_CODE_SESSION_ID");
    if (v != nullptr) sid = v;
  }
  if (sid.empty() || !is_safe_file_component(sid)) return;  // nothing to show; never block
  broker::Broker b(broker::resolve_root());
  auto msgs = b.peek(sid);
  if (!msgs || msgs->empty()) return;
  std::string from;
  for (const auto& m : *msgs) {
    if (from.find(m.from_alias) == std::string::npos)
      from += (from.empty() ? "" : ", ") + m.from_alias;
  }
  const std::string text = "c2c: " + std::to_string(msgs->size()) + " new message" +
                           (msgs->size() == 1 ? "" : "s") + " from " + from +
                           ". Call the c2c poll_inbox tool to read them.";
  std::cout << nlohmann::json{{"hookSpecificOutput",
                               {{"hookEventName", "PostToolUse"}, {"additionalContext", text}}}}
                   .dump()
            << "\n";
}

}  // namespace

void register_client_commands(CLI::App& app) {
  CLI::App* install = app.get_subcommand("install");
  add_client_subcommands(*install, true);
  auto* uninstall = app.add_subcommand("uninstall", "Remove c2c from an agent client's config");
  uninstall->require_subcommand(1);
  add_client_subcommands(*uninstall, false);
  auto* hook = app.add_subcommand("mail-hook", "Claude Code PostToolUse hook: report new mail");
  hook->callback([] { mail_hook(); });
}

}  // namespace c2c::cli
