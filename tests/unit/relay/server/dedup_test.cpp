// The dedup window is keyed by (sender, message_id): docs/security.md, finding 8.7.
#include "support/relay_harness.hpp"

namespace c2c::relay::testing {
namespace {

TEST(RelayDedup, AnotherSendersMessageIdDoesNotSuppressARealMessage) {
  Harness h;
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  // mallory learns (or guesses) the id alice is about to use and sends first.
  auto squat = h.post("/send", send_body("mallory", "bob", "fake", "m-1"));
  ASSERT_TRUE(squat.ok()) << squat.raw.body;
  auto real = h.post("/send", send_body("alice", "bob", "real", "m-1"));
  ASSERT_TRUE(real.ok()) << real.raw.body;
  EXPECT_EQ(real.body["result"], "ok") << "not a duplicate: another sender used the id";
  // alice's own retry is still a duplicate, whatever the case of her alias.
  EXPECT_EQ(h.post("/send", send_body("ALICE", "bob", "real", "m-1")).body["result"], "duplicate");
  EXPECT_EQ(contents(h.post("/peek_inbox", session("nb", "sb")).body["messages"]),
            (std::vector<std::string>{"fake", "real"}));
}

TEST(RelayDedup, FanOutDedupIsPerSenderToo) {
  Harness h;
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(h.register_alias("alice", "na", "sa").ok());
  ASSERT_TRUE(h.register_alias("mallory", "nm", "sm").ok());
  ASSERT_TRUE(h.post("/join_room", {{"alias", "bob"}, {"room_id", "lounge"}}).ok());
  auto fake = h.post("/send_room", {{"from_alias", "mallory"},
                                    {"room_id", "lounge"},
                                    {"content", "fake"},
                                    {"message_id", "r-1"}});
  ASSERT_TRUE(fake.ok()) << fake.raw.body;
  auto real = h.post(
      "/send_room",
      {{"from_alias", "alice"}, {"room_id", "lounge"}, {"content", "real"}, {"message_id", "r-1"}});
  ASSERT_TRUE(real.ok()) << real.raw.body;
  EXPECT_FALSE(real.body.value("duplicate", false));
  auto retry = h.post(
      "/send_room",
      {{"from_alias", "alice"}, {"room_id", "lounge"}, {"content", "real"}, {"message_id", "r-1"}});
  EXPECT_TRUE(retry.body.value("duplicate", false)) << "alice's own retry";
  ASSERT_TRUE(
      h.post("/send_all", {{"from_alias", "mallory"}, {"content", "fake"}, {"message_id", "a-1"}})
          .ok());
  auto all =
      h.post("/send_all", {{"from_alias", "alice"}, {"content", "to all"}, {"message_id", "a-1"}});
  ASSERT_TRUE(all.ok()) << all.raw.body;
  EXPECT_FALSE(all.body.value("duplicate", false));
  auto again =
      h.post("/send_all", {{"from_alias", "alice"}, {"content", "to all"}, {"message_id", "a-1"}});
  EXPECT_TRUE(again.body.value("duplicate", false));
}

}  // namespace
}  // namespace c2c::relay::testing
