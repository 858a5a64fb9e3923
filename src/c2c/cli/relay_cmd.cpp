// `c2c relay` client commands: registration of every group, and the helpers they share
// (config resolution, identity, relay client, error reporting).
#include <ctime>
#include <iostream>

#include "c2c/broker/broker.hpp"
#include "c2c/cli/relay_cli.hpp"
#include "c2c/core/text.hpp"

namespace c2c::cli {

void register_relay_client_commands(CLI::App& relay) {
  relay_cli::register_setup_command(relay);
  relay_cli::register_connect_command(relay);
  relay_cli::register_status_commands(relay);
  relay_cli::register_rooms_commands(relay);
  relay_cli::register_register_command(relay);
  relay_cli::register_identity_commands(relay);
}

namespace relay_cli {

void add_conn_options(CLI::App* cmd, ConnOptions& o, bool full, bool json) {
  cmd->add_option("--relay-url", o.relay_url,
                  "Relay URL (else C2C_RELAY_URL, else the saved relay.json)");
  cmd->add_option("--token", o.token,
                  "Admin Bearer token (visible in the process list: prefer --token-file or "
                  "C2C_RELAY_TOKEN)");
  cmd->add_option("--token-file", o.token_file, "Read the admin token from this file");
  if (full) {
    cmd->add_option("--node-id", o.node_id,
                    "This machine's node id (else C2C_RELAY_NODE_ID, saved config, "
                    "<hostname>-<git hash>)");
    cmd->add_option("--broker-root", o.broker_root,
                    "Local broker directory (else C2C_MCP_BROKER_ROOT / the per-repo default)");
    cmd->add_option("--identity-path", o.identity_path,
                    "Ed25519 identity file (else C2C_RELAY_IDENTITY_PATH, else "
                    "~/.config/c2c/identity.json)");
  }
  if (json) cmd->add_flag("--json", o.json, "Machine-readable JSON output");
}

relay::Resolved resolve(const ConnOptions& o) {
  relay::Flags f;
  if (!o.relay_url.empty()) f.relay_url = o.relay_url;
  if (!o.token.empty()) {
    f.token = o.token;
    std::cerr << "warning: --token on the command line is visible to other users in the process "
                 "list; prefer --token-file FILE or the C2C_RELAY_TOKEN environment variable\n";
  }
  if (!o.token_file.empty()) f.token_file = o.token_file;
  if (!o.node_id.empty()) f.node_id = o.node_id;
  if (!o.broker_root.empty()) f.broker_root = o.broker_root;
  if (!o.identity_path.empty()) f.identity_path = o.identity_path;
  auto r = relay::resolve(f, relay::process_env(), relay::system_host_facts());
  if (!r) exit_with_error(r.error().message);
  for (const auto& note : r->notes) std::cerr << "note: " << note << "\n";
  return std::move(r).value();
}

void require_url(const relay::Resolved& r) {
  if (!r.url.empty()) return;
  exit_with_error(
      "relay URL not configured.\n"
      "  Run: c2c relay setup --url http://HOST:7331 --token-file FILE\n"
      "  Or pass --relay-url http://HOST:7331, or set C2C_RELAY_URL");
}

std::optional<crypto::Identity> load_identity(const relay::Resolved& r, bool create_if_missing,
                                              std::string_view alias_hint) {
  auto loaded = relay::load_or_create_identity(r.identity_path, create_if_missing, alias_hint);
  if (!loaded) {
    std::string msg = loaded.error().message;
    if (msg.find("permissions too permissive") != std::string::npos) {
      msg += "\n  The private key must be readable by you only. Fix it with: chmod 600 " +
             r.identity_path.string();
    }
    exit_with_error(msg);
  }
  if (loaded->created) {
    std::cerr << "c2c: no relay identity found; created a new Ed25519 identity at "
              << loaded->path.string() << " (fingerprint " << loaded->identity->fingerprint
              << ")\n";
  }
  return std::move(loaded->identity);
}

relay::RelayClient make_client(const relay::Resolved& r, std::optional<crypto::Identity> identity,
                               ClientTimeouts timeouts) {
  relay::RelayClientOptions o;
  o.base_url = r.url;
  o.token = r.token;
  o.identity = std::move(identity);
  o.http.connect_timeout = std::chrono::milliseconds(timeouts.connect_ms);
  o.http.request_timeout = std::chrono::milliseconds(timeouts.request_ms);
  if (const char* ca = std::getenv("C2C_RELAY_CA_BUNDLE"); ca != nullptr && *ca != '\0') {
    o.http.ca_bundle = ca;
  } else {
    o.http.ca_bundle = r.ca_bundle;
  }
  auto c = relay::RelayClient::create(std::move(o));
  if (!c) exit_with_error(c.error().message);
  return std::move(c).value();
}

void fail_unreachable(const std::string& url, const Error& error, bool json) {
  const bool unreachable = error.code == ErrorCode::kUnavailable;
  if (json) {
    print_json({{"ok", false},
                {"error_code", unreachable ? "connection_error" : "invalid_response"},
                {"error", unreachable ? "relay unreachable" : "invalid relay response"},
                {"detail", error.message},
                {"url", url}});
  }
  if (!unreachable) exit_with_error(error.message);
  // An https:// URL to a relay that speaks plain HTTP fails in the TLS handshake with OpenSSL's
  // "wrong version number" / "packet length too long": the fix is the scheme, not a certificate.
  const bool plain_http = starts_with(casefold(url), "https://") &&
                          (error.message.find("wrong version number") != std::string::npos ||
                           error.message.find("packet length too long") != std::string::npos ||
                           error.message.find("http request") != std::string::npos);
  if (plain_http) {
    exit_with_error("relay UNREACHABLE: " + url + " (" + error.message +
                    ")\n  The relay answered in plain " + "HTTP, not TLS: use http://" +
                    url.substr(8) + " (or put a TLS proxy in front of it)");
  }
  const bool tls = error.message.find("certificate") != std::string::npos ||
                   error.message.find("TLS") != std::string::npos ||
                   error.message.find("SSL") != std::string::npos;
  exit_with_error(
      "relay UNREACHABLE: " + url + " (" + error.message + ")\n  " +
      (tls ? "The relay's TLS certificate was not accepted: use a certificate the system trusts, "
             "or point C2C_RELAY_CA_BUNDLE (or 'c2c relay setup --ca-bundle PEM') at its CA"
           : "Check that 'c2c relay serve' is running and the URL is right"));
}

std::string hint_for(const relay::RelayReply& reply) {
  const std::string code = reply.error_code();
  const std::string text = reply.error_text();
  if (code == "unauthorized" && text.find("Ed25519") != std::string::npos &&
      text.find("Bearer is admin-only") == std::string::npos) {
    return "Run 'c2c relay identity init', then pass --identity-path or set "
           "C2C_RELAY_IDENTITY_PATH";
  }
  if (code == "unauthorized" && text.find("Bearer") != std::string::npos) {
    return "This is an admin route: pass --token-file FILE (or --token), or set C2C_RELAY_TOKEN";
  }
  if (code == "unauthorized" && text.find("identity binding") != std::string::npos) {
    return "Register the alias first ('c2c relay register --alias A' or run the connector)";
  }
  if (code == "alias_conflict") {
    return "Another node holds a live lease on this alias: each node needs a unique alias, or "
           "wait for the other session's lease to expire";
  }
  if (code == "alias_identity_mismatch") {
    return "The alias is bound to a different identity key on the relay (another machine "
           "registered it first)";
  }
  if (code == "unknown_alias") return "The alias is not registered on the relay";
  return "";
}

void fail_reply(const std::string& op, const relay::RelayReply& reply, bool json) {
  if (json) print_json(reply.body);
  std::string msg = op + ": " + reply.describe();
  const std::string hint = hint_for(reply);
  if (!hint.empty()) msg += "\n  " + hint;
  exit_with_error(msg);
}

relay::RelayReply expect_ok(const std::string& op, const std::string& url,
                            Result<relay::RelayReply> r, bool json) {
  if (!r) fail_unreachable(url, r.error(), json);
  if (!r->ok()) fail_reply(op, r.value(), json);
  return std::move(r).value();
}

namespace {
broker::Broker local_broker(const std::string& broker_root_flag) {
  return broker::Broker(broker_root_flag.empty() ? broker::resolve_root()
                                                 : std::filesystem::path(broker_root_flag));
}
}  // namespace

std::vector<std::string> local_aliases(const std::string& broker_root_flag) {
  auto b = local_broker(broker_root_flag);
  return broker::local_aliases(b).value_or(std::vector<std::string>{});
}

std::optional<AliasChoice> choose_alias(const relay::Resolved& r,
                                        const std::string& broker_root_flag) {
  broker::SenderSources in;
  in.saved_alias = r.alias;
  in.saved_source = "the operator alias saved in " +
                    (r.config_path ? r.config_path->string() : std::string("relay.json"));
  in.broker_optional = true;
  auto b = local_broker(broker_root_flag);
  auto choice = broker::resolve_sender(b, broker::process_env(), in);
  if (!choice) return std::nullopt;
  return std::move(choice).value();
}

std::optional<std::string> default_alias(const relay::Resolved& r,
                                         const std::string& broker_root_flag) {
  auto choice = choose_alias(r, broker_root_flag);
  if (!choice) return std::nullopt;
  return choice->alias;
}

std::string local_hms(double epoch_seconds) {
  const std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

}  // namespace relay_cli
}  // namespace c2c::cli
