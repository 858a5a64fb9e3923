#pragma once
// The process environment, read through a function: every rule that depends on it (which relay,
// which session and alias) takes an EnvLookup, so tests give it a map instead of the process's
// own variables.

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace c2c {

// A variable's value; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process's own environment (std::getenv).
EnvLookup process_env();

// An environment holding exactly `vars` (what tests give the rules).
EnvLookup env_of(std::map<std::string, std::string> vars);

// A variable that is set and holds more than whitespace; nullopt otherwise (the XDG Base
// Directory spec counts an empty variable as unset; a blank one is taken as empty too).
std::optional<std::string> env_non_blank(const EnvLookup& env, std::string_view name);

// The XDG base directories, by one rule wherever c2c places a file:
// $XDG_CONFIG_HOME, $XDG_DATA_HOME or $XDG_STATE_HOME when set (see env_non_blank), else
// $HOME/.config, $HOME/.local/share or $HOME/.local/state; nullopt when neither is set.
enum class XdgBase { kConfig, kData, kState };
std::optional<std::filesystem::path> xdg_base_dir(XdgBase base,
                                                  const EnvLookup& env = process_env());

}  // namespace c2c
