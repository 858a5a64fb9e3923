// `c2c install self [--prefix DIR]`: copies the running binary to DIR/c2c (default ~/.local/bin).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <system_error>

#include "c2c/cli/cli_common.hpp"
#include "c2c/relay/client/config.hpp"

namespace c2c::cli {
namespace fs = std::filesystem;

namespace {
fs::path default_prefix() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') exit_with_error("HOME is not set; pass --prefix DIR");
  return fs::path(home) / ".local" / "bin";
}

void install_self(const std::string& prefix_arg, bool json) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) exit_with_error("cannot locate the running c2c binary: " + ec.message());
  const fs::path prefix = prefix_arg.empty() ? default_prefix() : fs::path(prefix_arg);
  fs::create_directories(prefix, ec);
  if (ec) exit_with_error("cannot create " + prefix.string() + ": " + ec.message());
  const fs::path dest = prefix / "c2c";
  // Copy to a temporary name and rename, so a running c2c at dest is never half-written.
  const fs::path tmp = prefix / (".c2c.tmp." + std::to_string(::getpid()));
  if (fs::equivalent(self, dest, ec)) {
    ec.clear();
  } else {
    fs::copy_file(self, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) exit_with_error("cannot copy to " + tmp.string() + ": " + ec.message());
    fs::permissions(tmp,
                    fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                        fs::perms::others_read | fs::perms::others_exec,
                    ec);
    fs::rename(tmp, dest, ec);
    if (ec) {
      fs::remove(tmp);
      exit_with_error("cannot install " + dest.string() + ": " + ec.message());
    }
  }
  // The quickstart's next steps write ~/.config/c2c/relay.json and a connector log under
  // ~/.local/share/c2c (a shell redirection, which does not create directories).
  if (auto dirs = relay::ensure_user_dirs(relay::process_env()); !dirs) {
    exit_with_error(dirs.error().message);
  }
  if (json) {
    print_json({{"ok", true}, {"installed", dest.string()}});
    return;
  }
  std::cout << "installed " << dest.string() << "\n";
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env ? path_env : "";
  if (path.find(prefix.string()) == std::string::npos) {
    std::cerr << "note: " << prefix.string() << " is not on PATH; add it to use 'c2c' directly\n";
  }
}
}  // namespace

void register_install_command(CLI::App& app) {
  auto* install = app.add_subcommand("install", "Install c2c itself (install self)");
  install->require_subcommand(1);
  auto* self = install->add_subcommand("self", "Copy this c2c binary to PREFIX/c2c");
  auto prefix = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  self->add_option("--prefix", *prefix, "Install directory (default ~/.local/bin)");
  self->add_flag("--json,-j", *json, "Machine-readable output");
  self->callback([prefix, json] { install_self(*prefix, *json); });
}

}  // namespace c2c::cli
