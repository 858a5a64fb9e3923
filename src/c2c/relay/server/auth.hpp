#pragma once
// Relay authentication (docs/protocol.md §2-§3, docs/decisions.md D3): the route gate
// (unauth / self / peer / admin classes, dev vs prod mode), the per-request Ed25519 header,
// and the body-level proofs of /register, room operations and room envelopes.
//
// Differences from the original c2c, on purpose: a nonce is recorded only after its signature
// verified (a forged request cannot burn someone's nonce); non-finite ts values are rejected;
// the Bearer token is compared in constant time; in dev mode a Bearer header on a peer route is
// ignored instead of rejected ("dev mode allows every request").

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/core/clock.hpp"
#include "c2c/net/http_types.hpp"
#include "c2c/relay/protocol/messages.hpp"
#include "c2c/relay/server/outcome.hpp"
#include "c2c/relay/store/store.hpp"

namespace c2c::relay::server {

enum class RouteClass {
  kUnauth,  // always allowed, headers ignored
  kSelf,    // allowed past the gate; the handler checks body proofs
  kPeer,    // prod: a verified Ed25519 header; dev: anything but a bad Ed25519 header
  kAdmin,   // prod: the Bearer token; never an Ed25519 header
};

// Per-request header: ts within [now - 30 s, now + 5 s], nonces remembered 120 s.
inline constexpr double kRequestMaxFutureSkew = 5;
inline constexpr double kRequestMaxPastSkew = 30;
inline constexpr double kRequestNonceTtl = 120;
// Register / room proofs and envelopes: ts within [now - 120 s, now + 30 s], nonces 600 s.
inline constexpr double kProofMaxPastSkew = 120;
inline constexpr double kProofMaxFutureSkew = 30;
inline constexpr double kProofNonceTtl = 600;

struct Caller {
  std::string verified_alias;   // "" unless an Ed25519 header verified
  bool recorded_nonce = false;  // the store holds a new nonce: commit before answering
};

class Authenticator {
 public:
  // An empty token means dev mode.
  Authenticator(Store& store, const Clock& clock, std::string token);

  bool prod_mode() const { return !token_.empty(); }
  std::string_view auth_mode() const { return prod_mode() ? "prod" : "dev"; }

  // The route gate. Admin and peer failures are 401 with the original c2c's texts.
  Reply<Caller> gate(RouteClass cls, const net::Request& req);

  // Verifies `Authorization: Ed25519 ...`; returns the signer's alias.
  Reply<std::string> verify_request_header(std::string_view header_value, const net::Request& req);

  // /register body proof (version req.proof_version) against any of `relay_urls`
  // (register_proof_urls()).
  // Returns the verified identity pk (b64u), or "" when the request carries no proof.
  Reply<std::string> verify_register_proof(const protocol::RegisterRequest& req,
                                           const std::vector<std::string>& relay_urls);
  // Room operation proof (ctx = crypto::kCtxRoom*). Returns the verified pk or "" if unsigned.
  Reply<std::string> verify_room_proof(std::string_view ctx, std::string_view room_id,
                                       std::string_view alias, const protocol::RoomProof& proof);
  // /send_room envelope (enc "none" only). Returns the verified sender pk.
  Reply<std::string> verify_envelope(std::string_view room_id, std::string_view from_alias,
                                     std::string_view content, const protocol::Envelope& env);

  // "Authorization: Bearer <token>" matching the configured token (constant time).
  bool bearer_matches(const net::Request& req) const;

 private:
  // Records a nonce in its own kOneWrite transaction: false for a replay.
  Result<bool> remember_nonce(std::string_view cache, std::string_view nonce, double ts,
                              double ttl_seconds);

  Store& store_;
  const Clock& clock_;
  std::string token_;
};

// The URLs a register proof may name (docs/relay-server.md, "Register proof"): each public URL's
// origin (scheme://host[:port], lower-cased, path dropped), also with the default port added or
// removed since clients may spell it either way. Never taken from request headers: a proof made
// for another relay must not verify here whatever Host or X-Forwarded-Proto says. An URL that is
// not http(s)://host... is an error.
Result<std::vector<std::string>> register_proof_urls(const std::vector<std::string>& public_urls);

// The public URLs of a relay started without --public-url: its scheme (https with TLS) and bound
// port with the listen host; for a wildcard listen (0.0.0.0, ::) every local interface address
// and the host name; for a wildcard or loopback listen also localhost, 127.0.0.1 and ::1.
std::vector<std::string> default_public_urls(const std::string& listen_host, uint16_t port,
                                             bool tls,
                                             const std::vector<std::string>& local_addresses,
                                             const std::string& hostname);

}  // namespace c2c::relay::server
