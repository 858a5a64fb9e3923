// Inbox reads come in pages (docs/relay-server.md, "Inbox pages").
#include "support/relay_harness.hpp"

namespace c2c::relay::testing {
namespace {

TEST(RelayInboxPages, InboxReadsArePagedAndAnOldClientStillGetsEverything) {
  HarnessOptions o;
  o.config.inbox_page = {3, 1 << 20};
  Harness h(o);
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(h.post("/send", send_body("alice", "bob", "m" + std::to_string(i))).ok());
  }
  auto peek = h.post("/peek_inbox", session("nb", "sb"));
  EXPECT_EQ(contents(peek.body["messages"]), (std::vector<std::string>{"m0", "m1", "m2"}));
  EXPECT_EQ(peek.body["more"], true);
  // An old client drains without ids and ignores "more": it gets the rest on later polls.
  std::vector<std::string> got;
  for (int round = 0; round < 3; ++round) {
    auto polled = h.post("/poll_inbox", session("nb", "sb"));
    ASSERT_TRUE(polled.ok()) << polled.raw.body;
    for (const auto& c : contents(polled.body["messages"])) got.push_back(c);
    EXPECT_EQ(polled.body.value("more", false), round < 2) << round;
  }
  EXPECT_EQ(got, (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4", "m5", "m6"}));
  auto last = h.post("/peek_inbox", session("nb", "sb"));
  EXPECT_TRUE(last.body["messages"].empty());
  EXPECT_FALSE(last.body.contains("more"));
  // An acknowledgement lists at most one page of ids.
  Json ack = session("nb", "sb");
  ack["message_ids"] = {"a", "b", "c", "d"};
  auto too_many = h.post("/poll_inbox", ack);
  EXPECT_EQ(too_many.status, 400) << too_many.raw.body;
}

TEST(RelayInboxPages, AnInboxPageStaysWithinItsByteBudgetButNeverComesBackEmpty) {
  HarnessOptions o;
  o.config.inbox_page = {100, 64 * 1024};
  Harness h(o);
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  const std::string big(200 * 1024, 'b');
  const std::string small(20 * 1024, 's');
  ASSERT_TRUE(h.post("/send", send_body("alice", "bob", big)).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(h.post("/send", send_body("alice", "bob", small)).ok());
  auto first = h.post("/peek_inbox", session("nb", "sb"));
  ASSERT_EQ(first.body["messages"].size(), 1u) << "the oversized message alone";
  EXPECT_EQ(first.body["messages"][0]["content"].get<std::string>().size(), big.size());
  EXPECT_EQ(first.body["more"], true);
  ASSERT_TRUE(
      h.post("/poll_inbox", with(session("nb", "sb"),
                                 {{"message_ids", {first.body["messages"][0]["message_id"]}}}))
          .ok());
  auto second = h.post("/peek_inbox", session("nb", "sb"));
  EXPECT_EQ(second.body["messages"].size(), 3u) << "3 x 20 KiB fit in 64 KiB, 4 do not";
  EXPECT_LE(second.raw.body.size(), 64u * 1024 + 2048);
}

}  // namespace
}  // namespace c2c::relay::testing
