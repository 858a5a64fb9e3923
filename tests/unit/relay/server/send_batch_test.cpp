// POST /send_batch (docs/relay-server.md, "Batched sends"): /send's rules for every message, in
// request order, as one write, one outcome per message; on the memory and SQLite backends.
#include <gtest/gtest.h>

#include "support/relay_harness.hpp"
#include "support/temp_dir.hpp"

namespace c2c::relay::testing {
namespace {

Json item(const std::string& to, const std::string& content, const std::string& id = "") {
  Json m = {{"to_alias", to}, {"content", content}};
  if (!id.empty()) m["message_id"] = id;
  return m;
}

Json batch(const std::string& from, Json messages) {
  return {{"from_alias", from}, {"messages", std::move(messages)}};
}

class RelaySendBatch : public ::testing::TestWithParam<std::string> {
 protected:
  HarnessOptions options(std::string token = "") {
    HarnessOptions o;
    o.token = std::move(token);
    if (GetParam() == "sqlite") o.store_url = "sqlite:" + (dir_ / "relay.db").string();
    return o;
  }
  test::TempDir dir_;
};

TEST_P(RelaySendBatch, AppliesInOrderAndAnswersEachMessageInRequestOrder) {
  Harness h(options());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(h.register_alias("carol", "nc", "sc").ok());
  auto r = h.post(
      "/send_batch",
      batch("alice", {item("bob", "b1", "m-1"), item("carol", "c1", "m-2"),
                      item("bob", "b2", "m-3"), item("BOB", "b3", "m-4"), item("carol@nc", "c2")}));
  ASSERT_EQ(r.status, 200) << r.raw.body;
  ASSERT_TRUE(r.ok()) << r.raw.body;
  const auto& results = r.body["results"];
  ASSERT_EQ(results.size(), 5u) << r.raw.body;
  const std::vector<std::string> ids = {"m-1", "m-2", "m-3", "m-4"};
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(results[i]["message_id"], ids[i]);
    EXPECT_EQ(results[i]["ok"], true);
    EXPECT_EQ(results[i]["result"], "ok");
  }
  EXPECT_FALSE(results[4]["message_id"].get<std::string>().empty()) << "the relay minted an id";
  EXPECT_EQ(contents(h.post("/peek_inbox", session("nb", "sb")).body["messages"]),
            (std::vector<std::string>{"b1", "b2", "b3"}));
  EXPECT_EQ(contents(h.post("/peek_inbox", session("nc", "sc")).body["messages"]),
            (std::vector<std::string>{"c1", "c2"}));
}

TEST_P(RelaySendBatch, ResendingTheSameBatchDeliversNothingTwice) {
  Harness h(options());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  const Json body = batch("alice", {item("bob", "one", "m-1"), item("bob", "two", "m-2"),
                                    item("bob", "one again in the same batch", "m-1")});
  auto first = h.post("/send_batch", body);
  ASSERT_TRUE(first.ok()) << first.raw.body;
  EXPECT_EQ(first.body["results"][0]["result"], "ok");
  EXPECT_EQ(first.body["results"][1]["result"], "ok");
  EXPECT_EQ(first.body["results"][2]["result"], "duplicate") << "an id earlier in the batch";
  // The answer was lost; the connector sends the same batch again.
  auto again = h.post("/send_batch", body);
  ASSERT_TRUE(again.ok()) << again.raw.body;
  for (const auto& result : again.body["results"]) {
    EXPECT_EQ(result["ok"], true);
    EXPECT_EQ(result["duplicate"], true) << again.raw.body;
  }
  // A single /send retry of one of them is a duplicate too: one dedup window for both routes.
  EXPECT_EQ(h.post("/send", send_body("alice", "bob", "two", "m-2")).body["result"], "duplicate");
  EXPECT_EQ(contents(h.post("/peek_inbox", session("nb", "sb")).body["messages"]),
            (std::vector<std::string>{"one", "two"}));
}

TEST_P(RelaySendBatch, ARefusedMessageGetsItsOwnErrorAndTheOthersAreDelivered) {
  Harness h(options());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(h.post("/register",
                     {{"alias", "carol"}, {"node_id", "nc"}, {"session_id", "sc"}, {"ttl", 10}})
                  .ok());
  h.clock.advance(60);  // carol's lease expires
  ASSERT_TRUE(h.post("/heartbeat", session("nb", "sb")).ok());
  auto r = h.post("/send_batch",
                  batch("alice", {item("bob", "first", "m-1"), item("nobody", "lost", "m-2"),
                                  item("carol", "late", "m-3"), item("bob@elsewhere", "far", "m-4"),
                                  item("bob", std::string(kMaxContentBytes + 1, 'x'), "m-5"),
                                  Json{{"to_alias", "bob"}, {"message_id", "m-6"}},
                                  Json("not an object"), item("bob", "last", "m-7")}));
  ASSERT_EQ(r.status, 200) << r.raw.body;
  const auto& results = r.body["results"];
  ASSERT_EQ(results.size(), 8u) << r.raw.body;
  auto code = [&](size_t i) { return results[i].value("error_code", std::string()); };
  EXPECT_EQ(results[0]["ok"], true);
  EXPECT_EQ(code(1), "unknown_alias");
  EXPECT_EQ(code(2), "recipient_dead");
  EXPECT_EQ(code(3), "unknown_host");
  EXPECT_EQ(code(4), "bad_request");
  EXPECT_EQ(code(5), "bad_request");
  EXPECT_EQ(results[5]["message_id"], "m-6");
  EXPECT_EQ(results[5]["error"], "to_alias and content are required");
  EXPECT_EQ(code(6), "bad_request");
  EXPECT_EQ(results[7]["ok"], true);
  for (size_t i = 1; i <= 6; ++i) {
    EXPECT_EQ(results[i]["ok"], false);
    EXPECT_FALSE(results[i].value("error", std::string()).empty()) << i;
  }
  EXPECT_EQ(contents(h.post("/peek_inbox", session("nb", "sb")).body["messages"]),
            (std::vector<std::string>{"first", "last"}));
  // The refused recipients' messages are dead letters, as a /send's would be.
  const auto dead = h.call("GET", "/dead_letter").body["dead_letter"];
  std::vector<std::string> reasons;
  for (const auto& d : dead) reasons.push_back(d["reason"]);
  EXPECT_EQ(reasons, (std::vector<std::string>{"unknown_alias", "recipient_dead", "unknown_host"}))
      << dead.dump();
}

TEST_P(RelaySendBatch, TooManyMessagesOrABadBodyIsAClear400) {
  Harness h(options());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  Json many = Json::array();
  for (size_t i = 0; i <= protocol::kMaxBatchMessages; ++i) {
    many.push_back(item("bob", "m", "m-" + std::to_string(i)));
  }
  auto r = h.post("/send_batch", batch("alice", many));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "bad_request");
  EXPECT_EQ(r.body["error"], "messages lists 257 messages; at most 256 per /send_batch");
  many.erase(many.size() - 1);
  EXPECT_TRUE(h.post("/send_batch", batch("alice", many)).ok()) << "256 is allowed";
  for (const auto& bad : {Json{{"messages", Json::array()}}, Json{{"from_alias", "alice"}},
                          Json{{"from_alias", "alice"}, {"messages", "x"}}}) {
    auto b = h.post("/send_batch", bad);
    EXPECT_EQ(b.status, 400) << bad.dump();
    EXPECT_EQ(b.code(), "bad_request") << bad.dump();
  }
  auto reserved = h.post("/send_batch", batch("c2c-system", {item("bob", "x")}));
  EXPECT_EQ(reserved.status, 400);
  EXPECT_EQ(reserved.code(), "invalid_alias");
  auto page = h.post("/peek_inbox", session("nb", "sb")).body;
  EXPECT_EQ(page["messages"].size(), 100u) << "one page";
  EXPECT_EQ(page["more"], true) << "the batch of 256 was delivered, the 257 refused";
}

TEST_P(RelaySendBatch, ProdModeNeedsTheSendersSignature) {
  Harness h(options("secret"));
  const auto alice = key(1);
  const auto bob = key(2);
  ASSERT_TRUE(h.register_alias("alice", "na", "sa", &alice).ok());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb", &bob).ok());
  const Json body = batch("alice", {item("bob", "signed", "m-1")});
  auto unsigned_call = h.post("/send_batch", body);
  EXPECT_EQ(unsigned_call.status, 401);
  EXPECT_EQ(unsigned_call.code(), "unauthorized");
  // bob signs a batch that claims to come from alice.
  auto forged = h.signed_post(bob, "bob", "/send_batch", body);
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(forged.code(), "signature_invalid");
  auto wrong_key = h.signed_post(bob, "alice", "/send_batch", body);
  EXPECT_EQ(wrong_key.status, 401);
  auto good = h.signed_post(alice, "alice", "/send_batch", body);
  ASSERT_TRUE(good.ok()) << good.raw.body;
  EXPECT_EQ(good.body["results"][0]["ok"], true);
  auto inbox = h.signed_post(bob, "bob", "/peek_inbox", session("nb", "sb"));
  EXPECT_EQ(contents(inbox.body["messages"]), (std::vector<std::string>{"signed"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, RelaySendBatch, ::testing::Values("memory", "sqlite"),
                         [](const auto& param) { return param.param; });

}  // namespace
}  // namespace c2c::relay::testing
