#include "c2c/core/env.hpp"

#include <cstdlib>
#include <utility>

namespace c2c {

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::optional<std::string> env_non_blank(const EnvLookup& env, std::string_view name) {
  auto v = env(name);
  if (!v || v->find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
  return v;
}

std::optional<std::filesystem::path> xdg_base_dir(XdgBase base, const EnvLookup& env) {
  const char* var = base == XdgBase::kConfig ? "XDG_CONFIG_HOME"
                    : base == XdgBase::kData ? "XDG_DATA_HOME"
                                             : "XDG_STATE_HOME";
  if (auto xdg = env_non_blank(env, var)) return std::filesystem::path(*xdg);
  auto home = env_non_blank(env, "HOME");
  if (!home) return std::nullopt;
  const std::filesystem::path h(*home);
  return base == XdgBase::kConfig ? h / ".config"
         : base == XdgBase::kData ? h / ".local" / "share"
                                  : h / ".local" / "state";
}

}  // namespace c2c
