// CLI transcripts of the room commands: rooms/room join|leave|send|list|history|members|
// invite|visibility and my-rooms.
#include "broker_cli_fixture.hpp"

namespace c2c::test {
namespace {

TEST_F(BrokerCli, RoomsTranscript) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  EXPECT_EQ(c2c({"rooms"}).out, "No rooms.\n");

  auto join = c2c({"rooms", "join", "lounge"}, {{"C2C_MCP_SESSION_ID", "ses-a"}});
  ASSERT_EQ(join.exit_code, 0) << join.err;
  EXPECT_TRUE(
      has(join.out, "Joined room lounge (1 members)\n  - alice\nRecent history (1 msgs):\n"))
      << join.out;
  EXPECT_TRUE(has(join.out, "] c2c-system alice joined room lounge\n")) << join.out;

  auto jj = json_of(c2c({"room", "join", "lounge", "--json", "-s", "ses-b"}));
  EXPECT_EQ(jj["room_id"], "lounge");
  ASSERT_EQ(jj["members"].size(), 2u);
  EXPECT_EQ(jj["members"][1]["alias"], "bob");
  EXPECT_EQ(jj["joined_now"], true);
  EXPECT_EQ(jj["history"].back()["content"], "bob joined room lounge");

  auto send = c2c({"rooms", "send", "lounge", "hello", "room", "--from", "alice"});
  ASSERT_EQ(send.exit_code, 0) << send.err;
  EXPECT_EQ(send.out, "Sent to room lounge (1 delivered, 0 skipped)\n");
  auto inbox = json_of(c2c({"peek-inbox", "-s", "ses-b", "--json"}));
  EXPECT_EQ(inbox.back()["to_alias"], "bob#lounge");
  EXPECT_EQ(inbox.back()["content"], "hello room");
  auto sj = json_of(
      c2c({"room", "send", "lounge", "again", "--json"}, {{"C2C_MCP_SESSION_ID", "ses-b"}}));
  EXPECT_EQ(sj["delivered_to"], nlohmann::json{"alice"});
  EXPECT_EQ(sj["skipped"], nlohmann::json::array());

  auto list = c2c({"rooms", "list"});
  EXPECT_EQ(list.out, "lounge (2 members, 2 alive)\n");
  auto lj = json_of(c2c({"rooms", "--json"}));
  ASSERT_EQ(lj.size(), 1u);
  EXPECT_EQ(lj[0]["member_count"], 2);
  EXPECT_EQ(lj[0]["visibility"], "public");

  auto hist = c2c({"rooms", "history", "lounge", "--limit", "2"});
  ASSERT_EQ(hist.exit_code, 0) << hist.err;
  EXPECT_TRUE(has(hist.out, "] alice hello room\n")) << hist.out;
  EXPECT_TRUE(has(hist.out, "] bob again\n")) << hist.out;
  EXPECT_FALSE(has(hist.out, "joined")) << hist.out;
  auto hj = json_of(c2c({"rooms", "history", "lounge", "--json", "--since", "1h"}));
  EXPECT_EQ(hj.size(), 4u);
  EXPECT_EQ(
      json_of(c2c({"rooms", "history", "lounge", "--json", "--since", "2999-01-01T00:00:00Z"})),
      nlohmann::json::array());
  auto bad_since = c2c({"rooms", "history", "lounge", "--since", "yesterday"});
  EXPECT_EQ(bad_since.exit_code, 2);
  expect_one_error_line(bad_since, "invalid --since");

  auto members = c2c({"rooms", "members", "lounge"});
  EXPECT_EQ(members.out, "  alice                alive\n  bob                  alive\n");
  auto mj = json_of(c2c({"rooms", "members", "lounge", "--json"}));
  EXPECT_EQ(mj[0]["session_id"], "ses-a");
  EXPECT_EQ(mj[0]["alive"], true);

  auto mine = c2c({"my-rooms"}, {{"C2C_MCP_SESSION_ID", "ses-b"}});
  EXPECT_EQ(mine.out, "lounge (2 members, 2 alive)\n");

  auto leave = c2c({"rooms", "leave", "lounge", "--alias", "bob"});
  ASSERT_EQ(leave.exit_code, 0) << leave.err;
  EXPECT_EQ(leave.out, "Left room lounge (1 members left)\n");
  EXPECT_EQ(c2c({"my-rooms", "--json", "-s", "ses-b"}).out, "[]\n");
  auto again = c2c({"rooms", "leave", "lounge", "--alias", "bob"});
  EXPECT_EQ(again.exit_code, 1);
  expect_one_error_line(again, "'bob' is not a member of room 'lounge'");
}

TEST_F(BrokerCli, InviteOnlyRoomTranscript) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  ASSERT_EQ(c2c({"rooms", "join", "secret", "-s", "ses-a"}).exit_code, 0);
  auto vis = c2c({"rooms", "visibility", "secret", "--set", "invite_only", "--alias", "alice"});
  ASSERT_EQ(vis.exit_code, 0) << vis.err;
  EXPECT_EQ(vis.out, "Room secret is invite_only\n");
  EXPECT_EQ(json_of(c2c({"rooms", "visibility", "secret", "--json"}))["visibility"], "invite_only");
  EXPECT_EQ(c2c({"rooms", "list"}).out, "secret (1 members, 1 alive) [invite-only]\n");
  auto bad_vis = c2c({"rooms", "visibility", "secret", "--set", "hidden"});
  EXPECT_EQ(bad_vis.exit_code, 2);

  auto denied = c2c({"rooms", "join", "secret", "-s", "ses-b"});
  EXPECT_EQ(denied.exit_code, 1);
  expect_one_error_line(denied, "room 'secret' is invite-only and 'bob' is not on the invite list");
  auto not_member = c2c({"rooms", "invite", "secret", "carol", "--alias", "bob"});
  EXPECT_EQ(not_member.exit_code, 1);
  expect_one_error_line(not_member, "only members can invite");

  auto inv = c2c({"rooms", "invite", "secret", "bob", "--alias", "alice"});
  ASSERT_EQ(inv.exit_code, 0) << inv.err;
  EXPECT_EQ(inv.out, "Invited bob to room secret\n");
  auto dm = c2c({"poll-inbox", "-s", "ses-b"});
  EXPECT_TRUE(has(dm.out, "[alice] <c2c event=\"room-invite\" from=\"alice\" room=\"secret\">"))
      << dm.out;
  auto ij = json_of(c2c({"rooms", "invite", "secret", "bob", "--alias", "alice", "--json"}));
  EXPECT_EQ(ij, (nlohmann::json{{"ok", true}, {"room_id", "secret"}, {"invitee_alias", "bob"}}));
  EXPECT_EQ(c2c({"rooms", "join", "secret", "-s", "ses-b"}).exit_code, 0);
}

TEST_F(BrokerCli, RoomErrors) {
  reg("alice", "ses-a");
  auto bad = c2c({"rooms", "join", "no.dots", "-s", "ses-a"});
  EXPECT_EQ(bad.exit_code, 1);
  expect_one_error_line(bad, "invalid room_id");
  auto no_session = c2c({"rooms", "join", "r"});
  EXPECT_EQ(no_session.exit_code, 1);
  expect_one_error_line(no_session, "cannot determine session ID");
  auto missing = c2c({"rooms", "send", "ghost-town", "hi", "--from", "alice"});
  EXPECT_EQ(missing.exit_code, 1);
  expect_one_error_line(missing, "no such room 'ghost-town'");
  auto members = c2c({"rooms", "members", "ghost-town"});
  EXPECT_EQ(members.exit_code, 1);
  auto usage = c2c({"rooms", "send"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(c2c({"rooms", "history", "ghost-town"}).out, "(no messages)\n");
}

}  // namespace
}  // namespace c2c::test
