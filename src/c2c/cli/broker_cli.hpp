#pragma once
// Shared by the local-broker command groups (peer, inbox, room, health): opening the broker,
// who "I" am (session id and sender alias from flags and env), tag flags, output helpers.

#include <optional>
#include <string>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/broker/json_view.hpp"
#include "c2c/cli/cli_common.hpp"

namespace c2c::cli {

// The JSON shapes of broker data, shared with the MCP tools.
namespace json_view = broker::json_view;

// The broker at the resolved root (docs/protocol.md §6).
broker::Broker open_broker();

// The process environment's session id and alias (broker/whoami.hpp); "" if none.
std::string env_session_id();
std::string env_alias();

// broker::resolve_sender over the process environment: --from wins; when nothing decides, the
// error's hint names --from.
std::string resolve_sender(broker::Broker& b, const std::string& from_flag);

// broker::resolve_session over the process environment; its note goes to stderr as an info
// line; no id at all fails naming --session-id.
std::string resolve_session(broker::Broker& b, const std::string& flag);

// --fail / --blocking / --urgent (mutually exclusive: using two is a usage error, exit 2).
struct TagFlags {
  bool fail = false;
  bool blocking = false;
  bool urgent = false;
  std::string tag() const;
};
void add_tag_flags(CLI::App& cmd, TagFlags& flags);

// Joins positional words with single spaces ("c2c send bob hello there").
std::string join_words(const std::vector<std::string>& words);

// "alive" / "dead" / "unknown".
const char* liveness_name(broker::Liveness l);

}  // namespace c2c::cli
