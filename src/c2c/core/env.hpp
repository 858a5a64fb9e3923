#pragma once
// The process environment, read through a function: every rule that depends on it (which relay,
// which session and alias) takes an EnvLookup, so tests give it a map instead of the process's
// own variables.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace c2c {

// A variable's value; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process's own environment (std::getenv).
EnvLookup process_env();

}  // namespace c2c
