#pragma once
// identity.json: a machine's Ed25519 identity (version 1, ed25519, base64url keys).
// Saved 0600 in a 0700 directory; loading refuses a file readable by group or others.

#include <filesystem>
#include <string>
#include <string_view>

#include "c2c/core/result.hpp"
#include "c2c/crypto/crypto.hpp"

namespace c2c::crypto {

struct Identity {
  KeyPair keys;
  std::string fingerprint;  // "SHA256:..."
  std::string created_at;   // RFC 3339 UTC, second precision
  std::string alias_hint;

  std::string public_key_b64u() const { return b64u_encode(keys.public_key); }
};

Identity new_identity(std::string alias_hint, double now_epoch_seconds);

// Errors carry the original c2c's texts: "identity file not found: <path>",
// "permissions too permissive on <path>: 0644 (expected 0600)", "identity json parse: ...",
// "missing field: <f>", "unsupported version: <n> (expected 1)", ... plus one check the
// original lacks: "public_key does not match private_key" (the seed is authoritative).
// Save errors are ErrorCode::kIo; a failed save leaves any previous file untouched.
Result<Identity> load_identity(const std::filesystem::path& path);
Result<void> save_identity(const std::filesystem::path& path, const Identity& id);

// The identity's JSON text, as identity.json holds it (private key included: keep the text as
// private as the file), and back. identity_from_json() checks what load_identity() checks, with
// the same error texts (the file's mode aside).
std::string identity_to_json(const Identity& id);
Result<Identity> identity_from_json(std::string_view text);

// $XDG_CONFIG_HOME/c2c/identity.json, else $HOME/.config/c2c/identity.json.
std::filesystem::path default_identity_path();

}  // namespace c2c::crypto
