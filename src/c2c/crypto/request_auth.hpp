#pragma once
// The per-request Authorization header:
//   Ed25519 alias=<alias>,ts=<unix seconds %.6f>,nonce=<b64u 16 bytes>,sig=<b64u 64 bytes>
// Parsing and formatting only; the time window and nonce cache are relay policy.

#include <string>
#include <string_view>

#include "c2c/core/result.hpp"
#include "c2c/crypto/crypto.hpp"

namespace c2c::crypto {

struct AuthHeader {
  std::string alias;
  std::string ts;  // verbatim as sent (it is signed verbatim)
  std::string nonce;
  std::string sig;  // b64u
};

// Parses the value of an Authorization header that starts with "Ed25519 " (case-sensitive).
// Errors (ErrorCode::kUnauthorized): "malformed Ed25519 auth: missing <field>" (field is
// alias, ts, nonce or sig; an absent or blank value counts as missing; a header without the
// scheme reads "... missing Ed25519 scheme"). The first occurrence of a repeated key wins.
Result<AuthHeader> parse_ed25519_header(std::string_view header_value);
std::string format_ed25519_header(const AuthHeader& h);

// Client side: the full header value for a request signed now as `alias`. `query` may be raw
// (without '?'): it is signed in canonical_query() form, which is what the server rebuilds.
std::string sign_request(const KeyPair& keys, std::string_view alias, std::string_view method,
                         std::string_view path, std::string_view query, std::string_view body,
                         double now_epoch_seconds);

// Server side: true iff h.sig is a valid signature by pk over the request blob.
bool verify_request(const PublicKey& pk, const AuthHeader& h, std::string_view method,
                    std::string_view path, std::string_view canonical_query, std::string_view body);

}  // namespace c2c::crypto
