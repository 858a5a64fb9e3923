// sweep.
#include "mcp_fixture.hpp"

namespace c2c::mcp::test {
namespace {

TEST(MaintenanceTools, SweepDropsDeadRegistrationsAndKeepsTheirMessages) {
  c2c::test::TempDir dir("c2c-mcp-sweep");
  Agent a(dir.path(), std::optional<std::string>("ses-a"));
  a.register_as("alice");
  auto& broker = a.broker();
  // dave is alive long enough to get a message and join a room, then his process is gone.
  ASSERT_TRUE(broker.register_session({"ses-d", "dave", ::getpid(), "", "", true}));
  ASSERT_TRUE(broker.join_room("lounge", "dave", "ses-d", 0));
  a.ok("send", {{"to_alias", "dave"}, {"content", "for dave"}});
  ASSERT_TRUE(broker.register_session({"ses-d", "dave", kDeadPid, "", "", false}));

  const json r = a.ok("sweep");
  ASSERT_EQ(r["dropped_regs"].size(), 1u);
  EXPECT_EQ(r["dropped_regs"][0]["session_id"], "ses-d");
  EXPECT_EQ(r["dropped_regs"][0]["alias"], "dave");
  EXPECT_EQ(r["deleted_inboxes"], json({"ses-d"}));
  EXPECT_GE(r["preserved_messages"].get<int>(), 1);  // the DM (+ the join notice)
  EXPECT_EQ(r["evicted_room_members"], json({{{"room_id", "lounge"}, {"alias", "dave"}}}));

  const json list = a.ok("list");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["alias"], "alice");
  auto dead = broker.dead_letters();
  ASSERT_TRUE(dead);
  bool kept = false;
  for (const auto& d : *dead) kept = kept || d.message.content == "for dave";
  EXPECT_TRUE(kept);

  const json again = a.ok("sweep");
  EXPECT_EQ(again["dropped_regs"], json::array());
  EXPECT_EQ(again["preserved_messages"], 0);
}

}  // namespace
}  // namespace c2c::mcp::test
