#include "c2c/broker/whoami.hpp"

#include "c2c/core/text.hpp"

namespace c2c::broker {

namespace {

std::string env_trimmed(const EnvLookup& env, std::string_view name) {
  auto v = env(name);
  return v ? std::string(trim(*v)) : std::string();
}

// The alias registered for the environment's session, "" when there is none.
Result<std::string> alias_of_session(Broker& b, const std::string& sid) {
  auto row = b.find_session(sid);
  if (!row) return fail(row.error());
  return *row ? (*row)->alias : std::string();
}

}  // namespace

EnvValue env_session_id(const EnvLookup& env) {
  for (const char* name : kSessionEnvVars) {
    std::string v = env_trimmed(env, name);
    if (!v.empty()) return {std::move(v), name};
  }
  return {};
}

std::string env_alias(const EnvLookup& env) {
  return env_trimmed(env, kAliasEnvVar);
}

Result<std::vector<std::string>> local_aliases(Broker& b) {
  std::vector<std::string> out;
  auto regs = b.registrations();
  if (!regs) return fail(regs.error());
  for (const auto& r : *regs) {
    if (r.alias.empty()) continue;
    bool seen = false;
    for (const auto& a : out) seen = seen || iequals(a, r.alias);
    if (!seen) out.push_back(r.alias);
  }
  return out;
}

Result<SenderChoice> resolve_sender(Broker& b, const EnvLookup& env, const SenderSources& in) {
  if (!in.flag.empty()) return SenderChoice{in.flag, "given"};
  const EnvValue sid = env_session_id(env);
  if (!sid.value.empty()) {
    auto alias = alias_of_session(b, sid.value);
    if (!alias && !in.broker_optional) return fail(alias.error());
    if (alias && !alias->empty()) return SenderChoice{*alias, "the alias of " + sid.variable};
  }
  if (std::string alias = env_alias(env); !alias.empty()) {
    return SenderChoice{std::move(alias), kAliasEnvVar};
  }
  if (!in.saved_alias.empty()) return SenderChoice{in.saved_alias, in.saved_source};
  auto found = local_aliases(b);
  if (!found && !in.broker_optional) return fail(found.error());
  const std::vector<std::string> aliases = found ? std::move(*found) : std::vector<std::string>{};
  if (aliases.size() == 1) return SenderChoice{aliases.front(), "the only local alias"};
  std::string why = aliases.empty()
                        ? "no alias is registered in this broker"
                        : std::to_string(aliases.size()) + " aliases are registered here";
  if (!sid.value.empty()) why = "session " + sid.value + " is not registered and " + why;
  return fail(ErrorCode::kNotFound, "cannot determine your alias (" + why + ")");
}

Result<SessionChoice> resolve_session(Broker& b, const EnvLookup& env, const std::string& flag) {
  if (!flag.empty()) return SessionChoice{flag, ""};
  std::string sid = env_session_id(env).value;
  if (sid.empty()) return fail(ErrorCode::kNotFound, "cannot determine session ID");
  auto row = b.find_session(sid);
  if (!row) return fail(row.error());
  if (*row) return SessionChoice{std::move(sid), ""};
  if (const std::string alias = env_alias(env); !alias.empty()) {
    auto owner = b.find_alias(alias);
    if (!owner) return fail(owner.error());
    if (*owner) {
      return SessionChoice{(*owner)->session_id,
                           "session " + sid + " is not registered; using session " +
                               (*owner)->session_id + " of alias " + (*owner)->alias};
    }
  }
  return SessionChoice{std::move(sid), ""};
}

}  // namespace c2c::broker
