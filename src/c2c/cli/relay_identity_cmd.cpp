// c2c relay identity init|show|fingerprint: this machine's Ed25519 identity (identity.json).
#include <filesystem>
#include <iostream>
#include <memory>

#include "c2c/cli/relay_cli.hpp"
#include "c2c/core/clock.hpp"

namespace c2c::cli::relay_cli {

namespace {

struct IdentityOptions {
  std::string path;
  std::string alias_hint;
  bool force = false;
  bool json = false;
};

// --path / --identity-path > C2C_RELAY_IDENTITY_PATH > the default path.
std::filesystem::path identity_path(const IdentityOptions& o) {
  auto env = relay::process_env();
  if (!o.path.empty()) return o.path;
  if (auto v = env("C2C_RELAY_IDENTITY_PATH"); v && !v->empty()) return *v;
  return relay::user_config_dir(env) / "identity.json";
}

void add_path_options(CLI::App* cmd, IdentityOptions& o) {
  cmd->add_option("--path,--identity-path", o.path,
                  "Identity file (else C2C_RELAY_IDENTITY_PATH, else ~/.config/c2c/identity.json)");
}

crypto::Identity load_or_fail(const std::filesystem::path& path, bool json) {
  auto id = crypto::load_identity(path);
  if (!id) {
    std::string msg = id.error().message;
    if (id.error().code == ErrorCode::kNotFound) {
      msg += "\n  Create one with: c2c relay identity init";
    } else if (msg.find("permissions too permissive") != std::string::npos) {
      msg += "\n  The private key must be readable by you only. Fix it with: chmod 600 " +
             path.string();
    }
    if (json) print_json({{"ok", false}, {"error", id.error().message}, {"path", path.string()}});
    exit_with_error(msg);
  }
  return std::move(id).value();
}

void run_init(const IdentityOptions& o) {
  const auto path = identity_path(o);
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !o.force) {
    if (o.json) {
      print_json({{"ok", false},
                  {"error", "identity exists"},
                  {"path", path.string()},
                  {"hint", "pass --force to overwrite"}});
    }
    exit_with_error(path.string() + " already exists. Pass --force to overwrite.");
  }
  auto id = crypto::new_identity(o.alias_hint, SystemClock::instance().now());
  auto saved = crypto::save_identity(path, id);
  if (!saved) {
    if (o.json) print_json({{"ok", false}, {"error", saved.error().message}});
    exit_with_error(saved.error().message);
  }
  if (o.json) {
    print_json({{"ok", true},
                {"path", path.string()},
                {"fingerprint", id.fingerprint},
                {"public_key", id.public_key_b64u()},
                {"alias_hint", id.alias_hint},
                {"created_at", id.created_at}});
    return;
  }
  std::cout << "identity written to " << path.string() << "\n";
  std::cout << "  fingerprint: " << id.fingerprint << "\n";
  if (!id.alias_hint.empty()) std::cout << "  alias_hint:  " << id.alias_hint << "\n";
  std::cout << "  created_at:  " << id.created_at << "\n";
}

void run_show(const IdentityOptions& o) {
  const auto path = identity_path(o);
  const auto id = load_or_fail(path, o.json);
  if (o.json) {
    print_json({{"ok", true},
                {"path", path.string()},
                {"public_key", id.public_key_b64u()},
                {"fingerprint", id.fingerprint},
                {"alias_hint", id.alias_hint},
                {"created_at", id.created_at},
                {"alg", "ed25519"},
                {"version", 1}});
    return;
  }
  std::cout << "path:        " << path.string() << "\n";
  std::cout << "fingerprint: " << id.fingerprint << "\n";
  std::cout << "public_key:  " << id.public_key_b64u() << "\n";
  std::cout << "alg:         ed25519\n";
  if (!id.alias_hint.empty()) std::cout << "alias_hint:  " << id.alias_hint << "\n";
  std::cout << "created_at:  " << id.created_at << "\n";
}

}  // namespace

void register_identity_commands(CLI::App& relay) {
  auto* identity = relay.add_subcommand(
      "identity", "This machine's Ed25519 identity (signs relay requests); alone = show");
  identity->require_subcommand(0, 1);
  auto shared_show = std::make_shared<IdentityOptions>();
  add_path_options(identity, *shared_show);
  identity->add_flag("--json", shared_show->json, "Machine-readable JSON output");

  auto init_o = std::make_shared<IdentityOptions>();
  auto* init = identity->add_subcommand("init", "Generate a new identity (0600, in a 0700 dir)");
  add_path_options(init, *init_o);
  init->add_option("--alias-hint", init_o->alias_hint, "Free text stored with the identity");
  init->add_flag("--force", init_o->force, "Overwrite an existing identity");
  init->add_flag("--json", init_o->json, "Machine-readable JSON output");
  init->callback([init_o] { run_init(*init_o); });

  auto show_o = std::make_shared<IdentityOptions>();
  auto* show = identity->add_subcommand("show", "Print the identity's path and fingerprint");
  add_path_options(show, *show_o);
  show->add_flag("--json", show_o->json, "Machine-readable JSON output");
  show->callback([show_o] { run_show(*show_o); });

  auto fp_o = std::make_shared<IdentityOptions>();
  auto* fp = identity->add_subcommand("fingerprint", "Print the fingerprint alone");
  add_path_options(fp, *fp_o);
  fp->callback(
      [fp_o] { std::cout << load_or_fail(identity_path(*fp_o), false).fingerprint << "\n"; });

  identity->callback([identity, shared_show] {
    if (identity->get_subcommands().empty()) run_show(*shared_show);
  });
}

}  // namespace c2c::cli::relay_cli
