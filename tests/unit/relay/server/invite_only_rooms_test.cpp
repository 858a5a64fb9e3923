// Invite-only rooms are invisible and closed to non-members on every route: docs/security.md,
// finding 8.1.
#include "support/relay_harness.hpp"

namespace c2c::relay::testing {
namespace {

bool lists_room(const Reply& r, const std::string& room) {
  for (const auto& info : r.body["rooms"]) {
    if (info["room_id"] == room) return true;
  }
  return false;
}

TEST(RelayInviteOnlyRooms, InviteOnlyRoomIsInvisibleAndClosedToNonMembersInProd) {
  Harness h({.token = "tok"});
  const auto ka = key(1), kb = key(2), km = key(3);
  ASSERT_TRUE(h.register_alias("alice", "na", "sa", &ka).ok());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb", &kb).ok());
  ASSERT_TRUE(h.register_alias("mallory", "nm", "sm", &km).ok());
  auto op = [&](const char* path, std::string_view ctx, const crypto::KeyPair& k,
                const std::string& alias, Json extra = Json::object()) {
    return h.post(path,
                  with(with(room_op(alias, "vip"), h.room_proof(ctx, k, "vip", alias)), extra));
  };
  ASSERT_TRUE(op("/join_room", crypto::kCtxRoomJoin, ka, "alice").ok());
  ASSERT_TRUE(op("/set_room_visibility", crypto::kCtxRoomSetVisibility, ka, "alice",
                 {{"visibility", "invite"}})
                  .ok());
  ASSERT_TRUE(h.signed_post(ka, "alice", "/invite_room",
                            {{"alias", "alice"}, {"room_id", "vip"}, {"invitee_pk", pk_of(kb)}})
                  .ok());
  ASSERT_TRUE(op("/join_room", crypto::kCtxRoomJoin, kb, "bob").ok());
  auto said = h.signed_post(ka, "alice", "/send_room",
                            {{"from_alias", "alice"}, {"room_id", "vip"}, {"content", "secret"}});
  ASSERT_TRUE(said.ok()) << said.raw.body;
  ASSERT_EQ(said.body["delivered"], (Json{"bob"}));

  // History: not to the unauthenticated, not to a named-but-unsigned member, not to mallory.
  for (const auto& r : {h.post("/room_history", {{"room_id", "vip"}}),
                        h.post("/room_history", {{"room_id", "vip"}, {"alias", "alice"}}),
                        h.signed_post(km, "mallory", "/room_history", {{"room_id", "vip"}})}) {
    EXPECT_EQ(r.status, 401) << r.raw.body;
    EXPECT_EQ(r.code(), "not_a_member");
    EXPECT_EQ(r.raw.body.find("secret"), std::string::npos);
  }
  auto member = h.signed_post(kb, "bob", "/room_history", {{"room_id", "vip"}});
  ASSERT_TRUE(member.ok()) << member.raw.body;
  EXPECT_EQ(member.body["history"].back()["content"], "secret");

  // Listing: the room and its members are shown only to a signed member.
  EXPECT_FALSE(lists_room(h.call("GET", "/list_rooms"), "vip"));
  EXPECT_FALSE(lists_room(h.call("GET", "/list_rooms?alias=alice"), "vip"));
  EXPECT_FALSE(lists_room(h.signed_get(km, "mallory", "/list_rooms"), "vip"));
  EXPECT_TRUE(lists_room(h.signed_get(kb, "bob", "/list_rooms"), "vip"));
  EXPECT_EQ(h.call("GET", "/").raw.body.find("vip"), std::string::npos) << "status page";

  // Sending: mallory's join is refused, and so is her signed send.
  EXPECT_EQ(op("/join_room", crypto::kCtxRoomJoin, km, "mallory").code(), "not_invited");
  auto intrude = h.signed_post(km, "mallory", "/send_room",
                               {{"from_alias", "mallory"}, {"room_id", "vip"}, {"content", "boo"}});
  EXPECT_EQ(intrude.status, 401) << intrude.raw.body;
  EXPECT_EQ(intrude.code(), "not_a_member");
  auto bob_inbox = h.signed_post(kb, "bob", "/peek_inbox", session("nb", "sb"));
  for (const auto& m : bob_inbox.body["messages"]) EXPECT_NE(m["content"], "boo");
  auto hist = h.signed_post(kb, "bob", "/room_history", {{"room_id", "vip"}});
  EXPECT_NE(hist.body["history"].back()["content"], "boo");
}

TEST(RelayInviteOnlyRooms, InviteOnlyRoomInDevModeTrustsANamedMemberOnly) {
  Harness h;
  ASSERT_TRUE(h.register_alias("alice", "na", "sa").ok());
  ASSERT_TRUE(h.register_alias("mallory", "nm", "sm").ok());
  ASSERT_TRUE(h.post("/join_room", room_op("alice", "vip")).ok());
  ASSERT_TRUE(
      h.post("/set_room_visibility", with(room_op("alice", "vip"), {{"visibility", "invite"}}))
          .ok());
  ASSERT_TRUE(
      h.post("/send_room", {{"from_alias", "alice"}, {"room_id", "vip"}, {"content", "secret"}})
          .ok());
  EXPECT_EQ(h.post("/room_history", {{"room_id", "vip"}}).code(), "not_a_member");
  EXPECT_EQ(h.post("/room_history", {{"room_id", "vip"}, {"alias", "mallory"}}).code(),
            "not_a_member");
  auto named = h.post("/room_history", {{"room_id", "vip"}, {"alias", "ALICE"}});
  ASSERT_TRUE(named.ok()) << named.raw.body;
  EXPECT_EQ(named.body["history"].back()["content"], "secret");
  EXPECT_FALSE(lists_room(h.call("GET", "/list_rooms"), "vip"));
  EXPECT_FALSE(lists_room(h.call("GET", "/list_rooms?alias=mallory"), "vip"));
  EXPECT_TRUE(lists_room(h.call("GET", "/list_rooms?alias=alice"), "vip"));
  auto intrude =
      h.post("/send_room", {{"from_alias", "mallory"}, {"room_id", "vip"}, {"content", "boo"}});
  EXPECT_EQ(intrude.code(), "not_a_member") << intrude.raw.body;
  // Public rooms are as open as before.
  ASSERT_TRUE(h.post("/join_room", room_op("alice", "lounge")).ok());
  EXPECT_TRUE(lists_room(h.call("GET", "/list_rooms"), "lounge"));
  EXPECT_TRUE(h.post("/room_history", {{"room_id", "lounge"}}).ok());
}

}  // namespace
}  // namespace c2c::relay::testing
