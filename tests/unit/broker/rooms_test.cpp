#include <nlohmann/json.hpp>

#include "broker_fixture.hpp"

namespace c2c::broker {
namespace {

using test_support::BrokerTest;
using test_support::kDeadPid;
namespace fs = std::filesystem;

class RoomsTest : public BrokerTest {
 protected:
  void SetUp() override {
    reg("alice", "ses-a");
    reg("bob", "ses-b");
    reg("carol", "ses-c");
  }
};

TEST_F(RoomsTest, JoinCreatesRoomPostsNoticeAndReturnsHistory) {
  auto a = broker_.join_room("lounge", "alice", "ses-a");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_TRUE(a->joined_now);
  ASSERT_EQ(a->members.size(), 1u);
  auto b = broker_.join_room("lounge", "bob", "ses-b");
  ASSERT_TRUE(b.has_value());
  ASSERT_EQ(b->members.size(), 2u);
  ASSERT_EQ(b->history.size(), 2u);
  EXPECT_EQ(b->history[1].from_alias, "c2c-system");
  EXPECT_EQ(b->history[1].content, "bob joined room lounge");
  // Alice got both notices, addressed to her room alias.
  auto msgs = poll("ses-a");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[1].content, "bob joined room lounge");
  EXPECT_EQ(msgs[1].to_alias, "alice#lounge");
  EXPECT_TRUE(msgs[1].message_id.has_value());
  // Joining again is a no-op: no new notice.
  auto again = broker_.join_room("lounge", "bob", "ses-b");
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->joined_now);
  EXPECT_EQ(again->members.size(), 2u);
  EXPECT_TRUE(poll("ses-a").empty());
  auto meta = nlohmann::json::parse(c2c::test::read_file(root() / "rooms/lounge/meta.json"));
  EXPECT_EQ(meta["created_by"], "alice");
  EXPECT_EQ(meta["visibility"], "public");
}

TEST_F(RoomsTest, RejoinUnderNewSessionReplacesTheRowInPlace) {
  ASSERT_TRUE(broker_.join_room("r1", "alice", "ses-a").has_value());
  ASSERT_TRUE(broker_.join_room("r1", "bob", "ses-b").has_value());
  reg("alice", "ses-a2", ::getpid(), false);
  auto j = broker_.join_room("r1", "alice", "ses-a2");
  ASSERT_TRUE(j.has_value());
  ASSERT_EQ(j->members.size(), 2u);
  EXPECT_EQ(j->members[0].alias, "alice");
  EXPECT_EQ(j->members[0].session_id, "ses-a2");
}

TEST_F(RoomsTest, SendFansOutToOtherMembersWithTagAndDedupsRetries) {
  ASSERT_TRUE(broker_.join_room("dev", "alice", "ses-a").has_value());
  ASSERT_TRUE(broker_.join_room("dev", "bob", "ses-b").has_value());
  ASSERT_TRUE(broker_.join_room("dev", "carol", "ses-c").has_value());
  poll("ses-a");
  poll("ses-b");
  poll("ses-c");
  SendOptions blocking;
  blocking.tag = "blocking";
  auto r = broker_.send_room("dev", "alice", "build is red", blocking);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->delivered_to, (std::vector<std::string>{"bob", "carol"}));
  EXPECT_TRUE(r->skipped.empty());
  EXPECT_TRUE(poll("ses-a").empty());
  auto bob = poll("ses-b");
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(bob[0].to_alias, "bob#dev");
  EXPECT_EQ(bob[0].content, "\xE2\x9B\x94 BLOCKING: build is red");
  // History keeps the bare body.
  auto hist = broker_.room_history("dev", 1, std::nullopt, "");
  ASSERT_EQ(hist->size(), 1u);
  EXPECT_EQ((*hist)[0].content, "build is red");
  // The same body again within a minute is treated as a retry.
  clock_.advance(10);
  auto dup = broker_.send_room("dev", "alice", "build is red");
  ASSERT_TRUE(dup.has_value());
  EXPECT_TRUE(dup->delivered_to.empty());
  EXPECT_TRUE(poll("ses-b").empty());
  clock_.advance(61);
  auto later = broker_.send_room("dev", "alice", "build is red");
  EXPECT_EQ(later->delivered_to.size(), 2u);
}

TEST_F(RoomsTest, DeadMembersAreSkipped) {
  reg("ghost", "ses-g", std::nullopt);
  ASSERT_TRUE(broker_.join_room("r", "alice", "ses-a").has_value());
  ASSERT_TRUE(broker_.join_room("r", "ghost", "ses-g").has_value());
  reg("ghost", "ses-g", kDeadPid);
  auto r = broker_.send_room("r", "alice", "anyone?");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->delivered_to.empty());
  EXPECT_EQ(r->skipped, std::vector<std::string>{"ghost"});
  auto info = broker_.room("r");
  ASSERT_TRUE(info.has_value() && info->has_value());
  EXPECT_EQ((*info)->member_liveness, (std::vector<Liveness>{Liveness::kAlive, Liveness::kDead}));
}

TEST_F(RoomsTest, LeavePostsNoticeAndNonMembersGetErrors) {
  ASSERT_TRUE(broker_.join_room("r", "alice", "ses-a").has_value());
  ASSERT_TRUE(broker_.join_room("r", "bob", "ses-b").has_value());
  poll("ses-a");
  auto left = broker_.leave_room("r", "BOB");
  ASSERT_TRUE(left.has_value()) << left.error().message;
  ASSERT_EQ(left->size(), 1u);
  auto msgs = poll("ses-a");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].content, "BOB left room r");
  EXPECT_EQ(broker_.leave_room("r", "bob").error().code, ErrorCode::kNotAMember);
  EXPECT_EQ(broker_.leave_room("nope", "bob").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(broker_.send_room("nope", "bob", "x").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(broker_.join_room("bad.id", "bob", "ses-b").error().code, ErrorCode::kInvalidRoom);
  EXPECT_EQ(broker_.join_room("../x", "bob", "ses-b").error().code, ErrorCode::kInvalidRoom);
  EXPECT_FALSE(fs::exists(root() / "rooms" / "nope"));
}

TEST_F(RoomsTest, InviteOnlyRoomsEnforceTheInviteList) {
  ASSERT_TRUE(broker_.join_room("secret", "alice", "ses-a").has_value());
  EXPECT_EQ(broker_.set_visibility("secret", "bob", "invite_only").error().code,
            ErrorCode::kNotAMember);
  EXPECT_EQ(broker_.set_visibility("secret", "alice", "hidden").error().code,
            ErrorCode::kBadRequest);
  ASSERT_TRUE(broker_.set_visibility("secret", "alice", "invite_only").has_value());
  auto rejected = broker_.join_room("secret", "bob", "ses-b");
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(rejected.error().code, ErrorCode::kNotInvited);
  EXPECT_NE(rejected.error().message.find("invite-only"), std::string::npos);
  EXPECT_EQ(broker_.send_room("secret", "bob", "let me in").error().code, ErrorCode::kNotAMember);
  EXPECT_EQ(broker_.room_history("secret", 0, std::nullopt, "bob").error().code,
            ErrorCode::kNotAMember);
  EXPECT_TRUE(broker_.room_history("secret", 0, std::nullopt, "").has_value());  // operator view

  EXPECT_EQ(broker_.invite("secret", "bob", "carol").error().code, ErrorCode::kNotAMember);
  poll("ses-b");
  ASSERT_TRUE(broker_.invite("secret", "alice", "bob").has_value());
  auto dm = poll("ses-b");
  ASSERT_EQ(dm.size(), 1u);
  EXPECT_NE(dm[0].content.find("event=\"room-invite\""), std::string::npos);
  auto joined = broker_.join_room("secret", "Bob", "ses-b");
  ASSERT_TRUE(joined.has_value()) << joined.error().message;
  EXPECT_EQ(joined->members.size(), 2u);
  auto info = broker_.room("secret");
  EXPECT_EQ((*info)->meta.invited_members, std::vector<std::string>{"bob"});
  EXPECT_EQ((*info)->meta.visibility, "invite_only");
}

TEST_F(RoomsTest, HistoryLimitAndSince) {
  ASSERT_TRUE(broker_.join_room("h", "alice", "ses-a").has_value());
  const double t0 = clock_.now();
  for (int i = 0; i < 5; ++i) {
    clock_.advance(100);
    ASSERT_TRUE(broker_.send_room("h", "alice", "msg" + std::to_string(i)).has_value());
  }
  auto all = broker_.room_history("h", 0, std::nullopt, "");
  ASSERT_EQ(all->size(), 6u);  // join notice + 5
  auto last2 = broker_.room_history("h", 2, std::nullopt, "");
  ASSERT_EQ(last2->size(), 2u);
  EXPECT_EQ((*last2)[0].content, "msg3");
  EXPECT_EQ((*last2)[1].content, "msg4");
  auto since = broker_.room_history("h", 0, t0 + 300, "");
  ASSERT_EQ(since->size(), 3u);
  EXPECT_EQ((*since)[0].content, "msg2");
  auto missing = broker_.room_history("none", 0, std::nullopt, "");
  ASSERT_TRUE(missing.has_value());
  EXPECT_TRUE(missing->empty());
}

TEST_F(RoomsTest, ListRoomsSortedWithMembers) {
  ASSERT_TRUE(broker_.join_room("zeta", "alice", "ses-a").has_value());
  ASSERT_TRUE(broker_.join_room("alpha", "bob", "ses-b").has_value());
  ASSERT_TRUE(broker_.join_room("alpha", "carol", "ses-c").has_value());
  auto rooms = broker_.list_rooms();
  ASSERT_TRUE(rooms.has_value());
  ASSERT_EQ(rooms->size(), 2u);
  EXPECT_EQ((*rooms)[0].room_id, "alpha");
  EXPECT_EQ((*rooms)[0].members.size(), 2u);
  EXPECT_EQ((*rooms)[1].room_id, "zeta");
}

TEST_F(RoomsTest, ReservedAliasCannotPostOrJoin) {
  ASSERT_TRUE(broker_.join_room("r", "alice", "ses-a").has_value());
  EXPECT_EQ(broker_.send_room("r", "c2c-system", "spoof").error().code, ErrorCode::kReservedAlias);
  EXPECT_EQ(broker_.join_room("r", "c2c", "ses-x").error().code, ErrorCode::kReservedAlias);
}

}  // namespace
}  // namespace c2c::broker
