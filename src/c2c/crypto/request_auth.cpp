#include "c2c/crypto/request_auth.hpp"

#include <cstdio>
#include <optional>

#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"

namespace c2c::crypto {

namespace {

constexpr std::string_view kScheme = "Ed25519 ";

}  // namespace

Result<AuthHeader> parse_ed25519_header(std::string_view header_value) {
  if (!starts_with(header_value, kScheme)) {
    return fail(ErrorCode::kUnauthorized, "malformed Ed25519 auth: missing Ed25519 scheme");
  }
  std::optional<std::string_view> alias, ts, nonce, sig;
  std::string_view rest = header_value.substr(kScheme.size());
  // One pass over the input, no allocation per parameter: hostile headers cost O(n).
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view param = rest.substr(0, comma);
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos) {
      const std::string_view key = trim(param.substr(0, eq));
      const std::string_view value = trim(param.substr(eq + 1));
      // The first occurrence of a key wins; later duplicates are ignored like unknown keys.
      if (key == "alias" && !alias) alias = value;
      if (key == "ts" && !ts) ts = value;
      if (key == "nonce" && !nonce) nonce = value;
      if (key == "sig" && !sig) sig = value;
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  const auto missing = [](std::string_view field) {
    return fail(ErrorCode::kUnauthorized, "malformed Ed25519 auth: missing " + std::string(field));
  };
  if (!alias || alias->empty()) return missing("alias");
  if (!ts || ts->empty()) return missing("ts");
  if (!nonce || nonce->empty()) return missing("nonce");
  if (!sig || sig->empty()) return missing("sig");
  return AuthHeader{std::string(*alias), std::string(*ts), std::string(*nonce), std::string(*sig)};
}

std::string format_ed25519_header(const AuthHeader& h) {
  std::string out(kScheme);
  out.append("alias=").append(h.alias);
  out.append(",ts=").append(h.ts);
  out.append(",nonce=").append(h.nonce);
  out.append(",sig=").append(h.sig);
  return out;
}

std::string sign_request(const KeyPair& keys, std::string_view alias, std::string_view method,
                         std::string_view path, std::string_view query, std::string_view body,
                         double now_epoch_seconds) {
  char ts[64];
  std::snprintf(ts, sizeof ts, "%.6f", now_epoch_seconds);
  AuthHeader h;
  h.alias = std::string(alias);
  h.ts = ts;
  h.nonce = random_nonce();
  // The server canonicalises the query it receives; canonical_query is idempotent, so
  // signing the canonical form matches whether the caller passed a raw or canonical query.
  const std::string blob =
      request_blob(method, path, canonical_query(query), body_hash(body), h.ts, h.nonce);
  h.sig = sign_b64u(keys, blob);
  return format_ed25519_header(h);
}

bool verify_request(const PublicKey& pk, const AuthHeader& h, std::string_view method,
                    std::string_view path, std::string_view canonical_query,
                    std::string_view body) {
  const std::string blob =
      request_blob(method, path, canonical_query, body_hash(body), h.ts, h.nonce);
  return verify_b64u(pk, blob, h.sig);
}

}  // namespace c2c::crypto
