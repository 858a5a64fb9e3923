// /receipts and /receipts/fetch: queued for the sender's alias, acknowledged by id, signer and
// signature checks in prod mode, GC with the sender's lease.
#include "support/relay_harness.hpp"

namespace c2c::relay::testing {
namespace {

constexpr const char* kToken = "tok-receipts";

Json receipt(const std::string& id, const std::string& state, const std::string& recipient,
             const std::string& to, int64_t ts_ms, const crypto::KeyPair* k) {
  Json r = {{"message_id", id},
            {"state", state},
            {"recipient", recipient},
            {"to_alias", to},
            {"ts_ms", ts_ms}};
  if (k)
    r["sig"] = crypto::sign_b64u(*k, crypto::delivery_receipt_blob(id, state, recipient, ts_ms));
  return r;
}

// A batched receipt: several messages, one state, one time, one signature.
Json batch(const std::vector<std::string>& ids, const std::string& state,
           const std::string& recipient, const std::string& to, int64_t ts_ms,
           const crypto::KeyPair* k) {
  Json r = {{"message_ids", ids},
            {"state", state},
            {"recipient", recipient},
            {"to_alias", to},
            {"ts_ms", ts_ms}};
  if (k) {
    r["sig"] = crypto::sign_b64u(*k, crypto::delivery_receipts_blob(ids, state, recipient, ts_ms));
  }
  return r;
}

std::vector<std::string> ids(const std::string& prefix, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

TEST(RelayReceipts, DevModeQueuesForTheSenderAndAcksById) {
  Harness h;
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "ses-a").ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "ses-b").ok());
  auto r =
      h.post("/receipts", {{"alias", "bob"},
                           {"receipts",
                            {receipt("m1", "delivered", "bob@machine-b", "alice", 1000, nullptr),
                             receipt("m1", "read", "bob@machine-b", "alice", 2000, nullptr),
                             receipt("m2", "read", "bob@machine-b", "ghost", 2000, nullptr)}}});
  ASSERT_TRUE(r.ok()) << r.body.dump();
  EXPECT_EQ(r.body["accepted"], 2);  // ghost has no lease: dropped

  // Nobody reads them as an inbox.
  EXPECT_TRUE(h.post("/peek_inbox", session("machine-a", "ses-a")).body["messages"].empty());
  r = h.post("/receipts/fetch", {{"alias", "alice"}});
  ASSERT_TRUE(r.ok()) << r.body.dump();
  ASSERT_EQ(r.body["receipts"].size(), 2u);
  EXPECT_EQ(r.body["receipts"][0]["state"], "delivered");
  EXPECT_EQ(r.body["receipts"][1]["ts_ms"], 2000);
  const std::string first = r.body["receipts"][0]["receipt_id"];
  r = h.post("/receipts/fetch", {{"alias", "alice"}, {"ack", {first}}});
  ASSERT_EQ(r.body["receipts"].size(), 1u);
  EXPECT_EQ(r.body["receipts"][0]["state"], "read");
  // Bob has none.
  EXPECT_TRUE(h.post("/receipts/fetch", {{"alias", "bob"}}).body["receipts"].empty());
}

// Operators see receipts on /metrics and the dashboard (docs/relay-server.md, "Metrics").
TEST(RelayReceipts, AcceptedAndFetchedAreCountedForOperators) {
  Harness h;
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "ses-a").ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "ses-b").ok());
  ASSERT_EQ(h.post("/receipts", {{"alias", "bob"},
                                 {"receipts",
                                  {receipt("m1", "delivered", "bob@machine-b", "alice", 1, nullptr),
                                   receipt("m1", "read", "bob@machine-b", "alice", 2, nullptr)}}})
                .body["accepted"],
            2);
  ASSERT_EQ(h.post("/receipts/fetch", {{"alias", "alice"}}).body["receipts"].size(), 2u);
  const std::string m = h.call("GET", "/metrics").raw.body;
  EXPECT_NE(m.find("c2c_relay_receipts_accepted_total 2\n"), std::string::npos) << m;
  EXPECT_NE(m.find("c2c_relay_receipts_fetched_total 2\n"), std::string::npos) << m;
  const auto s = h.call("GET", "/dashboard/state");
  EXPECT_EQ(s.body["counts"]["receipts_accepted"], 2) << s.raw.body;
  EXPECT_EQ(s.body["counts"]["receipts_fetched"], 2) << s.raw.body;
}

TEST(RelayReceipts, BadInputIsRefused) {
  Harness h;
  for (const Json& body :
       {Json{{"alias", "bob"}}, Json{{"alias", "bob"}, {"receipts", "x"}},
        Json{{"alias", "bob"}, {"receipts", {receipt("m", "seen", "bob@b", "alice", 1, nullptr)}}},
        Json{{"alias", "bob"}, {"receipts", {receipt("m", "read", "bob", "alice", 1, nullptr)}}},
        Json{{"alias", "bob"}, {"receipts", {receipt("m", "read", "bob@b", "alice", 0, nullptr)}}},
        Json{{"receipts", Json::array()}}}) {
    const auto r = h.post("/receipts", body);
    EXPECT_EQ(r.status, 400) << body.dump() << " -> " << r.body.dump();
  }
  // A receipt about another alias than the poster's.
  const auto r = h.post(
      "/receipts",
      {{"alias", "bob"}, {"receipts", {receipt("m", "read", "carol@b", "alice", 1, nullptr)}}});
  EXPECT_EQ(r.status, 403);
}

TEST(RelayReceipts, ProdModeNeedsTheRecipientsSignatureAndTheSendersForFetch) {
  HarnessOptions o;
  o.token = kToken;
  Harness h(o);
  const auto ka = key(1), kb = key(40), kc = key(80);
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "ses-a", &ka).ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "ses-b", &kb).ok());
  ASSERT_TRUE(h.register_alias("carol", "machine-c", "ses-c", &kc).ok());

  const Json good = receipt("m1", "read", "bob@machine-b", "alice", 1000, &kb);
  // Unsigned request: the peer gate refuses it.
  EXPECT_EQ(h.post("/receipts", {{"alias", "bob"}, {"receipts", {good}}}).status, 401);
  // Carol posting bob's receipt, signed as carol.
  auto r = h.signed_post(kc, "carol", "/receipts", {{"alias", "bob"}, {"receipts", {good}}});
  EXPECT_EQ(r.status, 403) << r.body.dump();
  // Bob's request, but the receipt signed by carol's key (or not at all).
  r = h.signed_post(kb, "bob", "/receipts",
                    {{"alias", "bob"},
                     {"receipts", {receipt("m1", "read", "bob@machine-b", "alice", 1000, &kc)}}});
  EXPECT_EQ(r.status, 403) << r.body.dump();
  EXPECT_EQ(r.code(), "signature_invalid");
  r = h.signed_post(
      kb, "bob", "/receipts",
      {{"alias", "bob"},
       {"receipts", {receipt("m1", "read", "bob@machine-b", "alice", 1000, nullptr)}}});
  EXPECT_EQ(r.status, 403) << r.body.dump();
  // The signed one goes through.
  r = h.signed_post(kb, "bob", "/receipts", {{"alias", "bob"}, {"receipts", {good}}});
  ASSERT_TRUE(r.ok()) << r.body.dump();
  EXPECT_EQ(r.body["accepted"], 1);

  // Only alice fetches alice's receipts.
  r = h.signed_post(kc, "carol", "/receipts/fetch", {{"alias", "alice"}});
  EXPECT_EQ(r.status, 403) << r.body.dump();
  r = h.signed_post(ka, "alice", "/receipts/fetch", {{"alias", "alice"}});
  ASSERT_TRUE(r.ok()) << r.body.dump();
  ASSERT_EQ(r.body["receipts"].size(), 1u);
  EXPECT_EQ(r.body["receipts"][0]["sig"], good["sig"]);
}

// A connector that does not say it reads batched receipts never gets one (it could neither read
// nor acknowledge it); the single receipts queued behind them still reach it.
TEST(RelayReceipts, BatchesGoOnlyToRequestersThatReadThem) {
  Harness h;
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "ses-a").ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "ses-b").ok());
  auto r =
      h.post("/receipts",
             {{"alias", "bob"},
              {"receipts",
               {batch({"m1", "m2", "m3"}, "delivered", "bob@machine-b", "alice", 1000, nullptr),
                receipt("m4", "delivered", "bob@machine-b", "alice", 1001, nullptr)}}});
  ASSERT_TRUE(r.ok()) << r.body.dump();
  EXPECT_EQ(r.body["accepted"], 2);

  r = h.post("/receipts/fetch", {{"alias", "alice"}});
  ASSERT_EQ(r.body["receipts"].size(), 1u) << r.body.dump();
  EXPECT_EQ(r.body["receipts"][0]["message_id"], "m4");

  r = h.post("/receipts/fetch", {{"alias", "alice"}, {"receipt_batches", true}});
  ASSERT_EQ(r.body["receipts"].size(), 2u) << r.body.dump();
  EXPECT_EQ(r.body["receipts"][0]["message_ids"], Json({"m1", "m2", "m3"}));
  EXPECT_FALSE(r.body["receipts"][0].contains("message_id"));
  EXPECT_EQ(r.body["receipts"][1]["message_id"], "m4");
  // Acknowledged by its one receipt id, like a single receipt.
  const std::string first = r.body["receipts"][0]["receipt_id"];
  r = h.post("/receipts/fetch", {{"alias", "alice"}, {"ack", {first}}, {"receipt_batches", true}});
  ASSERT_EQ(r.body["receipts"].size(), 1u);
  EXPECT_EQ(r.body["receipts"][0]["message_id"], "m4");
}

// One answer names at most kMaxReceiptIdsPerFetch message ids; the rest come with the next.
TEST(RelayReceipts, AFetchIsBoundedByTheMessageIdsItNames) {
  Harness h;
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "ses-a").ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "ses-b").ok());
  const size_t batches = server::kMaxReceiptIdsPerFetch / protocol::kMaxIdsPerReceipt + 2;
  for (size_t b = 0; b < batches; ++b) {
    ASSERT_TRUE(h.post("/receipts",
                       {{"alias", "bob"},
                        {"receipts",
                         {batch(ids("b" + std::to_string(b) + "-", protocol::kMaxIdsPerReceipt),
                                "read", "bob@machine-b", "alice", 1000, nullptr)}}})
                    .ok());
  }
  auto r = h.post("/receipts/fetch", {{"alias", "alice"}, {"receipt_batches", true}});
  ASSERT_EQ(r.body["receipts"].size(),
            server::kMaxReceiptIdsPerFetch / protocol::kMaxIdsPerReceipt);
  std::vector<std::string> acks;
  for (const auto& x : r.body["receipts"]) acks.push_back(x["receipt_id"]);
  r = h.post("/receipts/fetch", {{"alias", "alice"}, {"ack", acks}, {"receipt_batches", true}});
  EXPECT_EQ(r.body["receipts"].size(), 2u);
}

TEST(RelayReceipts, BadBatchesAreRefused) {
  Harness h;
  Json both = batch({"m1"}, "read", "bob@b", "alice", 1, nullptr);
  both["message_id"] = "m1";
  Json control = batch({"m1",
                        "m\x1f"
                        "2"},
                       "read", "bob@b", "alice", 1, nullptr);
  std::vector<Json> request_too_big;  // 17 x 256 ids > 4096 in one request
  for (size_t b = 0; b < 17; ++b) {
    request_too_big.push_back(
        batch(ids("x" + std::to_string(b) + "-", 256), "read", "bob@b", "alice", 1, nullptr));
  }
  for (const Json& item :
       {both, batch({}, "read", "bob@b", "alice", 1, nullptr), control,
        batch(ids("m", protocol::kMaxIdsPerReceipt + 1), "read", "bob@b", "alice", 1, nullptr),
        batch({"m1", ""}, "read", "bob@b", "alice", 1, nullptr)}) {
    const auto r = h.post("/receipts", {{"alias", "bob"}, {"receipts", {item}}});
    EXPECT_EQ(r.status, 400) << item.dump() << " -> " << r.body.dump();
    EXPECT_EQ(r.code(), "bad_request");
  }
  const auto r = h.post("/receipts", {{"alias", "bob"}, {"receipts", request_too_big}});
  EXPECT_EQ(r.status, 400) << r.body.dump();
  EXPECT_NE(r.body.dump().find("4096"), std::string::npos) << r.body.dump();
}

// Prod mode: one signature covers the whole list; a relay (or anyone) that changes the list
// breaks it.
TEST(RelayReceipts, ProdModeChecksABatchsOneSignature) {
  HarnessOptions o;
  o.token = kToken;
  Harness h(o);
  const auto ka = key(1), kb = key(40);
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "ses-a", &ka).ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "ses-b", &kb).ok());
  Json good = batch({"m1", "m2", "m3"}, "delivered", "bob@machine-b", "alice", 1000, &kb);
  Json cut = good;
  cut["message_ids"] = Json({"m1", "m2"});
  Json other = good;
  other["message_ids"] = Json({"m1", "m2", "m9"});
  for (const Json& bad : {cut, other}) {
    const auto r = h.signed_post(kb, "bob", "/receipts", {{"alias", "bob"}, {"receipts", {bad}}});
    EXPECT_EQ(r.status, 403) << bad.dump() << " -> " << r.body.dump();
    EXPECT_EQ(r.code(), "signature_invalid");
  }
  // A single receipt's signature does not pass for a batch of one (another context).
  Json one = batch({"m1"}, "read", "bob@machine-b", "alice", 1000, nullptr);
  one["sig"] = receipt("m1", "read", "bob@machine-b", "alice", 1000, &kb)["sig"];
  EXPECT_EQ(h.signed_post(kb, "bob", "/receipts", {{"alias", "bob"}, {"receipts", {one}}}).status,
            403);
  const auto r = h.signed_post(kb, "bob", "/receipts", {{"alias", "bob"}, {"receipts", {good}}});
  ASSERT_TRUE(r.ok()) << r.body.dump();
  const auto f = h.signed_post(ka, "alice", "/receipts/fetch",
                               {{"alias", "alice"}, {"receipt_batches", true}});
  ASSERT_EQ(f.body["receipts"].size(), 1u) << f.body.dump();
  EXPECT_EQ(f.body["receipts"][0]["sig"], good["sig"]);
}

TEST(RelayReceipts, GcDropsTheReceiptsOfAnExpiredSender) {
  Harness h;
  ASSERT_TRUE(
      h.post("/register",
             {{"node_id", "machine-a"}, {"session_id", "ses-a"}, {"alias", "alice"}, {"ttl", 10}})
          .ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "ses-b").ok());
  ASSERT_TRUE(
      h.post("/receipts",
             {{"alias", "bob"},
              {"receipts", {receipt("m1", "read", "bob@machine-b", "alice", 1000, nullptr)}}})
          .ok());
  // While alice's lease lives, GC keeps them.
  ASSERT_TRUE(h.post("/gc", Json::object()).ok());
  EXPECT_EQ(h.post("/receipts/fetch", {{"alias", "alice"}}).body["receipts"].size(), 1u);
  h.clock.advance(3600);
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "ses-b").ok());  // bob stays alive
  ASSERT_TRUE(h.post("/gc", Json::object()).ok());
  EXPECT_TRUE(h.post("/receipts/fetch", {{"alias", "alice"}}).body["receipts"].empty());
}

}  // namespace
}  // namespace c2c::relay::testing
