// c2c relay setup: save the relay URL, token and node id (relay.json, mode 0600).
#include <iostream>
#include <memory>

#include "c2c/cli/relay_cli.hpp"
#include "c2c/core/text.hpp"

namespace c2c::cli::relay_cli {

namespace {

struct SetupOptions {
  std::string url;
  std::string token;
  std::string token_file;
  std::string node_id;
  std::string ca_bundle;
  std::string alias;
  std::string broker_root;
  bool show = false;
  bool json = false;
};

nlohmann::json masked(const relay::SavedConfig& c) {
  nlohmann::json j = nlohmann::json::object();
  if (c.url) j["url"] = *c.url;
  if (c.token) j["token"] = "***";
  if (c.node_id) j["node_id"] = *c.node_id;
  if (c.ca_bundle) j["ca_bundle"] = *c.ca_bundle;
  if (c.alias) j["alias"] = *c.alias;
  return j;
}

void print_fields(const relay::SavedConfig& c) {
  if (c.url) std::cout << "  url: " << *c.url << "\n";
  if (c.token) std::cout << "  token: ***\n";
  if (c.node_id) std::cout << "  node_id: " << *c.node_id << "\n";
  if (c.ca_bundle) std::cout << "  ca_bundle: " << *c.ca_bundle << "\n";
  if (c.alias) std::cout << "  alias: " << *c.alias << "\n";
}

void run_show(const SetupOptions& o, const relay::Env& env) {
  std::optional<std::filesystem::path> root;
  if (!o.broker_root.empty()) root = o.broker_root;
  for (const auto& p : relay::config_search_paths(env, root)) {
    auto c = relay::read_config_file(p);
    if (!c && c.error().code == ErrorCode::kNotFound) continue;
    if (!c) exit_with_error(c.error().message);
    if (o.json) {
      print_json({{"ok", true}, {"path", p.string()}, {"config", masked(c.value())}});
    } else {
      std::cout << "config: " << p.string() << "\n";
      print_fields(c.value());
    }
    return;
  }
  const auto p = relay::config_save_path(env, root);
  if (o.json) {
    print_json({{"ok", true}, {"path", p.string()}, {"config", nullptr}});
  } else {
    std::cout << "config: " << p.string() << "\n  (no config saved)\n";
  }
}

void run_setup(const SetupOptions& o) {
  const auto env = relay::process_env();
  if (o.show) {
    run_show(o, env);
    return;
  }
  std::optional<std::filesystem::path> root;
  if (!o.broker_root.empty()) root = o.broker_root;
  const auto path = relay::config_save_path(env, root);

  // Merge into what is there: `setup --token NEW` keeps the saved URL and node id. Setup is
  // what every config error tells the user to run, so an unreadable file is replaced, never
  // a reason to stop (a too-open one is rewritten 0600 below).
  relay::SavedConfig c;
  if (auto existing = relay::read_config_file(path, /*check_mode=*/false)) {
    c = std::move(existing).value();
  } else if (existing.error().code != ErrorCode::kNotFound) {
    std::cerr << "warning: replacing the unusable relay config (" << existing.error().message
              << ")\n";
  }
  if (!o.url.empty()) {
    auto url = relay::normalize_url(o.url);
    if (!url) exit_with_error("relay setup: " + url.error().message);
    c.url = std::move(url).value();
  }
  if (!o.token.empty()) {
    std::cerr << "warning: --token on the command line is visible to other users in the process "
                 "list; prefer --token-file FILE or the C2C_RELAY_TOKEN environment variable\n";
    c.token = o.token;
  } else if (!o.token_file.empty()) {
    auto t = relay::read_token_file(o.token_file);
    if (!t) exit_with_error("relay setup: " + t.error().message);
    c.token = std::move(t).value();
  }
  if (!o.node_id.empty()) {
    if (!relay::is_valid_node_id(o.node_id)) {
      exit_with_error("relay setup: invalid node id '" + o.node_id +
                      "': use 1-128 printable characters without spaces, '@', '#' or '/'");
    }
    c.node_id = o.node_id;
  }
  if (!o.ca_bundle.empty()) {
    std::error_code ec;
    const auto abs = std::filesystem::absolute(o.ca_bundle, ec);
    if (ec || !std::filesystem::is_regular_file(abs, ec)) {
      exit_with_error("relay setup: --ca-bundle " + o.ca_bundle + " is not a readable file");
    }
    c.ca_bundle = abs.string();
  }
  if (!o.alias.empty()) {
    if (!is_valid_alias(o.alias)) {
      exit_with_error("relay setup: invalid alias '" + o.alias +
                          "' (1-64 characters of A-Z a-z 0-9 . _ -, not starting with '.')",
                      kExitUsage);
    }
    c.alias = o.alias;
  }
  if (!c.url) exit_with_error("relay setup: --url is required (e.g. --url http://RELAY_HOST:7331)");

  // The quickstart's next steps write under these (the connector log goes to ~/.local/share/c2c).
  if (auto dirs = relay::ensure_user_dirs(env); !dirs)
    exit_with_error("relay setup: " + dirs.error().message);

  auto written = relay::write_config_file(path, c);
  if (!written) exit_with_error("relay setup: " + written.error().message);
  if (o.json) {
    print_json({{"ok", true}, {"path", path.string()}, {"config", masked(c)}});
    return;
  }
  std::cout << "relay config saved to " << path.string() << "\n";
  print_fields(c);
}

}  // namespace

void register_setup_command(CLI::App& relay) {
  auto o = std::make_shared<SetupOptions>();
  auto* cmd = relay.add_subcommand("setup", "Save the relay URL and token for this machine");
  cmd->add_option("--url", o->url, "Relay URL, e.g. http://RELAY_HOST:7331");
  auto* token = cmd->add_option("--token", o->token, "Admin token (prefer --token-file)");
  auto* token_file = cmd->add_option("--token-file", o->token_file, "Read the token from a file");
  token->excludes(token_file);
  cmd->add_option("--node-id", o->node_id, "This machine's node id (the host in alias@host)");
  cmd->add_option("--ca-bundle", o->ca_bundle,
                  "PEM file of CAs to trust for an https:// relay (default: the system store)");
  cmd->add_option("--alias", o->alias,
                  "Operator alias that 'c2c relay rooms' acts as when --alias is not given");
  cmd->add_option("--broker-root", o->broker_root,
                  "Save to <broker-root>/relay.json instead of the user config");
  cmd->add_flag("--show", o->show, "Print the saved config (token masked)");
  cmd->add_flag("--json", o->json, "Machine-readable JSON output");
  cmd->callback([o] { run_setup(*o); });
}

}  // namespace c2c::cli::relay_cli
