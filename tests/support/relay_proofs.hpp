#pragma once
// The proofs a signing relay client puts in register and room-operation bodies (docs/protocol.md
// §3.3-3.5), built exactly as RelayClient builds them, for tests that talk to a relay directly.
// Header-only: only targets that link c2c_crypto include it.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"
#include "c2c/crypto/crypto.hpp"

namespace c2c::test {

inline std::string pk_of(const crypto::KeyPair& k) {
  return crypto::b64u_encode(k.public_key);
}

// Adds proof_version 2, identity_pk, timestamp, nonce and signature for registering `alias` on
// the relay whose origin (lower-cased URL, as the relay checks it) is `origin`. The proof signs
// the body's node_id, session_id and ttl (300 when absent): set them first.
inline void add_register_proof(nlohmann::json& body, const crypto::KeyPair& k,
                               const std::string& alias, const std::string& origin, double now,
                               std::string nonce = crypto::random_nonce()) {
  const std::string ts = format_rfc3339_utc(now);
  const std::string pk = pk_of(k);
  const auto ttl = static_cast<int64_t>(body.value("ttl", 300.0));
  body["proof_version"] = 2;
  body["identity_pk"] = pk;
  body["timestamp"] = ts;
  body["nonce"] = nonce;
  body["signature"] =
      crypto::sign_b64u(k, crypto::register_blob_v2(alias, casefold(origin), pk, ts, nonce,
                                                    body.value("node_id", std::string()),
                                                    body.value("session_id", std::string()), ttl));
}

// The version-1 proof older clients send (no proof_version; node, session and ttl unsigned).
inline void add_register_proof_v1(nlohmann::json& body, const crypto::KeyPair& k,
                                  const std::string& alias, const std::string& origin, double now,
                                  std::string nonce = crypto::random_nonce()) {
  const std::string ts = format_rfc3339_utc(now);
  const std::string pk = pk_of(k);
  body.erase("proof_version");
  body["identity_pk"] = pk;
  body["timestamp"] = ts;
  body["nonce"] = nonce;
  body["signature"] =
      crypto::sign_b64u(k, crypto::register_blob_v1(alias, casefold(origin), pk, ts, nonce));
}

// The proof fields (identity_pk, ts, nonce, sig) of room operation `ctx` over (room, alias).
inline nlohmann::json room_proof(std::string_view ctx, const crypto::KeyPair& k,
                                 const std::string& room, const std::string& alias, double now) {
  const std::string ts = format_rfc3339_utc(now);
  const std::string nonce = crypto::random_nonce();
  const std::string pk = pk_of(k);
  return {{"identity_pk", pk},
          {"ts", ts},
          {"nonce", nonce},
          {"sig", crypto::sign_b64u(k, crypto::canonical_blob(ctx, {room, alias, pk, ts, nonce}))}};
}

}  // namespace c2c::test
