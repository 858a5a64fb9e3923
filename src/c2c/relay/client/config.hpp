#pragma once
// Relay client configuration: where the relay is, the admin token, this machine's node id and
// identity file. One resolution order for every `c2c relay` client command (docs/quickstart.md):
//   URL / token: flags > C2C_RELAY_URL / C2C_RELAY_TOKEN > saved relay.json
//                (a saved token goes only to the URL saved with it: docs/security.md)
//   relay.json:  C2C_RELAY_CONFIG > <broker-root>/relay.json > ~/.config/c2c/relay.json
//                (reading uses the first of those files that exists)
//   node id:     --node-id > C2C_RELAY_NODE_ID > saved node_id > <hostname>-<git hash> (D8)
//   identity:    --identity-path > C2C_RELAY_IDENTITY_PATH > ~/.config/c2c/identity.json
// The environment and host facts are injected so every rule is unit-testable.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/core/env.hpp"
#include "c2c/core/result.hpp"

namespace c2c::relay {

// An environment variable's value, nullopt when unset (core/env.hpp). Blank values count as unset
// everywhere in this module (an exported-but-empty variable must not hide the saved config).
using Env = EnvLookup;
using c2c::process_env;

// What the machine tells us for the default node id (D8).
struct HostFacts {
  std::function<std::string()> hostname;
  // `git config --get remote.origin.url` in the current directory; "" outside a repo.
  std::function<std::string()> git_origin_url;
};
HostFacts system_host_facts();

// <hostname>-<first 8 hex of sha256(origin url)>, or <hostname>-local when there is no origin.
std::string derive_node_id(const HostFacts& facts);

// A node id ends up as the host part of alias@host: 1-128 chars, no '@', '#', '/', space or
// control characters.
bool is_valid_node_id(std::string_view node_id);

// The saved relay.json (all fields optional; unknown keys are preserved on rewrite).
struct SavedConfig {
  std::optional<std::string> url;
  std::optional<std::string> token;
  std::optional<std::string> node_id;
  std::optional<std::string> ca_bundle;
  std::optional<std::string> alias;  // the operator alias for `relay rooms` (setup / first join)
  std::string extra_json = "{}";     // unknown keys, as a JSON object text
};

// Reads relay.json. An empty (or all-whitespace) file is an empty config. kNotFound when missing;
// kBadRequest with the path when it is not a JSON object or a known field is not a string; kIo
// when it holds a token and others can read it (unless check_mode is false: `relay setup`
// rewrites the file 0600 anyway).
Result<SavedConfig> read_config_file(const std::filesystem::path& path, bool check_mode = true);
// Writes relay.json atomically (tmp + fsync + rename), mode 0600, parent dirs created 0700.
Result<void> write_config_file(const std::filesystem::path& path, const SavedConfig& config);

// ~/.config/c2c (XDG_CONFIG_HOME/c2c when set).
std::filesystem::path user_config_dir(const Env& env);
// ~/.local/share/c2c (XDG_DATA_HOME/c2c when set): logs, e.g. the connector's under nohup.
std::filesystem::path user_data_dir(const Env& env);
// Creates user_config_dir and user_data_dir (and ~/.local/share/c2c when XDG_DATA_HOME moves the
// data dir elsewhere: the quickstart writes there literally), missing parents too, mode 0700.
// Existing directories are left as they are.
Result<void> ensure_user_dirs(const Env& env);
// Where `relay setup` writes: C2C_RELAY_CONFIG > <broker-root>/relay.json > user config dir.
std::filesystem::path config_save_path(const Env& env,
                                       const std::optional<std::filesystem::path>& broker_root);
// Where commands read, in order (the first existing file wins).
std::vector<std::filesystem::path> config_search_paths(
    const Env& env, const std::optional<std::filesystem::path>& broker_root);

// Command-line values; nullopt = flag not given.
struct Flags {
  std::optional<std::string> relay_url;
  std::optional<std::string> token;
  std::optional<std::string> token_file;
  std::optional<std::string> node_id;
  std::optional<std::filesystem::path> broker_root;
  std::optional<std::filesystem::path> identity_path;
};

struct Resolved {
  std::string url;         // trailing '/' stripped; "" when nothing configured it
  std::string url_source;  // "--relay-url", "C2C_RELAY_URL", "<path>", ""
  std::string token;       // "" = no token
  std::string token_source;
  std::string alias;  // the saved operator alias, "" when none
  std::string node_id;
  std::string node_id_source;
  std::optional<std::filesystem::path> config_path;  // the relay.json that was read, if any
  std::string ca_bundle;
  std::filesystem::path identity_path;
  bool identity_path_explicit = false;  // from the flag or C2C_RELAY_IDENTITY_PATH
  // What the user should know about the saved config that did not stop the command: an invalid
  // relay.json ignored because the URL was given explicitly, or a saved token not sent because
  // it was saved for another URL. One line each; empty when there is nothing to say.
  std::vector<std::string> notes;
};

// Resolves everything. Errors: unreadable/empty --token-file, a URL that is not http(s)://, an
// invalid node id, and an invalid relay.json when the command needs it (no URL given by flag or
// environment); with an explicit URL an invalid relay.json is ignored with a note.
// The saved token is used only when the resolved URL is the one saved with it; a token given by
// flag, token file or environment goes to whatever URL was resolved.
Result<Resolved> resolve(const Flags& flags, const Env& env, const HostFacts& facts);

// "http://host:7331/" -> "http://host:7331". kBadRequest unless http:// or https:// with a host.
Result<std::string> normalize_url(std::string_view url);

// Reads a token file: whole file, whitespace-trimmed; an empty token is an error.
Result<std::string> read_token_file(const std::filesystem::path& path);

}  // namespace c2c::relay
