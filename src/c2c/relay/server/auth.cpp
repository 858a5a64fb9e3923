#include "c2c/relay/server/auth.hpp"

#include <algorithm>
#include <cstdio>

#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"
#include "c2c/crypto/request_auth.hpp"
#include "c2c/relay/server/http_util.hpp"

namespace c2c::relay::server {

namespace {

constexpr FailureKind k400 = FailureKind::kInvalid;
constexpr FailureKind k401 = FailureKind::kUnauthenticated;

std::string skew_text(double skew) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", skew);
  return buf;
}

// The decoded pieces of a body proof, or the failure docs/protocol.md §3.5 specifies for each step.
struct DecodedProof {
  crypto::PublicKey pk{};
  double ts = 0;
};

// Steps shared by register and room proofs, in the order of docs/protocol.md §3.5: pk, signature
// encoding, signature length, RFC 3339 ts, window. `sig_len_kind` / `window_kind` differ by route
// (register answers 400 where room operations answer 401).
Reply<DecodedProof> decode_proof(std::string_view pk_b64u, std::string_view sig_b64u,
                                 std::string_view ts, double now, const char* pk_field,
                                 const char* sig_field, const char* ts_field,
                                 FailureKind sig_len_kind, FailureKind window_kind) {
  DecodedProof out;
  auto pk_bytes = crypto::b64u_decode(pk_b64u);
  if (!pk_bytes) {
    return failure(k400, ErrorCode::kBadRequest, std::string(pk_field) + " not base64url-nopad");
  }
  if (pk_bytes->size() != 32) {
    return failure(k400, ErrorCode::kBadRequest, std::string(pk_field) + " must be 32 bytes");
  }
  std::copy(pk_bytes->begin(), pk_bytes->end(), out.pk.begin());
  auto sig_bytes = crypto::b64u_decode(sig_b64u);
  if (!sig_bytes) {
    return failure(k400, ErrorCode::kBadRequest, std::string(sig_field) + " not base64url-nopad");
  }
  if (sig_bytes->size() != 64) {
    return failure(sig_len_kind, ErrorCode::kSignatureInvalid,
                   std::string(sig_field) + " must be 64 bytes");
  }
  auto parsed = parse_rfc3339(ts);
  if (!parsed) {
    return failure(k400, ErrorCode::kBadRequest, std::string(ts_field) + " must be RFC3339 UTC");
  }
  const double skew = *parsed - now;
  if (skew < -kProofMaxPastSkew || skew > kProofMaxFutureSkew) {
    return failure(window_kind, ErrorCode::kTimestampOutOfWindow,
                   std::string(ts_field) + " skew " + skew_text(skew) + "s outside [-120, +30]");
  }
  out.ts = *parsed;
  return out;
}

}  // namespace

Authenticator::Authenticator(Store& store, const Clock& clock, std::string token)
    : store_(store), clock_(clock), token_(std::move(token)) {}

bool Authenticator::bearer_matches(const net::Request& req) const {
  const std::string* auth = find_header(req, "Authorization");
  if (!auth || token_.empty()) return false;
  // Exactly "Bearer <token>": two parts split on single spaces.
  const auto parts = split(*auth, ' ');
  if (parts.size() != 2 || parts[0] != "Bearer") return false;
  return crypto::constant_time_equal(parts[1], token_);
}

Reply<Caller> Authenticator::gate(RouteClass cls, const net::Request& req) {
  Caller caller;
  if (cls == RouteClass::kUnauth) return caller;
  const std::string* auth = find_header(req, "Authorization");
  const bool ed25519 = auth && starts_with(*auth, "Ed25519 ");
  const bool bearer = auth && starts_with(*auth, "Bearer ");

  if (cls == RouteClass::kSelf) {
    // Self-auth handlers check body proofs; a verified header additionally names the caller
    // (used for signer/ownership checks), a failing one is ignored (docs/protocol.md §2).
    if (ed25519) {
      auto v = verify_request_header(*auth, req);
      if (v) {
        caller.verified_alias = std::move(v).value();
        caller.recorded_nonce = true;
      }
    }
    return caller;
  }

  if (cls == RouteClass::kAdmin) {
    if (ed25519) {
      auto v = verify_request_header(*auth, req);
      if (!v) return std::move(v).error();
      return failure(k401, ErrorCode::kUnauthorized,
                     "admin routes require Bearer token; Ed25519 is for peer routes");
    }
    if (!prod_mode() || bearer_matches(req)) return caller;
    return failure(k401, ErrorCode::kUnauthorized, "admin route requires Bearer token");
  }

  // Peer route.
  if (ed25519) {
    auto v = verify_request_header(*auth, req);
    if (!v) return std::move(v).error();
    caller.verified_alias = std::move(v).value();
    caller.recorded_nonce = true;
    return caller;
  }
  if (!prod_mode()) return caller;
  if (bearer) {
    return failure(k401, ErrorCode::kUnauthorized,
                   "peer routes require Ed25519 auth; Bearer is admin-only");
  }
  return failure(k401, ErrorCode::kUnauthorized, "peer route requires Ed25519 auth");
}

Result<bool> Authenticator::remember_nonce(std::string_view cache, std::string_view nonce,
                                           double ts, double ttl_seconds) {
  // One write, nothing checked first: a kOneWrite transaction (no round trips of its own on
  // PostgreSQL; a best-effort record on SQLite, store.hpp and sqlite_store.hpp).
  return transact_value(store_, TxScope::kOneWrite,
                        [&](Tx& tx) { return tx.remember_nonce(cache, nonce, ts, ttl_seconds); });
}

Reply<std::string> Authenticator::verify_request_header(std::string_view header_value,
                                                        const net::Request& req) {
  auto parsed = crypto::parse_ed25519_header(header_value);
  if (!parsed) return failure(k401, ErrorCode::kUnauthorized, parsed.error().message);
  const crypto::AuthHeader& h = parsed.value();
  auto ts = parse_finite_double(h.ts);
  if (!ts) return failure(k401, ErrorCode::kUnauthorized, "ts must be unix seconds");
  const double skew = *ts - clock_.now();
  if (skew > kRequestMaxFutureSkew || skew < -kRequestMaxPastSkew) {
    return failure(k401, ErrorCode::kTimestampOutOfWindow,
                   "request ts skew " + skew_text(skew) + "s outside window");
  }
  auto bound = store_.get_binding(h.alias);
  if (!bound) {
    return failure(k401, ErrorCode::kUnauthorized,
                   "alias \"" + h.alias + "\" has no identity binding");
  }
  auto pk = crypto::b64u_decode_fixed<32>(*bound);
  if (!pk) {
    return failure(k401, ErrorCode::kUnauthorized,
                   "alias \"" + h.alias + "\" has no usable identity binding");
  }
  auto sig = crypto::b64u_decode(h.sig);
  if (!sig) return failure(k401, ErrorCode::kUnauthorized, "sig not base64url-nopad");
  if (sig->size() != 64) return failure(k401, ErrorCode::kSignatureInvalid, "sig must be 64 bytes");
  if (!crypto::verify_request(*pk, h, req.method, req.path, crypto::canonical_query(req.query),
                              req.body)) {
    return failure(k401, ErrorCode::kSignatureInvalid, "Ed25519 request signature does not verify");
  }
  // Only a verified request may consume its nonce.
  auto fresh = remember_nonce("request", h.nonce, *ts, kRequestNonceTtl);
  if (!fresh) return storage_failure(fresh.error());
  if (!fresh.value()) return failure(k401, ErrorCode::kNonceReplay, "request nonce replay");
  return h.alias;
}

Reply<std::string> Authenticator::verify_register_proof(
    const protocol::RegisterRequest& req, const std::vector<std::string>& relay_urls) {
  if (!req.has_any_proof_field()) return std::string();
  if (!req.has_full_proof()) {
    return failure(k400, ErrorCode::kMissingProofField,
                   "identity_pk, signature, nonce, and timestamp must all be present together");
  }
  auto decoded = decode_proof(req.identity_pk, req.signature, req.timestamp, clock_.now(),
                              "identity_pk", "signature", "timestamp", k400, k400);
  if (!decoded) return std::move(decoded).error();
  bool verified = false;
  for (const auto& url : relay_urls) {
    const std::string blob =
        req.proof_version == 2
            ? crypto::register_blob_v2(req.alias, url, req.identity_pk, req.timestamp, req.nonce,
                                       req.node_id, req.session_id, req.lease_ttl_seconds())
            : crypto::register_blob_v1(req.alias, url, req.identity_pk, req.timestamp, req.nonce);
    if (crypto::verify_b64u(decoded.value().pk, blob, req.signature)) {
      verified = true;
      break;
    }
  }
  if (!verified) {
    // The URL is the usual culprit: the proof must name one of this relay's public URLs.
    std::string urls;
    for (const auto& url : relay_urls) urls += (urls.empty() ? "" : ", ") + url;
    return failure(k401, ErrorCode::kSignatureInvalid,
                   "Ed25519 signature does not verify against identity_pk for this relay's "
                   "URL (" +
                       (urls.empty() ? std::string("none configured") : urls) + ")");
  }
  auto fresh = remember_nonce("register", req.nonce, decoded.value().ts, kProofNonceTtl);
  if (!fresh) return storage_failure(fresh.error());
  if (!fresh.value())
    return failure(k400, ErrorCode::kNonceReplay, "nonce already seen within TTL");
  return req.identity_pk;
}

Reply<std::string> Authenticator::verify_room_proof(std::string_view ctx, std::string_view room_id,
                                                    std::string_view alias,
                                                    const protocol::RoomProof& proof) {
  if (!proof.any()) return std::string();
  if (!proof.complete()) {
    return failure(k400, ErrorCode::kMissingProofField,
                   "identity_pk, sig, nonce, and ts must all be present together");
  }
  auto decoded = decode_proof(proof.identity_pk, proof.sig, proof.ts, clock_.now(), "identity_pk",
                              "sig", "ts", k401, k401);
  if (!decoded) return std::move(decoded).error();
  if (auto bound = store_.get_binding(alias); bound && *bound != proof.identity_pk) {
    return failure(
        k401, ErrorCode::kAliasIdentityMismatch,
        "identity_pk does not match the key bound to alias \"" + std::string(alias) + "\"");
  }
  const std::string blob =
      crypto::canonical_blob(ctx, {room_id, alias, proof.identity_pk, proof.ts, proof.nonce});
  if (!crypto::verify_b64u(decoded.value().pk, blob, proof.sig)) {
    return failure(k401, ErrorCode::kSignatureInvalid, "Ed25519 room proof does not verify");
  }
  auto fresh = remember_nonce("register", proof.nonce, decoded.value().ts, kProofNonceTtl);
  if (!fresh) return storage_failure(fresh.error());
  if (!fresh.value())
    return failure(k401, ErrorCode::kNonceReplay, "nonce already seen within TTL");
  return proof.identity_pk;
}

Reply<std::string> Authenticator::verify_envelope(std::string_view room_id,
                                                  std::string_view from_alias,
                                                  std::string_view content,
                                                  const protocol::Envelope& env) {
  if (env.ct.empty() || env.enc.empty() || env.sender_pk.empty() || env.sig.empty() ||
      env.ts.empty() || env.nonce.empty()) {
    return failure(k400, ErrorCode::kMissingProofField,
                   "envelope must include ct, enc, sender_pk, sig, ts, nonce");
  }
  if (env.enc != "none") {
    return failure(k400, ErrorCode::kUnsupportedEnc,
                   "unsupported envelope enc \"" + env.enc + "\" (only \"none\")");
  }
  auto pk = crypto::b64u_decode(env.sender_pk);
  if (!pk) return failure(k400, ErrorCode::kBadRequest, "sender_pk not base64url-nopad");
  if (pk->size() != 32) return failure(k400, ErrorCode::kBadRequest, "sender_pk must be 32 bytes");
  auto sig = crypto::b64u_decode(env.sig);
  if (!sig) return failure(k400, ErrorCode::kBadRequest, "sig not base64url-nopad");
  if (sig->size() != 64) return failure(k401, ErrorCode::kSignatureInvalid, "sig must be 64 bytes");
  auto ct = crypto::b64u_decode(env.ct);
  if (!ct) return failure(k400, ErrorCode::kBadRequest, "ct not base64url-nopad");
  const std::string_view ct_text(reinterpret_cast<const char*>(ct->data()), ct->size());
  if (ct_text != content) {
    return failure(k401, ErrorCode::kSignatureInvalid, "ct does not match content (enc=none)");
  }
  auto ts = parse_rfc3339(env.ts);
  if (!ts) return failure(k400, ErrorCode::kBadRequest, "ts must be RFC3339 UTC");
  const double skew = *ts - clock_.now();
  if (skew < -kProofMaxPastSkew || skew > kProofMaxFutureSkew) {
    return failure(k401, ErrorCode::kTimestampOutOfWindow,
                   "ts skew " + skew_text(skew) + "s outside [-120, +30]");
  }
  if (auto bound = store_.get_binding(from_alias); bound && *bound != env.sender_pk) {
    return failure(
        k401, ErrorCode::kAliasIdentityMismatch,
        "sender_pk does not match the key bound to alias \"" + std::string(from_alias) + "\"");
  }
  crypto::PublicKey key{};
  std::copy(pk->begin(), pk->end(), key.begin());
  const std::string blob = crypto::canonical_blob(
      crypto::kCtxRoomSend, {room_id, from_alias, env.sender_pk, env.enc,
                             crypto::sha256_b64u(ct_text), env.ts, env.nonce});
  if (!crypto::verify_b64u(key, blob, env.sig)) {
    return failure(k401, ErrorCode::kSignatureInvalid,
                   "Ed25519 envelope signature does not verify");
  }
  auto fresh = remember_nonce("register", env.nonce, *ts, kProofNonceTtl);
  if (!fresh) return storage_failure(fresh.error());
  if (!fresh.value())
    return failure(k401, ErrorCode::kNonceReplay, "nonce already seen within TTL");
  return env.sender_pk;
}

Result<std::vector<std::string>> register_proof_urls(const std::vector<std::string>& public_urls) {
  std::vector<std::string> out;
  auto add = [&](std::string url) {
    if (std::find(out.begin(), out.end(), url) == out.end()) out.push_back(std::move(url));
  };
  for (const auto& given : public_urls) {
    const std::string url = casefold(trim(given));
    const auto scheme_end = url.find("://");
    const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
    if (scheme != "http" && scheme != "https") {
      return fail(ErrorCode::kBadRequest,
                  "public URL \"" + given + "\" must start with http:// or https://");
    }
    // The origin: clients sign scheme://host[:port] without any path.
    const std::string host =
        url.substr(scheme_end + 3, url.find('/', scheme_end + 3) - (scheme_end + 3));
    if (host.empty())
      return fail(ErrorCode::kBadRequest, "public URL \"" + given + "\" has no host");
    // Clients may spell the default port or leave it out: accept both.
    const std::string default_port = scheme == "https" ? ":443" : ":80";
    const bool bracketed_v6 = host.back() == ']';
    const auto colon = host.rfind(':');
    const bool has_port = !bracketed_v6 && colon != std::string::npos;
    add(scheme + "://" + host);
    if (!has_port) {
      add(scheme + "://" + host + default_port);
    } else if (host.size() > default_port.size() &&
               host.compare(host.size() - default_port.size(), default_port.size(), default_port) ==
                   0) {
      add(scheme + "://" + host.substr(0, host.size() - default_port.size()));
    }
  }
  return out;
}

std::vector<std::string> default_public_urls(const std::string& listen_host, uint16_t port,
                                             bool tls,
                                             const std::vector<std::string>& local_addresses,
                                             const std::string& hostname) {
  const std::string scheme = tls ? "https://" : "http://";
  const std::string suffix = ":" + std::to_string(port);
  auto url_host = [](const std::string& h) {
    return h.find(':') != std::string::npos ? "[" + h + "]" : h;
  };
  std::vector<std::string> hosts;
  const bool wildcard = listen_host.empty() || listen_host == "0.0.0.0" || listen_host == "::";
  const bool loopback =
      listen_host == "127.0.0.1" || listen_host == "::1" || casefold(listen_host) == "localhost";
  if (wildcard) {
    hosts = local_addresses;
    if (!hostname.empty()) hosts.push_back(hostname);
  } else {
    hosts.push_back(listen_host);
  }
  if (wildcard || loopback) {
    for (const char* h : {"localhost", "127.0.0.1", "::1"}) hosts.emplace_back(h);
  }
  std::vector<std::string> out;
  for (const auto& h : hosts) {
    std::string url = casefold(scheme + url_host(h) + suffix);
    if (std::find(out.begin(), out.end(), url) == out.end()) out.push_back(std::move(url));
  }
  return out;
}

}  // namespace c2c::relay::server
