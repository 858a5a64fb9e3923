#pragma once
// Shared by the `c2c relay` client commands (setup, connect, status, list, gc, rooms, register,
// identity): the connection flags, config resolution, identity loading (D13), the relay client,
// and the one place relay failures become messages and exit codes.

#include <optional>
#include <string>

#include "c2c/broker/whoami.hpp"
#include "c2c/cli/cli_common.hpp"
#include "c2c/crypto/identity.hpp"
#include "c2c/relay/client/config.hpp"
#include "c2c/relay/client/relay_client.hpp"

namespace c2c::cli::relay_cli {

struct ConnOptions {
  std::string relay_url;
  std::string token;
  std::string token_file;
  std::string node_id;
  std::string broker_root;
  std::string identity_path;
  bool json = false;
};

// Adds --relay-url, --token, --token-file (+ --node-id, --broker-root, --identity-path when
// `full`) and --json when `json`.
void add_conn_options(CLI::App* cmd, ConnOptions& o, bool full, bool json);

// Resolves flags > env > saved config (relay::resolve); a config problem is a CliError.
// Warns on stderr when --token was given on the command line.
relay::Resolved resolve(const ConnOptions& o);
// Fails with the "relay URL not configured" guidance when no URL was resolved.
void require_url(const relay::Resolved& r);

// Loads the identity at r.identity_path; with create_if_missing a missing file is created and
// stderr says so (D13). A refused key (permissions, bad file) is a CliError.
std::optional<crypto::Identity> load_identity(const relay::Resolved& r, bool create_if_missing,
                                              std::string_view alias_hint = {});

struct ClientTimeouts {
  int connect_ms = 5'000;
  int request_ms = 10'000;
};
relay::RelayClient make_client(const relay::Resolved& r, std::optional<crypto::Identity> identity,
                               ClientTimeouts timeouts = {});

// The relay was unreachable: "relay UNREACHABLE: <url> (<reason>)" on stderr, or the JSON error
// object on stdout with --json. Exit 1.
[[noreturn]] void fail_unreachable(const std::string& url, const Error& error, bool json);
// The relay answered but refused: "error: <op>: <code>: <text>" plus a hint for the
// troubleshooting-table cases, or the relay's JSON body with --json. Exit 1.
[[noreturn]] void fail_reply(const std::string& op, const relay::RelayReply& reply, bool json);
// Unwraps a call: unreachable / bad answer / ok:false all end the command.
relay::RelayReply expect_ok(const std::string& op, const std::string& url,
                            Result<relay::RelayReply> r, bool json);
// The hint for a failed reply, "" when there is none.
std::string hint_for(const relay::RelayReply& reply);

// The alias a command acts as when --alias is not given: broker::resolve_sender (D14) with the
// operator alias saved in relay.json (`relay setup --alias`, or the first `relay rooms join
// --alias`) as its saved alias, a local broker that cannot be read counting as empty. nullopt
// when nothing decides.
using AliasChoice = broker::SenderChoice;
std::optional<AliasChoice> choose_alias(const relay::Resolved& r,
                                        const std::string& broker_root_flag);
std::optional<std::string> default_alias(const relay::Resolved& r,
                                         const std::string& broker_root_flag);

// Aliases registered in the local broker (for signing /list as one of this machine's aliases).
std::vector<std::string> local_aliases(const std::string& broker_root_flag);

// "HH:MM:SS" in local time.
std::string local_hms(double epoch_seconds);

// Registration of each command group (relay_*_cmd.cpp).
void register_identity_commands(CLI::App& relay);
void register_setup_command(CLI::App& relay);
void register_connect_command(CLI::App& relay);
void register_status_commands(CLI::App& relay);  // status, list, gc
void register_rooms_commands(CLI::App& relay);
void register_register_command(CLI::App& relay);

}  // namespace c2c::cli::relay_cli
