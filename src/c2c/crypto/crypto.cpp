#include "c2c/crypto/crypto.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace c2c::crypto {

namespace {

constexpr int kB64uVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

// libsodium's secret key is seed || public key, so signing needs no key re-derivation.
// The buffer is wiped when it goes out of scope.
class SecretKey {
 public:
  explicit SecretKey(const KeyPair& keys) {
    std::copy(keys.seed.begin(), keys.seed.end(), sk_.begin());
    std::copy(keys.public_key.begin(), keys.public_key.end(), sk_.begin() + 32);
  }
  ~SecretKey() { sodium_memzero(sk_.data(), sk_.size()); }
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  const unsigned char* data() const { return sk_.data(); }

 private:
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk_{};
};

const unsigned char* as_uchar(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

void init() {
  // A function-local static is initialised exactly once, even with concurrent callers.
  static const bool ok = sodium_init() >= 0;
  if (!ok) {
    std::fputs("c2c: fatal: libsodium initialisation failed\n", stderr);
    std::abort();
  }
}

std::string b64u_encode(const uint8_t* data, size_t size) {
  init();
  std::string out(sodium_base64_encoded_len(size, kB64uVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, kB64uVariant);
  out.resize(out.size() - 1);  // drop the NUL terminator libsodium writes
  return out;
}

std::string b64u_encode(std::string_view bytes) {
  return b64u_encode(as_uchar(bytes), bytes.size());
}

std::optional<Bytes> b64u_decode(std::string_view text) {
  init();
  if (text.empty()) return Bytes{};
  Bytes out(text.size() * 3 / 4 + 1);
  size_t len = 0;
  const char* end = nullptr;
  // No ignore set: whitespace, '=' and any non-alphabet byte stop decoding, and a stop
  // before the end of the input is a rejection. libsodium also rejects an impossible
  // length and non-zero trailing bits, so every byte string has exactly one encoding.
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        kB64uVariant) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

Digest sha256(std::string_view data) {
  init();
  Digest d{};
  crypto_hash_sha256(d.data(), as_uchar(data), data.size());
  return d;
}

std::string sha256_hex(std::string_view data) {
  const Digest d = sha256(data);
  std::string out(d.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), d.data(), d.size());
  out.resize(out.size() - 1);
  return out;
}

std::string sha256_b64u(std::string_view data) {
  return b64u_encode(sha256(data));
}

Bytes random_bytes(size_t n) {
  init();
  Bytes out(n);
  if (n > 0) randombytes_buf(out.data(), n);
  return out;
}

std::string random_nonce() {
  const Bytes b = random_bytes(16);
  return b64u_encode(b.data(), b.size());
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  init();
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

KeyPair KeyPair::generate() {
  init();
  Seed seed{};
  randombytes_buf(seed.data(), seed.size());
  KeyPair keys = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return keys;
}

KeyPair KeyPair::from_seed(const Seed& seed) {
  init();
  KeyPair keys;
  keys.seed = seed;
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk{};
  crypto_sign_seed_keypair(keys.public_key.data(), sk.data(), seed.data());
  sodium_memzero(sk.data(), sk.size());
  return keys;
}

Signature sign(const KeyPair& keys, std::string_view message) {
  init();
  const SecretKey sk(keys);
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, as_uchar(message), message.size(), sk.data());
  return sig;
}

bool verify(const PublicKey& pk, std::string_view message, const Signature& sig) {
  init();
  return crypto_sign_verify_detached(sig.data(), as_uchar(message), message.size(), pk.data()) == 0;
}

std::string fingerprint(const PublicKey& pk) {
  return "SHA256:" +
         sha256_b64u(std::string_view(reinterpret_cast<const char*>(pk.data()), pk.size()));
}

}  // namespace c2c::crypto
