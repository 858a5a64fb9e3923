#pragma once
// The only module that talks to libsodium: encodings, hashes, randomness, Ed25519.
// Everything here is thread-safe; init() is called implicitly by every function.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace c2c::crypto {

using Bytes = std::vector<uint8_t>;
using PublicKey = std::array<uint8_t, 32>;
using Seed = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;
using Digest = std::array<uint8_t, 32>;

// Initialises libsodium once per process (idempotent, thread-safe). Aborts if it cannot.
void init();

// base64url without padding (RFC 4648 §5). Decoding rejects padding, whitespace and
// characters outside the alphabet.
std::string b64u_encode(const uint8_t* data, size_t size);
std::string b64u_encode(std::string_view bytes);
template <size_t N>
std::string b64u_encode(const std::array<uint8_t, N>& a) {
  return b64u_encode(a.data(), a.size());
}
std::optional<Bytes> b64u_decode(std::string_view text);
// Decodes and checks the decoded length is exactly N.
template <size_t N>
std::optional<std::array<uint8_t, N>> b64u_decode_fixed(std::string_view text) {
  auto bytes = b64u_decode(text);
  if (!bytes || bytes->size() != N) return std::nullopt;
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = (*bytes)[i];
  return out;
}

Digest sha256(std::string_view data);
std::string sha256_hex(std::string_view data);
std::string sha256_b64u(std::string_view data);

Bytes random_bytes(size_t n);
// 16 random bytes, base64url (22 chars): the nonce format of every c2c signature.
std::string random_nonce();

// Constant-time comparison (length leaks, contents do not). For tokens and MACs.
bool constant_time_equal(std::string_view a, std::string_view b);

struct KeyPair {
  PublicKey public_key{};
  Seed seed{};  // the 32-byte Ed25519 seed (what identity.json stores as private_key)

  static KeyPair generate();
  static KeyPair from_seed(const Seed& seed);
};

Signature sign(const KeyPair& keys, std::string_view message);
bool verify(const PublicKey& pk, std::string_view message, const Signature& sig);

// "SHA256:" + b64u(sha256(pk)) (43 chars after the prefix).
std::string fingerprint(const PublicKey& pk);

}  // namespace c2c::crypto
