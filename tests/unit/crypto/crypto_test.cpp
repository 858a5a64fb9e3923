#include "c2c/crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "c2c/crypto/canonical.hpp"
#include "vectors.hpp"

namespace c2c::crypto {
namespace {

using test::example_seed;
using test::kExampleFingerprint;
using test::kExamplePk;
using test::us;

std::string str(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

TEST(B64u, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(b64u_encode(std::string_view("")), "");
  EXPECT_EQ(b64u_encode(std::string_view("f")), "Zg");
  EXPECT_EQ(b64u_encode(std::string_view("fo")), "Zm8");
  EXPECT_EQ(b64u_encode(std::string_view("foo")), "Zm9v");
  EXPECT_EQ(b64u_encode(std::string_view("foob")), "Zm9vYg");
  EXPECT_EQ(b64u_encode(std::string_view("fooba")), "Zm9vYmE");
  EXPECT_EQ(b64u_encode(std::string_view("foobar")), "Zm9vYmFy");
}

TEST(B64u, UsesTheUrlSafeAlphabet) {
  // 0xfb 0xff encodes to "+/8" in standard base64.
  EXPECT_EQ(b64u_encode(std::string_view("\xfb\xff")), "-_8");
  auto back = b64u_decode("-_8");
  ASSERT_TRUE(back);
  EXPECT_EQ(str(*back), "\xfb\xff");
}

TEST(B64u, DecodesValidInputAndEmpty) {
  auto empty = b64u_decode("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  auto foobar = b64u_decode("Zm9vYmFy");
  ASSERT_TRUE(foobar);
  EXPECT_EQ(str(*foobar), "foobar");
  auto fo = b64u_decode("Zm8");
  ASSERT_TRUE(fo);
  EXPECT_EQ(str(*fo), "fo");
}

TEST(B64u, RoundTripsEveryByteValueAndLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 7) {
    const std::string in = all.substr(0, n);
    const std::string enc = b64u_encode(in);
    EXPECT_EQ(enc.find('='), std::string::npos);
    auto dec = b64u_decode(enc);
    ASSERT_TRUE(dec) << enc;
    EXPECT_EQ(str(*dec), in);
  }
}

TEST(B64u, RejectsPaddingWhitespaceAndForeignCharacters) {
  for (const std::string_view bad : {"Zg==", "Zm8=", "Zm9v=", " Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n",
                                     "Zm\t9v", "Zm+v", "Zm/v", "Zm9v!", "Zm.9", "Zm9\xc3\xa9"}) {
    EXPECT_FALSE(b64u_decode(bad)) << bad;
  }
  EXPECT_FALSE(b64u_decode(std::string_view("Zm\0v", 4)));
}

TEST(B64u, RejectsImpossibleLengthsAndNonCanonicalTrailingBits) {
  EXPECT_FALSE(b64u_decode("Z"));      // 1 char can not hold a byte
  EXPECT_FALSE(b64u_decode("Zm9vY"));  // 5 chars: same
  EXPECT_FALSE(b64u_decode("Zh"));     // "Zg" with non-zero unused bits
  EXPECT_FALSE(b64u_decode("Zm9"));    // "Zm8" with non-zero unused bits
}

TEST(B64u, FixedLengthDecodeChecksTheDecodedSize) {
  const std::string pk32 = b64u_encode(std::string(32, 'x'));
  EXPECT_TRUE(b64u_decode_fixed<32>(pk32));
  EXPECT_FALSE(b64u_decode_fixed<32>(b64u_encode(std::string(31, 'x'))));
  EXPECT_FALSE(b64u_decode_fixed<32>(b64u_encode(std::string(33, 'x'))));
  EXPECT_FALSE(b64u_decode_fixed<32>(pk32 + "="));
  EXPECT_FALSE(b64u_decode_fixed<64>(pk32));
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // docs/protocol.md §3.3 pinned vector.
  EXPECT_EQ(sha256_b64u("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  const Digest d = sha256("abc");
  EXPECT_EQ(d[0], 0xba);
  EXPECT_EQ(d[31], 0xad);
}

TEST(Random, BytesHaveTheRequestedSizeAndDiffer) {
  EXPECT_TRUE(random_bytes(0).empty());
  const Bytes a = random_bytes(32);
  const Bytes b = random_bytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);  // 2^-256 chance of a false failure
}

TEST(Random, NonceIs22CharsOf16BytesAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string n = random_nonce();
    EXPECT_EQ(n.size(), 22u);
    EXPECT_TRUE(b64u_decode_fixed<16>(n)) << n;
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("secret-token", "secret-token"));
  EXPECT_FALSE(constant_time_equal("secret-token", "secret-tokeN"));
  EXPECT_FALSE(constant_time_equal("secret-token", "secret-token2"));
  EXPECT_FALSE(constant_time_equal("", "x"));
  EXPECT_TRUE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  EXPECT_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(Ed25519, SeedGivesTheSpecPublicKeyAndFingerprint) {
  const KeyPair keys = KeyPair::from_seed(example_seed());
  EXPECT_EQ(keys.seed, example_seed());
  EXPECT_EQ(b64u_encode(keys.public_key), kExamplePk);
  EXPECT_EQ(fingerprint(keys.public_key), kExampleFingerprint);
  EXPECT_EQ(fingerprint(keys.public_key).size(), 50u);
}

TEST(Ed25519, SignsTheSpecRegisterBlob) {
  const KeyPair keys = KeyPair::from_seed(example_seed());
  const std::string blob =
      us("c2c/v1/register␟alice␟http://127.0.0.1:7331␟A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"
         "␟2026-04-21T00:05:30Z␟AAECAwQFBgcICQoLDA0ODw");
  const Signature sig = sign(keys, blob);
  EXPECT_EQ(
      b64u_encode(sig),
      "gFzhxgypzebdV6LSBqeuJ1dyQXLKj2gO3XQPzgqopo0FPsBtSF40zutU9rC4NpX67TpeDdH2ybLxYcrg_B4qBw");
  EXPECT_TRUE(verify(keys.public_key, blob, sig));
}

TEST(Ed25519, VerifyRejectsTamperedMessageSignatureAndKey) {
  const KeyPair keys = KeyPair::generate();
  const std::string msg = "the quick brown fox";
  const Signature sig = sign(keys, msg);
  ASSERT_TRUE(verify(keys.public_key, msg, sig));

  std::string msg2 = msg;
  msg2[3] ^= 0x01;
  EXPECT_FALSE(verify(keys.public_key, msg2, sig));
  EXPECT_FALSE(verify(keys.public_key, msg + " ", sig));

  Signature sig2 = sig;
  sig2[10] ^= 0x80;
  EXPECT_FALSE(verify(keys.public_key, msg, sig2));

  const KeyPair other = KeyPair::generate();
  EXPECT_FALSE(verify(other.public_key, msg, sig));
  EXPECT_FALSE(verify(PublicKey{}, msg, sig));
}

TEST(Ed25519, GeneratedKeysAreFreshAndReproducibleFromTheirSeed) {
  const KeyPair a = KeyPair::generate();
  const KeyPair b = KeyPair::generate();
  EXPECT_NE(a.seed, b.seed);
  EXPECT_NE(a.public_key, b.public_key);
  EXPECT_EQ(KeyPair::from_seed(a.seed).public_key, a.public_key);
  // Ed25519 is deterministic: same key and message, same signature.
  EXPECT_EQ(sign(a, "m"), sign(KeyPair::from_seed(a.seed), "m"));
  EXPECT_TRUE(verify(a.public_key, "", sign(a, "")));
}

}  // namespace
}  // namespace c2c::crypto
