#include "c2c/crypto/request_auth.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "c2c/crypto/canonical.hpp"
#include "vectors.hpp"

namespace c2c::crypto {
namespace {

using test::example_seed;

constexpr std::string_view kSendBody = R"({"from_alias":"alice","to_alias":"bob","content":"hi"})";
constexpr std::string_view kSendHeader =
    "Ed25519 alias=alice,ts=1776730000.000000,nonce=EBESExQVFhcYGRobHB0eHw,"
    "sig=I_EPxz59ZiJZVcMM7EznKy5HF9y8rKmWBxCfKN8xDtXQJZluX7T6PwUSJexKoMXoabarxZfi5CwE_A7Tf1w4AQ";

void expect_unauthorized(std::string_view header, std::string_view message) {
  const auto r = parse_ed25519_header(header);
  ASSERT_FALSE(r) << header;
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(r.error().message, message);
}

TEST(ParseHeader, ParsesTheSpecExample) {
  const auto h = parse_ed25519_header(kSendHeader);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->alias, "alice");
  EXPECT_EQ(h->ts, "1776730000.000000");
  EXPECT_EQ(h->nonce, "EBESExQVFhcYGRobHB0eHw");
  EXPECT_EQ(h->sig.size(), 86u);
  EXPECT_EQ(format_ed25519_header(*h), kSendHeader);
}

TEST(ParseHeader, TrimsIgnoresUnknownKeysAndAcceptsAnyOrder) {
  const auto h = parse_ed25519_header(
      "Ed25519  sig = S ,extra=1, nonce=N,junk,ts=1.5 ,alias=\tbob\t,=x,v=a=b");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->alias, "bob");
  EXPECT_EQ(h->ts, "1.5");
  EXPECT_EQ(h->nonce, "N");
  EXPECT_EQ(h->sig, "S");
}

TEST(ParseHeader, SplitsAtTheFirstEqualsSign) {
  const auto h = parse_ed25519_header("Ed25519 alias=a,ts=1,nonce=n==,sig=s=t");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->nonce, "n==");
  EXPECT_EQ(h->sig, "s=t");
}

TEST(ParseHeader, FirstOccurrenceOfAKeyWins) {
  const auto h = parse_ed25519_header("Ed25519 alias=a,ts=1,nonce=n,sig=s,alias=mallory");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->alias, "a");
}

TEST(ParseHeader, EachMissingFieldIsNamed) {
  expect_unauthorized("Ed25519 ts=1,nonce=n,sig=s", "malformed Ed25519 auth: missing alias");
  expect_unauthorized("Ed25519 alias=a,nonce=n,sig=s", "malformed Ed25519 auth: missing ts");
  expect_unauthorized("Ed25519 alias=a,ts=1,sig=s", "malformed Ed25519 auth: missing nonce");
  expect_unauthorized("Ed25519 alias=a,ts=1,nonce=n", "malformed Ed25519 auth: missing sig");
}

TEST(ParseHeader, EmptyOrBlankValuesCountAsMissing) {
  expect_unauthorized("Ed25519 alias=,ts=1,nonce=n,sig=s", "malformed Ed25519 auth: missing alias");
  expect_unauthorized("Ed25519 alias=a,ts=  ,nonce=n,sig=s", "malformed Ed25519 auth: missing ts");
  expect_unauthorized("Ed25519 alias=a,ts=1,nonce,sig=s", "malformed Ed25519 auth: missing nonce");
  expect_unauthorized("Ed25519 alias=a,ts=1,nonce=n,sig=", "malformed Ed25519 auth: missing sig");
}

TEST(ParseHeader, RefusesOtherSchemesAndGarbage) {
  for (const std::string_view bad :
       {"", "Ed25519", "ed25519 alias=a,ts=1,nonce=n,sig=s", "ED25519 alias=a,ts=1,nonce=n,sig=s",
        "Bearer tok", " Ed25519 alias=a,ts=1,nonce=n,sig=s",
        "Ed25519\talias=a,ts=1,nonce=n,sig=s"}) {
    const auto r = parse_ed25519_header(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized);
  }
  expect_unauthorized("Ed25519 ", "malformed Ed25519 auth: missing alias");
  expect_unauthorized("Ed25519 ,,,,===,=,", "malformed Ed25519 auth: missing alias");
  expect_unauthorized(std::string_view("Ed25519 alias=\0,ts=1", 20),
                      "malformed Ed25519 auth: missing nonce");
}

TEST(ParseHeader, SurvivesHugeHostileInput) {
  std::string commas = "Ed25519 " + std::string(1 << 20, ',');
  expect_unauthorized(commas, "malformed Ed25519 auth: missing alias");
  std::string equals = "Ed25519 alias=" + std::string(1 << 20, '=');
  const auto r = parse_ed25519_header(equals + ",ts=1,nonce=n,sig=s");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->alias.size(), size_t{1} << 20);
  std::string noise = "Ed25519 ";
  unsigned x = 12345;
  for (int i = 0; i < (1 << 18); ++i) {
    x = x * 1103515245u + 12345u;
    noise.push_back(static_cast<char>(x >> 16));
  }
  EXPECT_FALSE(parse_ed25519_header(noise));  // no crash; no complete header by chance
}

class SignedRequest : public ::testing::Test {
 protected:
  KeyPair keys_ = KeyPair::from_seed(example_seed());
  std::string header_ = sign_request(keys_, "alice", "POST", "/send", "", kSendBody, 1776730000.25);
  AuthHeader h_ = parse_ed25519_header(header_).value();
};

TEST_F(SignedRequest, HeaderHasTheReferenceShape) {
  EXPECT_TRUE(header_.starts_with("Ed25519 alias=alice,ts=1776730000.250000,nonce="));
  EXPECT_EQ(h_.ts, "1776730000.250000");
  EXPECT_EQ(h_.nonce.size(), 22u);
  EXPECT_TRUE(b64u_decode_fixed<64>(h_.sig));
  EXPECT_EQ(format_ed25519_header(h_), header_);
}

TEST_F(SignedRequest, VerifiesAndSignatureCoversTheSpecBlob) {
  EXPECT_TRUE(verify_request(keys_.public_key, h_, "POST", "/send", "", kSendBody));
  const std::string blob = request_blob("POST", "/send", "", body_hash(kSendBody), h_.ts, h_.nonce);
  EXPECT_TRUE(verify_b64u(keys_.public_key, blob, h_.sig));
}

TEST_F(SignedRequest, NoncesDifferBetweenRequests) {
  const std::string again =
      sign_request(keys_, "alice", "POST", "/send", "", kSendBody, 1776730000.25);
  EXPECT_NE(parse_ed25519_header(again)->nonce, h_.nonce);
}

TEST_F(SignedRequest, AnyTamperingFailsVerification) {
  const PublicKey& pk = keys_.public_key;
  std::string body(kSendBody);
  body[body.size() / 2] ^= 0x01;
  EXPECT_FALSE(verify_request(pk, h_, "POST", "/send", "", body));
  EXPECT_FALSE(verify_request(pk, h_, "POST", "/send", "", ""));
  EXPECT_FALSE(verify_request(pk, h_, "POST", "/sent", "", kSendBody));
  EXPECT_FALSE(verify_request(pk, h_, "GET", "/send", "", kSendBody));
  EXPECT_FALSE(verify_request(pk, h_, "POST", "/send", "a=1", kSendBody));
  AuthHeader ts = h_;
  ts.ts.back() = ts.ts.back() == '0' ? '1' : '0';
  EXPECT_FALSE(verify_request(pk, ts, "POST", "/send", "", kSendBody));
  AuthHeader nonce = h_;
  nonce.nonce = random_nonce();
  EXPECT_FALSE(verify_request(pk, nonce, "POST", "/send", "", kSendBody));
  AuthHeader sig = h_;
  sig.sig = "not-a-signature";
  EXPECT_FALSE(verify_request(pk, sig, "POST", "/send", "", kSendBody));
  EXPECT_FALSE(verify_request(KeyPair::generate().public_key, h_, "POST", "/send", "", kSendBody));
}

TEST(SignRequest, SignsTheCanonicalQueryTheServerComputes) {
  const KeyPair keys = KeyPair::generate();
  const std::string header =
      sign_request(keys, "bob", "GET", "/history", "zulu=1&alpha=2", "", 1.0);
  const auto h = parse_ed25519_header(header);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->ts, "1.000000");
  const std::string server_query = canonical_query("zulu=1&alpha=2");
  EXPECT_TRUE(verify_request(keys.public_key, *h, "GET", "/history", server_query, ""));
  EXPECT_FALSE(verify_request(keys.public_key, *h, "GET", "/history", "zulu=1&alpha=2", ""));
}

}  // namespace
}  // namespace c2c::crypto
