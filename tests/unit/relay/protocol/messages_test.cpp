// Wire DTOs: strict request parsing, lenient response parsing, JSON shapes.
#include "c2c/relay/protocol/messages.hpp"

#include <gtest/gtest.h>

#include "c2c/crypto/canonical.hpp"
#include "c2c/relay/protocol/routes.hpp"

namespace c2c::relay::protocol {
namespace {

TEST(RelayProtocol, SendRequestRequiresFieldsWithReferenceText) {
  auto r = SendRequest::from_json(Json{{"from_alias", "a"}, {"to_alias", "b"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(r.error().message, "from_alias, to_alias, and content are required");
}

TEST(RelayProtocol, WrongTypedFieldIsRejectedNotCoerced) {
  auto r = SendRequest::from_json(Json{{"from_alias", 5}, {"to_alias", "b"}, {"content", "x"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "from_alias must be a string");
  auto ttl = RegisterRequest::from_json(
      Json{{"node_id", "n"}, {"session_id", "s"}, {"alias", "a"}, {"ttl", "300"}});
  ASSERT_FALSE(ttl);
  EXPECT_EQ(ttl.error().message, "ttl must be a number");
  auto ids =
      PollRequest::from_json(Json{{"node_id", "n"}, {"session_id", "s"}, {"message_ids", {1}}});
  ASSERT_FALSE(ids);
  EXPECT_EQ(ids.error().message, "message_ids must be an array of strings");
}

TEST(RelayProtocol, NonObjectBodyIsBadRequest) {
  for (const Json& j : {Json::array(), Json("text"), Json(42), Json(nullptr)}) {
    auto r = SessionRequest::from_json(j);
    ASSERT_FALSE(r) << j.dump();
    EXPECT_EQ(r.error().message, "request body must be a JSON object");
  }
}

TEST(RelayProtocol, NullFieldsCountAsAbsent) {
  auto r = SendRequest::from_json(
      Json{{"from_alias", "a"}, {"to_alias", "b"}, {"content", "x"}, {"message_id", nullptr}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message_id, "");
}

TEST(RelayProtocol, OverlongIdsAreRejected) {
  auto r = SessionRequest::from_json(Json{{"node_id", std::string(257, 'n')}, {"session_id", "s"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "node_id is too long (max 256 bytes)");
}

TEST(RelayProtocol, RoomHistoryLimitIsClamped) {
  auto neg = RoomHistoryRequest::from_json(Json{{"room_id", "r"}, {"limit", -5}});
  ASSERT_TRUE(neg);
  EXPECT_EQ(neg->limit, 0);
  auto big = RoomHistoryRequest::from_json(Json{{"room_id", "r"}, {"limit", 1e12}});
  ASSERT_TRUE(big);
  EXPECT_EQ(big->limit, kMaxHistoryLimit);
  auto def = RoomHistoryRequest::from_json(Json{{"room_id", "r"}});
  ASSERT_TRUE(def);
  EXPECT_EQ(def->limit, 50);
}

TEST(RelayProtocol, RegisterRoundTripKeepsProof) {
  RegisterRequest r;
  r.node_id = "n";
  r.session_id = "s";
  r.alias = "alice";
  r.ttl = 60;
  r.identity_pk = "pk";
  r.signature = "sig";
  r.nonce = "nonce";
  r.timestamp = "2026-04-21T00:05:30Z";
  auto back = RegisterRequest::from_json(r.to_json());
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->has_full_proof());
  EXPECT_EQ(back->ttl, 60);
  EXPECT_EQ(back->timestamp, r.timestamp);
}

TEST(RelayProtocol, SendResponseShapes) {
  SendResponse s;
  s.ts = 1.5;
  s.message_id = "m1";
  EXPECT_EQ(s.to_json(), (Json{{"ok", true}, {"result", "ok"}, {"ts", 1.5}, {"message_id", "m1"}}));
  s.duplicate = true;
  auto back = SendResponse::from_json(s.to_json());
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->duplicate);
}

TEST(RelayProtocol, MessageOmitsEmptyOptionalFields) {
  Message m;
  m.message_id = "m";
  m.from_alias = "a";
  m.content = "c";
  m.ts = 2;
  const Json j = m.to_json();
  EXPECT_FALSE(j.contains("to_alias"));
  EXPECT_FALSE(j.contains("room_id"));
  EXPECT_FALSE(j.contains("envelope"));
  m.room_id = "r";
  m.to_alias = "b#r";
  Envelope e{"Y3Q", "none", "pk", "sig", "ts", "n"};
  m.envelope = e;
  auto back = Message::from_json(m.to_json());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to_alias, "b#r");
  ASSERT_TRUE(back->envelope);
  EXPECT_EQ(back->envelope->ct, "Y3Q");
}

TEST(RelayProtocol, ErrorResponseReadsReference429Body) {
  auto e = ErrorResponse::from_json(Json{{"error", "rate_limit_exceeded"}, {"retry_after", 2.5}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error_code, "rate_limit_exceeded");
  EXPECT_EQ(e->retry_after, 2.5);
  EXPECT_FALSE(is_ok(Json{{"ok", false}}));
  EXPECT_TRUE(is_ok(Json{{"ok", true}}));
  EXPECT_FALSE(is_ok(Json::array()));
}

// docs/protocol.md "Delivery receipts": a batched receipt names message_ids instead of
// message_id and signs another blob; requesters say whether they read batches.
TEST(RelayProtocol, BatchedReceiptRoundTripsAndSignsItsIds) {
  DeliveryReceipt r;
  r.message_ids = {"m1", "m2"};
  r.state = "read";
  r.recipient = "bob@machine-b";
  r.to_alias = "alice";
  r.ts_ms = 5;
  const auto j = r.to_json();
  EXPECT_FALSE(j.contains("message_id"));
  auto back = DeliveryReceipt::from_json(j);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(back->batched());
  const auto ids = back->ids();
  EXPECT_EQ(std::vector<std::string>(ids.begin(), ids.end()),
            (std::vector<std::string>{"m1", "m2"}));
  EXPECT_EQ(back->signed_blob(),
            crypto::delivery_receipts_blob(r.message_ids, "read", "bob@machine-b", 5));
  DeliveryReceipt single = r;
  single.message_ids.clear();
  single.message_id = "m1";
  EXPECT_FALSE(single.batched());
  ASSERT_EQ(single.ids().size(), 1u);
  EXPECT_EQ(single.ids()[0], "m1");
  EXPECT_EQ(single.signed_blob(), crypto::delivery_receipt_blob("m1", "read", "bob@machine-b", 5));

  StreamRequest s;
  s.node_id = "n";
  EXPECT_FALSE(s.to_json().contains("receipt_batches"));  // what an older connector sends
  s.receipt_batches = true;
  auto sb = StreamRequest::from_json(s.to_json());
  ASSERT_TRUE(sb);
  EXPECT_TRUE(sb->receipt_batches);
  FetchReceiptsRequest f{"alice", {}, true};
  auto fb = FetchReceiptsRequest::from_json(f.to_json());
  ASSERT_TRUE(fb);
  EXPECT_TRUE(fb->receipt_batches);
  EXPECT_FALSE(FetchReceiptsRequest::from_json({{"alias", "alice"}})->receipt_batches);
}

TEST(RelayProtocol, IncludeDeadTruthiness) {
  for (auto v : {"1", "true", "TRUE", "yes", "Yes"}) EXPECT_TRUE(is_truthy(v)) << v;
  for (auto v : {"", "0", "false", "no", "2"}) EXPECT_FALSE(is_truthy(v)) << v;
}

}  // namespace
}  // namespace c2c::relay::protocol
