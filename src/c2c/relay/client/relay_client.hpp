#pragma once
// RelayClient: typed calls to a c2c relay over net::HttpClient (http:// and https://).
//
// Auth, per route class (docs/protocol.md §2, docs/decisions.md D3):
//   peer routes  (/heartbeat /send /send_batch /send_all /peek_inbox /poll_inbox /list)
//                -> "Authorization: Ed25519 ..." signed as the acting alias when an identity is
//                   loaded; never a Bearer token (the relay rejects Bearer on peer routes).
//   admin routes (/gc /dead_letter /list?include_dead=1) -> "Authorization: Bearer <token>".
//   self-auth    (/register /join_room /leave_room /send_room) -> body proofs when an identity
//                   is loaded (register proof, room-op proof, room-send envelope).
//   open         (/health) -> no credentials; /list_rooms and /room_history are open too, but
//                   signed as `alias` when one is given and an identity is loaded, so the relay
//                   shows that member its invite-only rooms (without identity the alias is
//                   only named, which a dev-mode relay trusts).
//
// Errors: Result errors mean "no usable answer" — kUnavailable when the relay could not be
// reached (refused, DNS, TLS, timeout), kBadRequest when the answer was not a JSON object.
// Any JSON answer, whatever its HTTP status, is a RelayReply; callers look at ok()/error_code().

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/core/clock.hpp"
#include "c2c/core/result.hpp"
#include "c2c/crypto/identity.hpp"
#include "c2c/net/http_client.hpp"
#include "c2c/relay/protocol/messages.hpp"

namespace c2c::relay {

// A relay's answer as the client sees it: HTTP status and JSON body (the relay service's own
// `Reply<T>` is its result type, on the server side).
struct RelayReply {
  int http_status = 0;
  nlohmann::json body = nlohmann::json::object();

  bool ok() const;
  std::string error_code() const;  // "" when absent
  std::string error_text() const;  // the relay's human text ("" when absent)
  // "<error_code>: <error>" (or the HTTP status when the body says nothing useful).
  std::string describe() const;
  // 401/403: the relay refused our credentials.
  bool auth_refused() const { return http_status == 401 || http_status == 403; }
  bool rate_limited() const { return http_status == 429; }
};

// The messages of a /peek_inbox or /poll_inbox reply. Items that are not valid messages (no
// message_id, from_alias or content) are skipped and counted in `skipped`.
std::vector<protocol::Message> parse_messages(const RelayReply& reply, size_t* skipped = nullptr);

struct RegisterParams {
  std::string node_id;
  std::string session_id;
  std::string alias;
  std::string client_type = "unknown";
  int ttl = 300;
};

struct SendParams {
  std::string message_id;  // stable across retries; "" lets the relay mint one
  std::string from_alias;
  std::string to_alias;  // may be alias@host
  std::string content;
};

// The transport seam: production uses net::HttpClient, tests plug an in-process handler.
using Transport = std::function<Result<net::Response>(const net::ClientRequest&)>;

struct RelayClientOptions {
  std::string base_url;  // http(s)://host[:port][/prefix], no trailing '/'
  std::string token;     // admin Bearer token; "" = none
  std::optional<crypto::Identity> identity;
  net::ClientOptions http;
  Clock* clock = &SystemClock::instance();
};

class RelayClient {
 public:
  // Opens an HttpClient for options.base_url (kBadRequest for a malformed URL).
  static Result<RelayClient> create(RelayClientOptions options);
  RelayClient(RelayClientOptions options, Transport transport);

  const std::string& base_url() const { return options_.base_url; }
  bool has_identity() const { return options_.identity.has_value(); }
  bool has_token() const { return !options_.token.empty(); }
  const std::optional<crypto::Identity>& identity() const { return options_.identity; }

  // Open routes.
  Result<RelayReply> health();
  Result<RelayReply> list_rooms(std::string_view alias = {});
  Result<RelayReply> room_history(std::string_view room_id, int limit, std::string_view alias = {});

  // Self-auth routes (body proofs when an identity is loaded).
  Result<RelayReply> register_session(const RegisterParams& p);
  Result<RelayReply> join_room(std::string_view room_id, std::string_view alias);
  Result<RelayReply> leave_room(std::string_view room_id, std::string_view alias);
  Result<RelayReply> send_room(std::string_view room_id, std::string_view from_alias,
                               std::string_view content, std::string_view message_id = {});

  // Peer routes (signed as the named alias when an identity is loaded).
  Result<RelayReply> heartbeat(std::string_view node_id, std::string_view session_id,
                               std::string_view alias);
  Result<RelayReply> send(const SendParams& p);
  // POST /send_batch: messages from one sender (every p.from_alias is `from_alias`), signed as
  // it; the answer holds one result per message in order (docs/relay-server.md, "Batched
  // sends"). A relay from before the route answers 404 not_found.
  Result<RelayReply> send_batch(std::string_view from_alias,
                                const std::vector<SendParams>& messages);
  Result<RelayReply> peek_inbox(std::string_view node_id, std::string_view session_id,
                                std::string_view alias);
  // Drains the session's relay inbox; with ack_ids, removes only those messages.
  Result<RelayReply> poll_inbox(
      std::string_view node_id, std::string_view session_id, std::string_view alias,
      const std::optional<std::vector<std::string>>& ack_ids = std::nullopt);
  // Delivery receipts: the recipient side posts them signed as the recipient's alias; the
  // sender side fetches its alias's receipts, acknowledging the receipt ids it recorded.
  Result<RelayReply> post_receipts(std::string_view alias,
                                   std::vector<protocol::DeliveryReceipt> receipts);
  Result<RelayReply> fetch_receipts(std::string_view alias, std::vector<std::string> ack);
  // GET /pubkey/<alias>: the key the relay bound to the alias.
  Result<RelayReply> pubkey(std::string_view alias, std::string_view sign_as);
  // Live peers; signed as sign_as when an identity is loaded and sign_as is not empty.
  Result<RelayReply> list_peers(std::string_view sign_as);
  // One receive-stream long-poll (POST /stream), signed as sign_as (an alias bound to this
  // machine's identity); the HTTP timeout is the wait plus a margin. A relay without the
  // stream answers 404 not_found.
  Result<RelayReply> stream(const protocol::StreamRequest& req, std::string_view sign_as);
  // Thread-safe: makes the request in progress and every later one fail at once (clients made
  // by create() only; a no-op with a custom transport).
  void cancel();

  // Admin routes (Bearer token).
  Result<RelayReply> list_all_peers();  // GET /list?include_dead=1
  Result<RelayReply> gc();
  Result<RelayReply> dead_letter();

  enum class Auth { kNone, kPeer, kAdmin };
  // The one place requests are built, authenticated and answered.
  Result<RelayReply> call(std::string_view method, std::string_view path, std::string body,
                          Auth auth, std::string_view alias = {},
                          std::optional<std::chrono::milliseconds> timeout = std::nullopt);

 private:
  // identity_pk/sig/nonce/ts for a room op (ctx c2c/v1/room-join, ...); empty without identity.
  protocol::RoomProof room_proof(std::string_view ctx, std::string_view room_id,
                                 std::string_view alias) const;
  // join_room / leave_room: the member and room, with the proof signed for `ctx`.
  Result<RelayReply> room_op(std::string_view route, std::string_view ctx, std::string_view room_id,
                             std::string_view alias);

  RelayClientOptions options_;
  std::string path_prefix_;  // from base_url, signed as part of the path
  Transport transport_;
  std::function<void()> cancel_;
};

// The identity loading rules every command shares (docs/decisions.md D13).
struct IdentityLoad {
  std::optional<crypto::Identity> identity;
  bool created = false;  // a new identity was written to `path`
  std::filesystem::path path;
};
// Loads the identity at path. When the file does not exist and create_if_missing is set, a new
// identity is generated and saved there (0600 in a 0700 directory). Any other problem — group-
// or world-readable key, bad JSON — is an error with the loader's text.
Result<IdentityLoad> load_or_create_identity(const std::filesystem::path& path,
                                             bool create_if_missing, std::string_view alias_hint,
                                             const Clock& clock = SystemClock::instance());

}  // namespace c2c::relay
