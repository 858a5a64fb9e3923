#pragma once
// Temporary registration for command groups under construction: the command exists in
// --help but fails with a clear error. Each *_cmd.cpp replaces its use of this.
#include "c2c/cli/cli_common.hpp"

namespace c2c::cli {
inline void add_unbuilt(CLI::App& parent, const std::string& name, const std::string& help) {
  auto* sub = parent.add_subcommand(name, help);
  sub->allow_extras();
  sub->callback(
      [name] { exit_with_error("'" + name + "' is not built yet in this version of c2c"); });
}
}  // namespace c2c::cli
