#include "c2c/crypto/canonical.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vectors.hpp"

namespace c2c::crypto {
namespace {

using test::example_seed;
using test::kExamplePk;
using test::us;

constexpr std::string_view kSendBody = R"({"from_alias":"alice","to_alias":"bob","content":"hi"})";
constexpr std::string_view kSendSig =
    "I_EPxz59ZiJZVcMM7EznKy5HF9y8rKmWBxCfKN8xDtXQJZluX7T6PwUSJexKoMXoabarxZfi5CwE_A7Tf1w4AQ";

TEST(CanonicalBlob, JoinsWithUnitSeparatorAndNoTrailingOne) {
  EXPECT_EQ(canonical_blob("ctx", {}), "ctx");
  EXPECT_EQ(canonical_blob("ctx", {"a"}),
            "ctx\x1f"
            "a");
  EXPECT_EQ(canonical_blob("ctx", {"a", "", "b"}),
            "ctx\x1f"
            "a\x1f\x1f"
            "b");
  EXPECT_EQ(canonical_blob(kCtxRegister, {"x", "y"}), "c2c/v1/register\x1fx\x1fy");
}

// docs/protocol.md: state, recipient, ts_ms, the number of ids, then the ids in order.
TEST(DeliveryReceiptsBlob, NamesTheCountAndEachIdInOrder) {
  const std::vector<std::string> ids = {"m1", "m2", "m3"};
  EXPECT_EQ(delivery_receipts_blob(ids, "read", "bob@b", 1776730000123),
            "c2c/v1/delivery-receipts\x1fread\x1f"
            "bob@b\x1f"
            "1776730000123\x1f"
            "3\x1fm1\x1fm2\x1fm3");
  // Another order is another statement, and a batch of one is not a single receipt's blob.
  const std::vector<std::string> swapped = {"m2", "m1", "m3"};
  EXPECT_NE(delivery_receipts_blob(swapped, "read", "bob@b", 1),
            delivery_receipts_blob(ids, "read", "bob@b", 1));
  const std::vector<std::string> one = {"m1"};
  EXPECT_NE(delivery_receipts_blob(one, "read", "bob@b", 1),
            delivery_receipt_blob("m1", "read", "bob@b", 1));
}

TEST(BodyHash, EmptyBodyHashesToEmptyString) {
  EXPECT_EQ(body_hash(""), "");
  EXPECT_EQ(body_hash("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  EXPECT_EQ(body_hash(kSendBody), "pVrU88Fc3fEfTiN8SbBquGahm_T5A43el6VzZa8KbQM");
  EXPECT_NE(body_hash(" "), "");
}

TEST(CanonicalQuery, SortsByKeyStably) {
  EXPECT_EQ(canonical_query("zulu=1&alpha=2"), "alpha=2&zulu=1");
  EXPECT_EQ(canonical_query("b=2&a=3&b=1&a=1"), "a=3&a=1&b=2&b=1");
  EXPECT_EQ(canonical_query("B=1&a=1"), "B=1&a=1");  // byte order: 'B' < 'a'
}

TEST(CanonicalQuery, EmptyAndValuelessPairsContributeNothing) {
  EXPECT_EQ(canonical_query(""), "");
  EXPECT_EQ(canonical_query("flag"), "");
  EXPECT_EQ(canonical_query("flag&b=2"), "b=2");
  EXPECT_EQ(canonical_query("a=1&&b=2&"), "a=1&b=2");
  EXPECT_EQ(canonical_query("k="), "k=");  // an empty value is still a value
  EXPECT_EQ(canonical_query("=v"), "=v");
}

TEST(CanonicalQuery, PercentEncodesOutsideTheUnreservedSet) {
  EXPECT_EQ(canonical_query("k=AZaz09-._~"), "k=AZaz09-._~");
  EXPECT_EQ(canonical_query("k=a b"), "k=a%20b");
  EXPECT_EQ(canonical_query("k=a+b"), "k=a%2Bb");
  EXPECT_EQ(canonical_query("k=x=y"), "k=x%3Dy");  // split at the first '='
  EXPECT_EQ(canonical_query("k=\xc3\xa9"), "k=%C3%A9");
}

TEST(CanonicalQuery, DecodesEscapesBeforeReEncoding) {
  EXPECT_EQ(canonical_query("k=%41%62"), "k=Ab");
  EXPECT_EQ(canonical_query("k=%2f"), "k=%2F");
  EXPECT_EQ(canonical_query("k%20x=1"), "k%20x=1");
  // Broken escapes stay literal and the '%' itself is encoded.
  EXPECT_EQ(canonical_query("k=%"), "k=%25");
  EXPECT_EQ(canonical_query("k=%4"), "k=%254");
  EXPECT_EQ(canonical_query("k=%zz"), "k=%25zz");
}

TEST(CanonicalQuery, IsIdempotent) {
  for (const std::string_view q : {"zulu=1&alpha=2", "k=a b&j=%zz&x", "a=%26&a=%3D", ""}) {
    const std::string once = canonical_query(q);
    EXPECT_EQ(canonical_query(once), once) << q;
  }
}

TEST(RequestBlob, MatchesSpecSendExample) {
  const std::string blob = request_blob("POST", "/send", "", body_hash(kSendBody),
                                        "1776730000.000000", "EBESExQVFhcYGRobHB0eHw");
  EXPECT_EQ(blob, us("c2c/v1/request␟POST␟/send␟␟pVrU88Fc3fEfTiN8SbBquGahm_T5A43el6VzZa8KbQM␟"
                     "1776730000.000000␟EBESExQVFhcYGRobHB0eHw"));
  const KeyPair keys = KeyPair::from_seed(example_seed());
  EXPECT_EQ(sign_b64u(keys, blob), kSendSig);
  EXPECT_TRUE(verify_b64u(keys.public_key, blob, kSendSig));
}

TEST(RequestBlob, MatchesSpecListExample) {
  const std::string blob = request_blob("GET", "/list", "", body_hash(""), "1776730000.000000",
                                        "ICEiIyQlJicoKSorLC0uLw");
  EXPECT_EQ(blob, us("c2c/v1/request␟GET␟/list␟␟␟1776730000.000000␟ICEiIyQlJicoKSorLC0uLw"));
  const KeyPair keys = KeyPair::from_seed(example_seed());
  EXPECT_EQ(
      sign_b64u(keys, blob),
      "TYQT1wCyl3WrFAdUzrQyJvWVjYB1JWVTeStbxO06WNqIP7UW2xW5rOgw82hxLAzr2AqcvSXpGFuG30TMXk9yAA");
}

TEST(RoomSendBlob, MatchesSpecExample) {
  const std::string ct = b64u_encode(std::string_view("hello room"));
  EXPECT_EQ(ct, "aGVsbG8gcm9vbQ");
  const auto ct_bytes = b64u_decode(ct);
  ASSERT_TRUE(ct_bytes);
  const std::string ct_hash = sha256_b64u(std::string(ct_bytes->begin(), ct_bytes->end()));
  EXPECT_EQ(ct_hash, "cFDxZtxgjp1-Q138024v3ahD5fr-UPeu2VVvuTSD4jw");
  const std::string blob =
      canonical_blob(kCtxRoomSend, {"swarm-lounge", "alice", kExamplePk, "none", ct_hash,
                                    "2026-04-21T00:05:30Z", "QEFCQ0RFRkdISUpLTE1OTw"});
  EXPECT_EQ(blob, us("c2c/v1/room-send␟swarm-lounge␟alice␟A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJ"
                     "VMbg␟none␟cFDxZtxgjp1-Q138024v3ahD5fr-UPeu2VVvuTSD4jw␟2026-04-21T00:05:30Z␟"
                     "QEFCQ0RFRkdISUpLTE1OTw"));
  const KeyPair keys = KeyPair::from_seed(example_seed());
  EXPECT_EQ(
      sign_b64u(keys, blob),
      "GYtmvBc5F8fZYlw5w_lIOXdWXZoHrwaKPe-QkzSr_fx-45wP3Y1VfNP84u-lSwYSRz6A4v62JHGUXH4284roAA");
}

TEST(VerifyB64u, RejectsBadEncodingsLengthsAndTampering) {
  const KeyPair keys = KeyPair::from_seed(example_seed());
  const std::string blob = request_blob("POST", "/send", "", body_hash(kSendBody),
                                        "1776730000.000000", "EBESExQVFhcYGRobHB0eHw");
  const std::string sig(kSendSig);
  EXPECT_TRUE(verify_b64u(keys.public_key, blob, sig));
  EXPECT_FALSE(verify_b64u(keys.public_key, blob, ""));
  EXPECT_FALSE(verify_b64u(keys.public_key, blob, sig + "=="));
  EXPECT_FALSE(verify_b64u(keys.public_key, blob, sig.substr(0, 84)));
  EXPECT_FALSE(verify_b64u(keys.public_key, blob, "!!" + sig.substr(2)));
  EXPECT_FALSE(verify_b64u(keys.public_key, blob + "x", sig));
  std::string flipped = sig;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_b64u(keys.public_key, blob, flipped));
}

}  // namespace
}  // namespace c2c::crypto
