// Rooms through the router: membership, join/leave notices, fan-out, history, envelopes,
// visibility and invites, signed room operations.
#include "support/relay_harness.hpp"

namespace c2c::relay::testing {
namespace {

TEST(RelayRooms, JoinRequiresALeaseAndIsIdempotent) {
  Harness h;
  auto r = h.post("/join_room", room_op("ghost", "lounge"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.code(), "unknown_alias");
  EXPECT_EQ(r.body["error"], "alias \"ghost\" is not registered");
  EXPECT_FALSE(h.store->get_room("lounge"));
  ASSERT_TRUE(h.register_alias("alice", "na", "sa").ok());
  EXPECT_TRUE(h.post("/join_room", room_op("alice", "lounge")).ok());
  EXPECT_TRUE(h.post("/join_room", room_op("alice", "lounge")).ok());
  EXPECT_EQ(h.store->get_room("lounge")->members, (std::vector<std::string>{"alice"}));
  EXPECT_EQ(h.post("/room_history", {{"room_id", "lounge"}}).body["history"].size(), 1u)
      << "one notice: the second join was a no-op";
  EXPECT_EQ(h.post("/join_room", {{"alias", "alice"}}).body["error"],
            "alias and room_id are required");
}

TEST(RelayRooms, JoinNoticeGoesToEveryMemberIncludingTheJoinerAndHistory) {
  Harness h;
  ASSERT_TRUE(h.register_alias("alice", "na", "sa").ok());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(h.post("/join_room", room_op("alice", "lounge")).ok());
  ASSERT_TRUE(h.post("/join_room", room_op("bob", "lounge")).ok());
  auto bob = h.post("/poll_inbox", session("nb", "sb")).body["messages"];
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(bob[0]["from_alias"], "c2c-system");
  EXPECT_EQ(bob[0]["to_alias"], "bob#lounge");
  EXPECT_EQ(bob[0]["room_id"], "lounge");
  EXPECT_EQ(bob[0]["content"], "bob joined room lounge");
  EXPECT_TRUE(looks_like_uuid(bob[0]["message_id"].get<std::string>()));
  auto alice = h.post("/poll_inbox", session("na", "sa")).body["messages"];
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_EQ(alice[0]["content"], "alice joined room lounge");
  EXPECT_EQ(alice[1]["content"], "bob joined room lounge");
  auto hist = h.post("/room_history", {{"room_id", "lounge"}}).body["history"];
  ASSERT_EQ(hist.size(), 2u);
  EXPECT_EQ(hist[1]["from_alias"], "c2c-system");
  EXPECT_EQ(hist[1]["room_id"], "lounge");
  EXPECT_FALSE(hist[1].contains("to_alias"));
}

TEST(RelayRooms, NoticeToADeadMemberIsDeadLettered) {
  Harness h;
  ASSERT_TRUE(h.register_alias("alice", "na", "sa").ok());
  ASSERT_TRUE(h.post("/join_room", room_op("alice", "lounge")).ok());
  h.clock.advance(301);
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(h.post("/join_room", room_op("bob", "lounge")).ok());
  auto dl = h.call("GET", "/dead_letter").body["dead_letter"];
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0]["reason"], "recipient_dead");
  EXPECT_EQ(dl[0]["to_alias"], "alice#lounge");
  EXPECT_EQ(dl[0]["room_id"], "lounge");
}

TEST(RelayRooms, SendRoomFansOutToOthersAndRecordsHistory) {
  Harness h;
  for (const char* a : {"alice", "bob", "carol"}) {
    ASSERT_TRUE(h.register_alias(a, std::string("n-") + a, "s").ok());
    ASSERT_TRUE(h.post("/join_room", room_op(a, "lounge")).ok());
  }
  for (const char* a : {"alice", "bob", "carol"}) {
    h.post("/poll_inbox", session(std::string("n-") + a, "s"));  // drop the notices
  }
  auto r = h.post("/send_room", {{"from_alias", "alice"},
                                 {"room_id", "lounge"},
                                 {"content", "hi all"},
                                 {"message_id", "rm1"}});
  ASSERT_TRUE(r.ok()) << r.raw.body;
  EXPECT_EQ(r.body["delivered"], Json::array({"bob", "carol"}));
  EXPECT_EQ(r.body["skipped"], Json::array());
  EXPECT_EQ(r.body["room_id"], "lounge");
  EXPECT_TRUE(h.post("/peek_inbox", session("n-alice", "s")).body["messages"].empty());
  auto bob = h.post("/poll_inbox", session("n-bob", "s")).body["messages"];
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(bob[0], (Json{{"message_id", "rm1"},
                          {"from_alias", "alice"},
                          {"from_node", "n-alice"},  // where a reply goes (docs/relay-server.md)
                          {"to_alias", "bob#lounge"},
                          {"content", "hi all"},
                          {"ts", kT0},
                          {"room_id", "lounge"}}));
  auto hist = h.post("/room_history", {{"room_id", "lounge"}, {"limit", 1}}).body["history"];
  ASSERT_EQ(hist.size(), 1u);
  EXPECT_EQ(hist[0]["content"], "hi all");
  EXPECT_FALSE(hist[0].contains("envelope")) << "envelope stored only when supplied";
  EXPECT_TRUE(
      h.post("/room_history", {{"room_id", "lounge"}, {"limit", 0}}).body["history"].empty());
}

TEST(RelayRooms, RetriedSendRoomWithTheSameIdDeliversAndRecordsOnce) {
  Harness h;
  for (const char* a : {"alice", "bob"}) {
    ASSERT_TRUE(h.register_alias(a, std::string("n-") + a, "s").ok());
    ASSERT_TRUE(h.post("/join_room", room_op(a, "lounge")).ok());
  }
  for (const char* a : {"alice", "bob"}) h.post("/poll_inbox", session(std::string("n-") + a, "s"));
  const Json body = {
      {"from_alias", "alice"}, {"room_id", "lounge"}, {"content", "once"}, {"message_id", "r-1"}};
  ASSERT_EQ(h.post("/send_room", body).body["result"], "ok");
  auto again = h.post("/send_room", body);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.body["result"], "duplicate");
  EXPECT_EQ(again.body["delivered"], Json::array());
  EXPECT_EQ(h.post("/poll_inbox", session("n-bob", "s")).body["messages"].size(), 1u);
  auto hist = h.post("/room_history", {{"room_id", "lounge"}, {"limit", 10}}).body["history"];
  size_t copies = 0;
  for (const auto& m : hist) copies += m["content"] == "once" ? 1 : 0;
  EXPECT_EQ(copies, 1u);
}

TEST(RelayRooms, SendRoomToUnknownOrEmptyRoomRecordsNothing) {
  Harness h;
  auto r = h.post("/send_room", {{"from_alias", "alice"}, {"room_id", "void"}, {"content", "x"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.body["delivered"], Json::array());
  EXPECT_TRUE(h.post("/room_history", {{"room_id", "void"}}).body["history"].empty());
  EXPECT_FALSE(h.store->get_room("void"));
}

TEST(RelayRooms, SendRoomSkipsAndDeadLettersExpiredMembers) {
  Harness h;
  ASSERT_TRUE(h.register_alias("old", "n0", "s0").ok());
  ASSERT_TRUE(h.post("/join_room", room_op("old", "lounge")).ok());
  h.clock.advance(301);
  ASSERT_TRUE(h.register_alias("alice", "na", "sa").ok());
  ASSERT_TRUE(h.post("/join_room", room_op("alice", "lounge")).ok());
  auto r = h.post("/send_room", {{"from_alias", "alice"}, {"room_id", "lounge"}, {"content", "x"}});
  EXPECT_EQ(r.body["skipped"], Json::array({"old"}));
  auto dl = h.call("GET", "/dead_letter").body["dead_letter"];
  ASSERT_FALSE(dl.empty());
  EXPECT_EQ(dl.back()["to_alias"], "old#lounge");
}

TEST(RelayRooms, LeaveNotifiesTheRemainingMembers) {
  Harness h;
  ASSERT_TRUE(h.register_alias("alice", "na", "sa").ok());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(h.post("/join_room", room_op("alice", "lounge")).ok());
  ASSERT_TRUE(h.post("/join_room", room_op("bob", "lounge")).ok());
  h.post("/poll_inbox", session("na", "sa"));
  ASSERT_TRUE(h.post("/leave_room", room_op("bob", "lounge")).ok());
  auto alice = h.post("/poll_inbox", session("na", "sa")).body["messages"];
  ASSERT_EQ(alice.size(), 1u);
  EXPECT_EQ(alice[0]["content"], "bob left room lounge");
  EXPECT_EQ(h.store->get_room("lounge")->members, (std::vector<std::string>{"alice"}));
  // Leaving again, or leaving a room that does not exist, is a no-op that creates nothing.
  EXPECT_TRUE(h.post("/leave_room", room_op("bob", "lounge")).ok());
  EXPECT_TRUE(h.post("/leave_room", room_op("bob", "nowhere")).ok());
  EXPECT_FALSE(h.store->get_room("nowhere"));
  auto rooms = h.call("GET", "/list_rooms").body["rooms"];
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0]["room_id"], "lounge");
  EXPECT_EQ(rooms[0]["member_count"], 1);
  EXPECT_EQ(rooms[0]["members"], Json::array({"alice"}));
}

TEST(RelayRooms, SignedRoomOpsAndTheLeaveUnderJoinContextCheck) {
  Harness h;
  auto k = key(1);
  ASSERT_TRUE(h.register_alias("alice", "na", "sa", &k).ok());
  auto join = h.post("/join_room", with(room_op("alice", "lounge"),
                                        h.room_proof(crypto::kCtxRoomJoin, k, "lounge", "alice")));
  EXPECT_TRUE(join.ok()) << join.raw.body;
  // A proof made for join does not verify as a leave.
  auto leave = h.post(
      "/leave_room",
      with(room_op("alice", "lounge"), h.room_proof(crypto::kCtxRoomJoin, k, "lounge", "alice")));
  EXPECT_EQ(leave.status, 401);
  EXPECT_EQ(leave.code(), "signature_invalid");
  // Another key than the bound one.
  auto other = key(2);
  auto mismatch =
      h.post("/leave_room", with(room_op("alice", "lounge"),
                                 h.room_proof(crypto::kCtxRoomLeave, other, "lounge", "alice")));
  EXPECT_EQ(mismatch.status, 401);
  EXPECT_EQ(mismatch.code(), "alias_identity_mismatch");
  // Partial proof.
  auto partial = h.post("/leave_room", with(room_op("alice", "lounge"), {{"sig", "abc"}}));
  EXPECT_EQ(partial.status, 400);
  EXPECT_EQ(partial.code(), "missing_proof_field");
  // Replayed proof.
  Json proof = h.room_proof(crypto::kCtxRoomLeave, k, "lounge", "alice");
  EXPECT_TRUE(h.post("/leave_room", with(room_op("alice", "lounge"), proof)).ok());
  auto replay = h.post("/leave_room", with(room_op("alice", "lounge"), proof));
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(replay.code(), "nonce_replay");
}

TEST(RelayRooms, RequireSignedRoomOpsGate) {
  HarnessOptions o;
  o.config.require_signed_room_ops = true;
  Harness h(o);
  auto k = key(1);
  ASSERT_TRUE(h.register_alias("alice", "na", "sa", &k).ok());
  for (const char* path : {"/join_room", "/leave_room"}) {
    auto r = h.post(path, room_op("alice", "lounge"));
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.code(), "unsigned_room_op");
  }
  auto vis = h.post("/set_room_visibility",
                    {{"alias", "alice"}, {"room_id", "lounge"}, {"visibility", "invite"}});
  EXPECT_EQ(vis.code(), "unsigned_room_op");
  EXPECT_TRUE(h.post("/join_room", with(room_op("alice", "lounge"),
                                        h.room_proof(crypto::kCtxRoomJoin, k, "lounge", "alice")))
                  .ok());
  // A verified request header for the same alias also counts as signed.
  EXPECT_TRUE(h.signed_post(k, "alice", "/leave_room", room_op("alice", "lounge")).ok());
  // Without the gate unsigned operations pass (other tests).
}

TEST(RelayRooms, InviteOnlyRooms) {
  Harness h;
  auto ka = key(1), kb = key(2), kc = key(3);
  ASSERT_TRUE(h.register_alias("alice", "na", "sa", &ka).ok());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb", &kb).ok());
  ASSERT_TRUE(h.register_alias("carol", "nc", "sc", &kc).ok());
  ASSERT_TRUE(h.post("/join_room", room_op("alice", "vip")).ok());
  auto not_member = h.post("/set_room_visibility",
                           {{"alias", "bob"}, {"room_id", "vip"}, {"visibility", "invite"}});
  EXPECT_EQ(not_member.status, 401);
  EXPECT_EQ(not_member.code(), "not_a_member");
  auto bad_vis = h.post("/set_room_visibility",
                        {{"alias", "alice"}, {"room_id", "vip"}, {"visibility", "secret"}});
  EXPECT_EQ(bad_vis.status, 400);
  auto vis = h.post("/set_room_visibility",
                    {{"alias", "alice"}, {"room_id", "vip"}, {"visibility", "invite"}});
  ASSERT_TRUE(vis.ok());
  EXPECT_EQ(vis.body["visibility"], "invite");

  auto denied = h.post("/join_room", with(room_op("bob", "vip"),
                                          h.room_proof(crypto::kCtxRoomJoin, kb, "vip", "bob")));
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(denied.code(), "not_invited");
  EXPECT_EQ(h.post("/join_room", room_op("bob", "vip")).code(), "not_invited") << "unsigned";

  auto inv =
      h.post("/invite_room", {{"alias", "alice"}, {"room_id", "vip"}, {"invitee_pk", pk_of(kb)}});
  ASSERT_TRUE(inv.ok()) << inv.raw.body;
  EXPECT_EQ(inv.body["invited_members"], Json::array({pk_of(kb)}));
  EXPECT_EQ(
      h.post("/invite_room", {{"alias", "carol"}, {"room_id", "vip"}, {"invitee_pk", pk_of(kc)}})
          .code(),
      "not_a_member");
  EXPECT_EQ(
      h.post("/invite_room", {{"alias", "alice"}, {"room_id", "vip"}, {"invitee_pk", "short"}})
          .status,
      400);
  auto joined = h.post("/join_room", with(room_op("bob", "vip"),
                                          h.room_proof(crypto::kCtxRoomJoin, kb, "vip", "bob")));
  EXPECT_TRUE(joined.ok()) << joined.raw.body;
  // A signed request header for bob works as well as a body proof.
  auto uninv =
      h.post("/uninvite_room", {{"alias", "alice"}, {"room_id", "vip"}, {"invitee_pk", pk_of(kb)}});
  ASSERT_TRUE(uninv.ok());
  EXPECT_EQ(uninv.body["invited_members"], Json::array());
  EXPECT_EQ(h.store->get_room("vip")->visibility, "invite");
}

TEST(RelayRooms, EnvelopeChecks) {
  Harness h;
  auto k = key(1);
  ASSERT_TRUE(h.register_alias("alice", "na", "sa", &k).ok());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(h.post("/join_room", room_op("bob", "lounge")).ok());
  auto envelope = [&](const std::string& content, const crypto::KeyPair& signer) {
    const std::string ts = format_rfc3339_utc(h.clock.now());
    const std::string nonce = crypto::random_nonce();
    const std::string ct = crypto::b64u_encode(content);
    const std::string pk = pk_of(signer);
    const std::string blob = crypto::canonical_blob(
        crypto::kCtxRoomSend,
        {"lounge", "alice", pk, "none", crypto::sha256_b64u(content), ts, nonce});
    return Json{{"ct", ct},        {"enc", "none"},
                {"sender_pk", pk}, {"sig", crypto::sign_b64u(signer, blob)},
                {"ts", ts},        {"nonce", nonce}};
  };
  auto send = [&](const std::string& content, const Json& env) {
    return h.post(
        "/send_room",
        {{"from_alias", "alice"}, {"room_id", "lounge"}, {"content", content}, {"envelope", env}});
  };
  EXPECT_TRUE(send("hello", envelope("hello", k)).ok());
  EXPECT_EQ(send("other", envelope("hello", k)).body["error"],
            "ct does not match content (enc=none)");
  EXPECT_EQ(send("hello", envelope("hello", key(2))).code(), "alias_identity_mismatch");
  Json enc = envelope("hello", k);
  enc["enc"] = "box";
  EXPECT_EQ(send("hello", enc).code(), "unsupported_enc");
  Json missing = envelope("hello", k);
  missing.erase("nonce");
  auto m = send("hello", missing);
  EXPECT_EQ(m.status, 400);
  EXPECT_EQ(m.code(), "missing_proof_field");
  // Only the first, valid message reached bob and the history.
  auto hist = h.post("/room_history", {{"room_id", "lounge"}}).body["history"];
  EXPECT_EQ(hist.back()["content"], "hello");
  EXPECT_TRUE(hist.back().contains("envelope"));
  auto bob = h.post("/poll_inbox", session("nb", "sb")).body["messages"];
  EXPECT_EQ(bob.back()["envelope"]["enc"], "none");
}

}  // namespace
}  // namespace c2c::relay::testing
