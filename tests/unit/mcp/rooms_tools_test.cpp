// join_room, leave_room, send_room, list_rooms, my_rooms, room_history.
#include "mcp_fixture.hpp"

namespace c2c::mcp::test {
namespace {

class RoomsTools : public ::testing::Test {
 protected:
  void SetUp() override {
    a_.register_as("alice");
    b_.register_as("bob");
  }
  // Inbox messages other than c2c-system join/leave notices.
  static json chat(const json& inbox) {
    json out = json::array();
    for (const auto& m : inbox) {
      if (m["from_alias"] != "c2c-system") out.push_back(m);
    }
    return out;
  }
  c2c::test::TempDir dir_{"c2c-mcp-rooms"};
  Agent a_{dir_.path(), std::optional<std::string>("ses-a")};
  Agent b_{dir_.path(), std::optional<std::string>("ses-b")};
};

TEST_F(RoomsTools, JoinReturnsMembersAndRecentHistory) {
  const json first = a_.ok("join_room", {{"room_id", "lounge"}});
  EXPECT_EQ(first["room_id"], "lounge");
  ASSERT_EQ(first["members"].size(), 1u);
  EXPECT_EQ(first["members"][0]["alias"], "alice");
  EXPECT_EQ(first["members"][0]["session_id"], "ses-a");
  EXPECT_TRUE(first["members"][0]["joined_at"].is_number());
  a_.ok("send_room", {{"room_id", "lounge"}, {"content", "hello room"}});

  const json second = b_.ok("join_room", {{"room_id", "lounge"}});
  ASSERT_EQ(second["members"].size(), 2u);
  EXPECT_EQ(second["members"][1]["alias"], "bob");
  bool saw_hello = false;
  for (const auto& h : second["history"]) {
    EXPECT_TRUE(h["ts"].is_number());
    if (h["from_alias"] == "alice" && h["content"] == "hello room") saw_hello = true;
  }
  EXPECT_TRUE(saw_hello) << second.dump();
  EXPECT_EQ(b_.ok("join_room", {{"room_id", "lounge"}, {"history_limit", 0}})["history"],
            json::array());
  EXPECT_LE(b_.ok("join_room", {{"room_id", "lounge"}, {"history_limit", 1}})["history"].size(),
            1u);
}

TEST_F(RoomsTools, SendRoomFansOutToOtherMembers) {
  a_.ok("join_room", {{"room_id", "lounge"}});
  b_.ok("join_room", {{"room_id", "lounge"}});
  ASSERT_TRUE(a_.broker().register_session({"ses-d", "dave", kDeadPid, "", "", false}));
  ASSERT_TRUE(a_.broker().join_room("lounge", "dave", "ses-d", 0));
  b_.ok("poll_inbox");
  const json sent = a_.ok("send_room", {{"room_id", "lounge"}, {"content", "standup in 5"}});
  EXPECT_EQ(sent["delivered_to"], json({"bob"}));
  EXPECT_EQ(sent["skipped"], json({"dave"}));
  EXPECT_TRUE(sent["ts"].is_number());
  const json got = chat(b_.ok("poll_inbox"));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["from_alias"], "alice");
  EXPECT_EQ(got[0]["to_alias"], "bob#lounge");
  EXPECT_EQ(got[0]["content"], "standup in 5");
  EXPECT_EQ(chat(a_.ok("poll_inbox")), json::array());  // the sender gets no copy
}

TEST_F(RoomsTools, RoomHistoryOldestFirstWithLimitAndSince) {
  a_.ok("join_room", {{"room_id", "lounge"}});
  for (const char* c : {"one", "two", "three"}) {
    a_.ok("send_room", {{"room_id", "lounge"}, {"content", c}});
  }
  const json all = b_.ok("room_history", {{"room_id", "lounge"}});
  ASSERT_GE(all.size(), 3u);
  EXPECT_EQ(all[all.size() - 1]["content"], "three");
  EXPECT_EQ(all[all.size() - 3]["content"], "one");
  const json last2 = b_.ok("room_history", {{"room_id", "lounge"}, {"limit", 2}});
  ASSERT_EQ(last2.size(), 2u);
  EXPECT_EQ(last2[0]["content"], "two");
  EXPECT_EQ(b_.ok("room_history", {{"room_id", "lounge"}, {"limit", 0}}).size(), all.size());
  const double t = all[all.size() - 1]["ts"];
  const json since = b_.ok("room_history", {{"room_id", "lounge"}, {"since", t}});
  ASSERT_GE(since.size(), 1u);
  for (const auto& e : since) EXPECT_GE(e["ts"].get<double>(), t);
  EXPECT_EQ(b_.ok("room_history", {{"room_id", "lounge"}, {"since", t + 1e6}}), json::array());
}

TEST_F(RoomsTools, LeaveRoomReturnsRemainingMembers) {
  a_.ok("join_room", {{"room_id", "lounge"}});
  b_.ok("join_room", {{"room_id", "lounge"}});
  const json left = b_.ok("leave_room", {{"room_id", "lounge"}});
  EXPECT_EQ(left["room_id"], "lounge");
  ASSERT_EQ(left["members"].size(), 1u);
  EXPECT_EQ(left["members"][0]["alias"], "alice");
  b_.ok("poll_inbox");
  a_.ok("send_room", {{"room_id", "lounge"}, {"content", "after"}});
  EXPECT_EQ(chat(b_.ok("poll_inbox")), json::array());
  EXPECT_TRUE(b_.call("leave_room", {{"room_id", "lounge"}}).is_error);
}

TEST_F(RoomsTools, ListRoomsAndMyRooms) {
  a_.ok("join_room", {{"room_id", "lounge"}});
  b_.ok("join_room", {{"room_id", "lounge"}});
  a_.ok("join_room", {{"room_id", "ops"}});
  const json rooms = b_.ok("list_rooms");
  ASSERT_EQ(rooms.size(), 2u);
  json lounge;
  for (const auto& r : rooms) {
    if (r["room_id"] == "lounge") lounge = r;
  }
  ASSERT_FALSE(lounge.is_null());
  EXPECT_EQ(lounge["member_count"], 2);
  EXPECT_EQ(lounge["members"], json({"alice", "bob"}));
  EXPECT_EQ(lounge["alive_member_count"], 2);
  EXPECT_EQ(lounge["dead_member_count"], 0);
  EXPECT_EQ(lounge["unknown_member_count"], 0);
  EXPECT_EQ(lounge["visibility"], "public");
  EXPECT_EQ(lounge["invited_members"], json::array());
  ASSERT_EQ(lounge["member_details"].size(), 2u);
  EXPECT_EQ(lounge["member_details"][1]["alias"], "bob");
  EXPECT_EQ(lounge["member_details"][1]["session_id"], "ses-b");
  EXPECT_EQ(lounge["member_details"][1]["alive"], true);

  const json mine = b_.ok("my_rooms");
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0]["room_id"], "lounge");
  EXPECT_EQ(a_.ok("my_rooms").size(), 2u);
}

TEST_F(RoomsTools, InviteOnlyRoomsAreHiddenFromOutsiders) {
  Agent c(dir_.path(), std::optional<std::string>("ses-c"));
  c.register_as("carol");
  a_.ok("join_room", {{"room_id", "secret"}});
  a_.ok("send_room", {{"room_id", "secret"}, {"content", "classified"}});
  ASSERT_TRUE(a_.broker().set_visibility("secret", "alice", "invite_only"));
  ASSERT_TRUE(a_.broker().invite("secret", "alice", "bob"));

  for (const auto& r : c.ok("list_rooms")) EXPECT_NE(r["room_id"], "secret");
  EXPECT_NE(c.err("room_history", {{"room_id", "secret"}}).find("not a member of secret"),
            std::string::npos);
  EXPECT_TRUE(c.call("join_room", {{"room_id", "secret"}}).is_error);

  // The invitee sees the room without its member details, then joins.
  json seen;
  for (const auto& r : b_.ok("list_rooms")) {
    if (r["room_id"] == "secret") seen = r;
  }
  ASSERT_FALSE(seen.is_null());
  EXPECT_EQ(seen["visibility"], "invite_only");
  EXPECT_EQ(seen["members"], json::array());
  EXPECT_EQ(seen["member_count"], 0);
  b_.ok("join_room", {{"room_id", "secret"}});
  EXPECT_GE(b_.ok("room_history", {{"room_id", "secret"}}).size(), 1u);
  EXPECT_EQ(a_.ok("list_rooms")[0]["members"].size(), 2u);
}

TEST_F(RoomsTools, InvalidRoomIdsAndMissingMembers) {
  for (const char* tool : {"join_room", "leave_room", "room_history"}) {
    EXPECT_NE(a_.err(tool, {{"room_id", "bad room!"}}).find("invalid room_id"), std::string::npos)
        << tool;
  }
  EXPECT_NE(a_.err("send_room", {{"room_id", "a.b"}, {"content", "x"}}).find("invalid room_id"),
            std::string::npos);
  Agent u(dir_.path(), std::optional<std::string>("ses-u"));
  EXPECT_EQ(u.err("join_room", {{"room_id", "lounge"}}),
            "join_room: missing member alias. Register this session first (register tool) or "
            "pass alias explicitly.");
  // Joining as a live agent's alias is impersonation.
  EXPECT_NE(u.err("join_room", {{"room_id", "lounge"}, {"alias", "alice"}}).find("rejected"),
            std::string::npos);
  const json joined = u.ok("join_room", {{"room_id", "lounge"}, {"alias", "guest"}});
  EXPECT_EQ(joined["members"][0]["alias"], "guest");
  EXPECT_EQ(joined["members"][0]["session_id"], "ses-u");
}

}  // namespace
}  // namespace c2c::mcp::test
