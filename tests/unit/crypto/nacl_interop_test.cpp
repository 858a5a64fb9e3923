// Cross-checks our Ed25519 against an independent implementation (PyNaCl), both ways.
// CI installs python3-nacl; its absence is a test failure, never a skip, so a broken
// environment can not hide an interoperability bug.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>

#include "c2c/core/text.hpp"
#include "c2c/crypto/crypto.hpp"
#include "support/process.hpp"

namespace c2c::crypto {
namespace {

std::string hex(const uint8_t* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0x0f]);
  }
  return out;
}
template <typename C>
std::string hex(const C& c) {
  return hex(c.data(), c.size());
}

std::optional<Bytes> unhex(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  Bytes out;
  for (size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    if (std::sscanf(std::string(s.substr(i, 2)).c_str(), "%2x", &v) != 1) return std::nullopt;
    out.push_back(static_cast<uint8_t>(v));
  }
  return out;
}

// A python3 that can import nacl: Debian's /usr/bin/python3 (where python3-nacl installs)
// first, then every python3 on PATH. Empty if there is none.
std::string find_python_with_nacl() {
  std::vector<std::string> candidates = {"/usr/bin/python3"};
  if (const char* path = std::getenv("PATH")) {
    for (const auto& dir : split(path, ':')) {
      if (!dir.empty()) candidates.push_back(dir + "/python3");
    }
  }
  for (const auto& py : candidates) {
    if (::access(py.c_str(), X_OK) != 0) continue;
    if (c2c::test::run({py, "-c", "import nacl.signing"}).exit_code == 0) return py;
  }
  return "";
}

class NaclInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    python_ = find_python_with_nacl();
    ASSERT_FALSE(python_.empty())
        << "no python3 with PyNaCl found (tried /usr/bin/python3 and PATH); "
           "install the Debian package python3-nacl: this cross-check must not be skipped";
  }
  std::string python_;
};

TEST_F(NaclInterop, PyNaclVerifiesOurSignatures) {
  const KeyPair keys = KeyPair::generate();
  const Bytes msg = random_bytes(200);
  const std::string msg_str(msg.begin(), msg.end());
  const Signature sig = sign(keys, msg_str);
  Signature bad_sig = sig;
  bad_sig[0] ^= 0x01;

  const char* script = R"(
import sys, nacl.signing, nacl.exceptions
seed, pk, msg, sig, bad = (bytes.fromhex(a) for a in sys.argv[1:6])
sk = nacl.signing.SigningKey(seed)
print("pk", "same" if bytes(sk.verify_key) == pk else "different")
print("sig", "same" if sk.sign(msg).signature == sig else "different")
vk = nacl.signing.VerifyKey(pk)
vk.verify(msg, sig)
print("verify ok")
try:
    vk.verify(msg, bad)
    print("tampered accepted")
except nacl.exceptions.BadSignatureError:
    print("tampered rejected")
)";
  const auto r = c2c::test::run({python_, "-c", script, hex(keys.seed), hex(keys.public_key),
                                 hex(msg), hex(sig), hex(bad_sig)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "pk same\nsig same\nverify ok\ntampered rejected\n");
}

TEST_F(NaclInterop, WeVerifyPyNaclSignatures) {
  const char* script = R"(
import os, nacl.signing
sk = nacl.signing.SigningKey.generate()
msg = os.urandom(173)
print(bytes(sk).hex(), bytes(sk.verify_key).hex(), msg.hex(), sk.sign(msg).signature.hex())
)";
  const auto r = c2c::test::run({python_, "-c", script});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string seed_hex, pk_hex, msg_hex, sig_hex;
  ASSERT_TRUE(in >> seed_hex >> pk_hex >> msg_hex >> sig_hex) << r.out;
  const auto seed = unhex(seed_hex);
  const auto pk = unhex(pk_hex);
  const auto msg = unhex(msg_hex);
  const auto sig = unhex(sig_hex);
  ASSERT_TRUE(seed && pk && msg && sig) << r.out;
  ASSERT_EQ(seed->size(), 32u);
  ASSERT_EQ(pk->size(), 32u);
  ASSERT_EQ(sig->size(), 64u);

  Seed s{};
  std::copy(seed->begin(), seed->end(), s.begin());
  PublicKey p{};
  std::copy(pk->begin(), pk->end(), p.begin());
  Signature sg{};
  std::copy(sig->begin(), sig->end(), sg.begin());
  const std::string m(msg->begin(), msg->end());

  EXPECT_EQ(KeyPair::from_seed(s).public_key, p);
  EXPECT_TRUE(verify(p, m, sg));
  EXPECT_EQ(sign(KeyPair::from_seed(s), m), sg);
  std::string tampered = m;
  tampered[0] ^= 0x01;
  EXPECT_FALSE(verify(p, tampered, sg));
}

}  // namespace
}  // namespace c2c::crypto
