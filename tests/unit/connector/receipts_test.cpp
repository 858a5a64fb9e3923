// Connector step 4: delivery receipts both ways against the real relay in process
// (tests/support/in_process_relay.hpp). A dev-mode relay queues receipts without checking their
// signatures, so it also carries what a malicious relay would hand out: forged, re-keyed and
// unsolicited receipts, which must not be recorded.
#include <gtest/gtest.h>

#include "c2c/connector/connector.hpp"
#include "c2c/crypto/canonical.hpp"
#include "c2c/crypto/identity.hpp"
#include "support/in_process_relay.hpp"
#include "support/temp_dir.hpp"

namespace c2c::connector {
namespace {

using c2c::test::InProcessRelay;
using c2c::test::TempDir;
using c2c::test::write_file;
using nlohmann::json;

crypto::KeyPair key(uint8_t fill) {
  crypto::Seed seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(fill + i);
  return crypto::KeyPair::from_seed(seed);
}

json receipt(const std::string& id, const std::string& state, const std::string& recipient,
             int64_t ts_ms, const crypto::KeyPair* k) {
  json r = {{"message_id", id},    {"state", state}, {"recipient", recipient},
            {"to_alias", "alice"}, {"ts_ms", ts_ms}, {"receipt_id", "x-" + id + "-" + state}};
  if (k)
    r["sig"] = crypto::sign_b64u(*k, crypto::delivery_receipt_blob(id, state, recipient, ts_ms));
  return r;
}

json batch(const std::vector<std::string>& ids, const std::string& state,
           const std::string& recipient, int64_t ts_ms, const crypto::KeyPair* k) {
  json r = {{"message_ids", ids},
            {"state", state},
            {"recipient", recipient},
            {"to_alias", "alice"},
            {"ts_ms", ts_ms}};
  if (k)
    r["sig"] = crypto::sign_b64u(*k, crypto::delivery_receipts_blob(ids, state, recipient, ts_ms));
  return r;
}

class ConnectorReceipts : public ::testing::Test {
 protected:
  TempDir dir{"c2c-connector-receipts"};
  FakeClock clock{1'776'730'000.0};
  InProcessRelay relay{{.public_url = "http://relay.test:7331"}};
  broker::Broker broker{dir.path(), clock};
  crypto::Identity identity = crypto::new_identity("machine-a", 1'776'730'000.0);
  relay::RelayClient client{
      relay::RelayClientOptions{"http://relay.test:7331", "", identity, {}, &clock},
      relay.transport()};
  ConnectorOptions options = [] {
    ConnectorOptions o;
    o.node_id = "machine-a";
    return o;
  }();
  Connector connector{broker, client, options};
  crypto::KeyPair bob_key = key(40);

  void SetUp() override {
    write_file(dir / "registry.json",
               R"([{"session_id":"ses-alice","alias":"alice","pid":1,"pid_start_time":1}])");
    relay.register_alias("bob", "machine-b", "ses-bob", &bob_key);  // binds bob to bob_key
  }
  SyncReport round() {
    auto r = connector.sync_once();
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r.value_or(SyncReport{});
  }
  broker::DeliveryStatus status(const std::string& id) {
    auto s = broker.delivery_status(id);
    EXPECT_TRUE(s && *s) << id;
    return s && *s ? **s : broker::DeliveryStatus{};
  }
  // alice -> bob@machine-b, forwarded to the relay.
  std::string sent_to_bob() {
    auto sent = broker.send("alice", "bob@machine-b", "hello");
    EXPECT_TRUE(sent);
    round();
    return sent ? sent->message_id : "";
  }
};

TEST_F(ConnectorReceipts, RecipientSideSignsAndPostsDeliveredThenRead) {
  round();  // registers alice
  relay.send("bob", "alice", "hi alice", "m-in-1");
  round();
  ASSERT_EQ(relay.posted_receipts.size(), 1u);
  json r = relay.posted_receipts[0];
  EXPECT_EQ(r["message_id"], "m-in-1");
  EXPECT_EQ(r["state"], "delivered");
  EXPECT_EQ(r["recipient"], "alice@machine-a");
  EXPECT_EQ(r["to_alias"], "bob");
  EXPECT_TRUE(crypto::verify_b64u(
      identity.keys.public_key,
      crypto::delivery_receipt_blob("m-in-1", "delivered", "alice@machine-a", r["ts_ms"]),
      r["sig"].get<std::string>()));
  EXPECT_TRUE(broker.read_receipt_outbox()->empty());

  clock.advance(5);
  ASSERT_EQ(broker.poll("ses-alice")->size(), 1u);
  EXPECT_EQ(broker.read_receipt_outbox()->size(), 1u);
  round();
  ASSERT_EQ(relay.posted_receipts.size(), 2u);
  r = relay.posted_receipts[1];
  EXPECT_EQ(r["state"], "read");
  EXPECT_EQ(r["ts_ms"], static_cast<int64_t>((1'776'730'000.0 + 5) * 1000));
  EXPECT_TRUE(broker.read_receipt_outbox()->empty());
}

// The messages one round delivers reach `delivered` together, and their receipt goes back as
// one batch under one signature; so does the `read` of one drain.
TEST_F(ConnectorReceipts, RecipientSideSignsOneBatchPerDeliveredGroup) {
  round();  // registers alice
  const std::vector<std::string> ids = {"m-b1", "m-b2", "m-b3"};
  for (const auto& id : ids) relay.send("bob", "alice", "hi " + id, id);
  round();
  ASSERT_EQ(relay.posted_receipts.size(), 1u);
  json r = relay.posted_receipts[0];
  EXPECT_FALSE(r.contains("message_id"));
  EXPECT_EQ(r["message_ids"], json(ids));
  EXPECT_EQ(r["state"], "delivered");
  EXPECT_EQ(r["recipient"], "alice@machine-a");
  EXPECT_TRUE(crypto::verify_b64u(
      identity.keys.public_key,
      crypto::delivery_receipts_blob(ids, "delivered", "alice@machine-a", r["ts_ms"]),
      r["sig"].get<std::string>()));
  EXPECT_TRUE(broker.read_receipt_outbox()->empty());

  clock.advance(5);
  ASSERT_EQ(broker.poll("ses-alice")->size(), 3u);
  round();
  ASSERT_EQ(relay.posted_receipts.size(), 2u);
  EXPECT_EQ(relay.posted_receipts[1]["state"], "read");
  EXPECT_EQ(relay.posted_receipts[1]["message_ids"], json(ids));
  EXPECT_TRUE(broker.read_receipt_outbox()->empty());
}

// A relay from before batched receipts answers 400: the same receipts go one by one at once,
// and nothing is dropped.
TEST_F(ConnectorReceipts, AnOlderRelayGetsSingleReceipts) {
  round();
  relay.no_receipt_batches = true;
  for (const auto& id : {"m-o1", "m-o2", "m-o3"}) relay.send("bob", "alice", "hi", id);
  const auto report = round();
  ASSERT_EQ(relay.posted_receipts.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(relay.posted_receipts[i]["message_id"], "m-o" + std::to_string(i + 1));
    EXPECT_FALSE(relay.posted_receipts[i].contains("message_ids"));
  }
  EXPECT_TRUE(broker.read_receipt_outbox()->empty());
  bool said = false;
  for (const auto& d : report.details) said = said || d.find("one by one") != std::string::npos;
  EXPECT_TRUE(said);
  // Later groups too, without another refused try.
  const int posts = relay.calls["/receipts"];
  ASSERT_EQ(broker.poll("ses-alice")->size(), 3u);
  round();
  EXPECT_EQ(relay.posted_receipts.size(), 6u);
  EXPECT_EQ(relay.calls["/receipts"], posts + 1);
}

TEST_F(ConnectorReceipts, ReceiptsWaitWhileTheRelayIsDown) {
  round();
  relay.send("bob", "alice", "hi", "m-in-2");
  relay.before = [](const net::ClientRequest& req) {
    return req.target.rfind("/receipts", 0) != 0;  // everything but receipts gets through
  };
  round();
  EXPECT_EQ(broker.read_receipt_outbox()->size(), 1u);
  relay.before = nullptr;
  round();
  EXPECT_TRUE(broker.read_receipt_outbox()->empty());
  EXPECT_EQ(relay.posted_receipts.size(), 1u);
}

TEST_F(ConnectorReceipts, SenderSideRecordsVerifiedReceiptsAndAcksThem) {
  const std::string id = sent_to_bob();
  auto s = status(id);
  ASSERT_EQ(s.recipients.size(), 1u);
  EXPECT_EQ(s.recipients[0].state, broker::ReceiptState::kAccepted);
  EXPECT_EQ(s.events.back().via, "relay");

  relay.post_receipt(receipt(id, "delivered", "bob@machine-b", 1'776'730'001'000, &bob_key));
  round();
  s = status(id);
  EXPECT_EQ(s.recipients[0].recipient, "bob@machine-b");
  EXPECT_EQ(s.recipients[0].state, broker::ReceiptState::kDelivered);
  EXPECT_DOUBLE_EQ(*s.recipients[0].delivered_at, 1'776'730'001.0);
  EXPECT_EQ(s.events.back().via, "remote");
  EXPECT_EQ(s.events.back().node, "machine-b");
  EXPECT_EQ(s.events.back().verified, "ed25519");
  EXPECT_EQ(*broker.pinned_receipt_key("bob"), crypto::b64u_encode(bob_key.public_key));

  relay.post_receipt(receipt(id, "read", "bob@machine-b", 1'776'730'009'000, &bob_key));
  round();  // acknowledges the first, records the second
  EXPECT_EQ(status(id).recipients[0].state, broker::ReceiptState::kRead);
  round();
  EXPECT_TRUE(relay.queued_receipts("alice").empty());
}

// A batch is verified once and records each message this broker sent there; an id it did not
// send is ignored, and the batch is acknowledged.
TEST_F(ConnectorReceipts, ABatchedReceiptRecordsEachOfOurMessagesItNames) {
  const std::string a = sent_to_bob(), b = sent_to_bob(), c = sent_to_bob();
  relay.post_receipt(
      batch({a, b, "never-sent", c}, "delivered", "bob@machine-b", 1'776'730'001'000, &bob_key));
  round();
  for (const auto& id : {a, b, c}) {
    const auto s = status(id);
    ASSERT_EQ(s.recipients.size(), 1u);
    EXPECT_EQ(s.recipients[0].recipient, "bob@machine-b");
    EXPECT_EQ(s.recipients[0].state, broker::ReceiptState::kDelivered);
    EXPECT_DOUBLE_EQ(*s.recipients[0].delivered_at, 1'776'730'001.0);
    EXPECT_EQ(s.events.back().verified, "ed25519");
  }
  EXPECT_FALSE(broker.delivery_status("never-sent")->has_value());
  round();
  EXPECT_TRUE(relay.queued_receipts("alice").empty());
}

// A relay that edits a batch's list (drops an id, adds one) breaks its one signature: nothing of
// it is recorded.
TEST_F(ConnectorReceipts, AnEditedBatchIsDroppedWhole) {
  const std::string a = sent_to_bob(), b = sent_to_bob();
  json edited = batch({a, b}, "read", "bob@machine-b", 1'776'730'001'000, &bob_key);
  edited["message_ids"] = json({a});
  relay.post_receipt(edited);
  const auto r = round();
  EXPECT_NE(r.last_error.find("does not verify"), std::string::npos) << r.last_error;
  EXPECT_EQ(status(a).recipients[0].state, broker::ReceiptState::kAccepted);
  EXPECT_EQ(status(b).recipients[0].state, broker::ReceiptState::kAccepted);
  round();
  EXPECT_TRUE(relay.queued_receipts("alice").empty());  // dropped, not retried forever
}

TEST_F(ConnectorReceipts, AForgedReceiptIsDropped) {
  const std::string id = sent_to_bob();
  const auto relay_key = key(90);  // a relay signing with a key of its own
  relay.post_receipt(receipt(id, "read", "bob@machine-b", 1'776'730'001'000, &relay_key));
  relay.post_receipt(receipt(id, "delivered", "bob@machine-b", 1'776'730'001'000, nullptr));
  const auto r = round();
  EXPECT_NE(r.last_error.find("does not verify"), std::string::npos) << r.last_error;
  EXPECT_EQ(status(id).recipients[0].state, broker::ReceiptState::kAccepted);
  round();
  EXPECT_TRUE(relay.queued_receipts("alice").empty());  // dropped, not retried forever
}

TEST_F(ConnectorReceipts, ARelayCannotReplaceThePinnedKey) {
  const std::string id = sent_to_bob();
  relay.post_receipt(receipt(id, "delivered", "bob@machine-b", 1'776'730'001'000, &bob_key));
  round();
  ASSERT_EQ(status(id).recipients[0].state, broker::ReceiptState::kDelivered);
  // The relay now claims bob has another key (unbound, then registered with that key), and
  // "read" comes signed with it.
  const auto other = key(120);
  relay.unbind("bob");
  relay.register_alias("bob", "machine-b", "ses-bob", &other);
  relay.post_receipt(receipt(id, "read", "bob@machine-b", 1'776'730'002'000, &other));
  round();
  EXPECT_EQ(status(id).recipients[0].state, broker::ReceiptState::kDelivered);
}

TEST_F(ConnectorReceipts, AReceiptForAMessageNotSentThereIsDropped) {
  const std::string id = sent_to_bob();
  const auto carol_key = key(7);
  relay.register_alias("carol", "machine-c", "ses-carol", &carol_key);
  relay.post_receipt(receipt("never-sent", "read", "bob@machine-b", 1'776'730'001'000, &bob_key));
  relay.post_receipt(receipt(id, "read", "carol@machine-c", 1'776'730'001'000, &carol_key));
  round();
  EXPECT_EQ(status(id).recipients[0].state, broker::ReceiptState::kAccepted);
  EXPECT_FALSE(broker.delivery_status("never-sent")->has_value());
  round();
  EXPECT_TRUE(relay.queued_receipts("alice").empty());
}

TEST_F(ConnectorReceipts, WithoutAKeyOnTheRelayReceiptsAreMarkedUnsigned) {
  const std::string id = sent_to_bob();
  relay.unbind("bob");
  relay.post_receipt(receipt(id, "delivered", "bob@machine-b", 1'776'730'001'000, nullptr));
  round();
  const auto s = status(id);
  EXPECT_EQ(s.recipients[0].state, broker::ReceiptState::kDelivered);
  EXPECT_EQ(s.events.back().verified, "unsigned");
}

}  // namespace
}  // namespace c2c::connector
