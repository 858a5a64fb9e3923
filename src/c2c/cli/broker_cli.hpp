#pragma once
// Shared by the local-broker command groups (peer, inbox, room, health): opening the broker,
// who "I" am (session id and sender alias from flags and env), tag flags, output helpers.

#include <functional>
#include <iostream>
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

// Options several local-broker commands take, each defined once: --session-id/-s (default:
// from the environment), --from/-F (the sender), --alias/-a (a room member), a required room id.
void add_session_option(CLI::App& cmd, std::string& session_id);
void add_from_option(CLI::App& cmd, std::string& from);
void add_member_option(CLI::App& cmd, std::string& alias);
void add_room_arg(CLI::App& cmd, std::string& room);

// The options of a command acting on one session: --session-id/-s and --json/-j.
struct SessionOptions {
  std::string session_id;
  bool json = false;
};
// Adds such a command; `run` gets its options once parsed.
CLI::App* add_session_command(CLI::App& parent, const std::string& name,
                              const std::string& description,
                              std::function<void(const SessionOptions&)> run);

// A listing's output: with --json, the array of to_json(item); else the line `none` when there
// are no items, or print_item(item) for each.
template <typename T, typename ToJson, typename PrintItem>
void print_listing(const std::vector<T>& items, bool json, ToJson&& to_json, const char* none,
                   PrintItem&& print_item) {
  if (json) {
    auto arr = nlohmann::json::array();
    for (const auto& item : items) arr.push_back(to_json(item));
    print_json(arr);
    return;
  }
  if (items.empty()) {
    std::cout << none << "\n";
    return;
  }
  for (const auto& item : items) print_item(item);
}

// Joins positional words with single spaces ("c2c send bob hello there").
std::string join_words(const std::vector<std::string>& words);

// "alive" / "dead" / "unknown".
const char* liveness_name(broker::Liveness l);

}  // namespace c2c::cli
