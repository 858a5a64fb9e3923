#pragma once
// Who the caller is on this machine: the session id and the alias a command acts as, decided
// from an explicit flag, the environment and the local broker's registry. One rule for every
// command that needs it, local (send, poll-inbox, rooms) and relay (relay rooms, relay list's
// signed fallback): docs/cli.md "Who am I", docs/decisions.md D14. The environment is an input,
// so the rule is tested without touching the process's own.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/core/env.hpp"
#include "c2c/core/result.hpp"

namespace c2c::broker {

// The environment is read through core/env.hpp's EnvLookup (process_env() for the real one).
using c2c::EnvLookup;
using c2c::process_env;

// The variables naming the caller's session, in the order they are read.
inline constexpr std::array<const char*, 3> kSessionEnvVars = {
    "C2C_MCP_SESSION_ID", "CLAUDE_SESSION_ID", "CODEX_THREAD_ID"};
// The variable naming the caller's alias.
inline constexpr const char* kAliasEnvVar = "C2C_MCP_AUTO_REGISTER_ALIAS";

// A value read from the environment, trimmed, and the variable it came from ("" when none).
struct EnvValue {
  std::string value;
  std::string variable;
};
// The first of kSessionEnvVars that is set and not blank.
EnvValue env_session_id(const EnvLookup& env);
// kAliasEnvVar trimmed; "" when unset or blank.
std::string env_alias(const EnvLookup& env);

struct SenderSources {
  std::string flag;          // --from / --alias: wins when not empty
  std::string saved_alias;   // an operator alias saved in configuration ("" = none)
  std::string saved_source;  // where it was saved, for the user ("relay.json")
  // Relay commands work without a usable local broker: a registry that cannot be read counts
  // as one with no registrations instead of failing. (A broker directory that does not exist
  // yet has no registrations in either mode.)
  bool broker_optional = false;
};

struct SenderChoice {
  std::string alias;
  std::string source;  // for the user: "--from", "the alias of C2C_MCP_SESSION_ID", ...
};

// The alias a command acts as: the flag, else the alias registered for the environment's session
// (env_session_id), else C2C_MCP_AUTO_REGISTER_ALIAS, else the saved alias, else the only alias
// registered in the broker (aliases compared ignoring case). None of them: kNotFound, whose
// message starts "cannot determine your alias (" and says why. A registry that cannot be read
// fails with its own error (unless broker_optional).
Result<SenderChoice> resolve_sender(Broker& b, const EnvLookup& env, const SenderSources& in);

struct SessionChoice {
  std::string session_id;
  std::string note;  // set when the session is not the one the environment names
};

// The caller's session: the flag, else env_session_id. When that session is not registered but
// C2C_MCP_AUTO_REGISTER_ALIAS is, the alias's session (with a note saying so). No id at all:
// kNotFound "cannot determine session ID".
Result<SessionChoice> resolve_session(Broker& b, const EnvLookup& env, const std::string& flag);

// The aliases registered in the broker, each once (ignoring case, first spelling kept), empty
// ones skipped. A broker directory that does not exist yet has none.
Result<std::vector<std::string>> local_aliases(Broker& b);

}  // namespace c2c::broker
