// One alias whatever its case (docs/security.md, finding 8.6), and alias_identity_mismatch
// reporting the lease that holds the alias (finding 8.22).
#include "support/relay_harness.hpp"

namespace c2c::relay::testing {
namespace {

// --- 8.6: aliases are unique case-insensitively, case kept for display ---

TEST(RelayAliases, AnAliasInAnotherCaseCannotSquatALiveLease) {
  Harness h;
  ASSERT_TRUE(h.register_alias("xa1", "node-a", "sa").ok());
  auto squat = h.register_alias("XA1", "node-x", "sx");
  EXPECT_EQ(squat.code(), "alias_conflict") << squat.raw.body;
  EXPECT_EQ(squat.body["existing_lease"]["alias"], "xa1");
  // A DM to any spelling reaches xa1, listed under its own spelling.
  ASSERT_TRUE(h.post("/send", send_body("alice", "XA1", "hello")).ok());
  auto inbox = h.post("/peek_inbox", session("node-a", "sa"));
  ASSERT_EQ(inbox.body["messages"].size(), 1u);
  EXPECT_EQ(inbox.body["messages"][0]["to_alias"], "xa1");
  auto peers = h.call("GET", "/list").body["peers"];
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0]["alias"], "xa1");
}

TEST(RelayAliases, AKeyBoundAliasIsBoundInEveryCase) {
  Harness h({.token = "tok"});
  const auto victim = key(1);
  const auto attacker = key(2);
  ASSERT_TRUE(h.register_alias("xa1", "node-a", "sa", &victim).ok());
  h.clock.advance(400);  // the victim's lease expired: only the binding protects the alias
  auto squat = h.register_alias("XA1", "node-x", "sx", &attacker);
  EXPECT_EQ(squat.code(), "alias_identity_mismatch") << squat.raw.body;
  auto unsigned_squat = h.register_alias("Xa1", "node-x", "sx");
  EXPECT_EQ(unsigned_squat.code(), "alias_identity_mismatch") << unsigned_squat.raw.body;
  // The owner signs requests under any spelling of the alias.
  ASSERT_TRUE(h.register_alias("xa1", "node-a", "sa", &victim).ok());
  auto hb = h.signed_post(victim, "XA1", "/heartbeat", session("node-a", "sa"));
  EXPECT_TRUE(hb.ok()) << hb.raw.body;
  auto pk = h.signed_get(victim, "xa1", "/pubkey/XA1");
  EXPECT_EQ(pk.body["ed25519_pubkey"], pk_of(victim)) << pk.raw.body;
}

TEST(RelayAliases, RoomMembershipIsOnePerAliasWhateverTheCase) {
  Harness h;
  ASSERT_TRUE(h.register_alias("Bob", "nb", "sb").ok());
  ASSERT_TRUE(h.register_alias("alice", "na", "sa").ok());
  ASSERT_TRUE(h.post("/join_room", {{"alias", "bob"}, {"room_id", "lounge"}}).ok());
  ASSERT_TRUE(h.post("/join_room", {{"alias", "BOB"}, {"room_id", "lounge"}}).ok());
  ASSERT_TRUE(h.post("/join_room", {{"alias", "alice"}, {"room_id", "lounge"}}).ok());
  auto rooms = h.call("GET", "/list_rooms?alias=alice").body["rooms"];
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0]["members"], (Json{"Bob", "alice"})) << "the registered spelling, once";
  // Sending as "BOB" does not deliver to Bob himself.
  auto sent =
      h.post("/send_room", {{"from_alias", "BOB"}, {"room_id", "lounge"}, {"content", "x"}});
  ASSERT_TRUE(sent.ok()) << sent.raw.body;
  EXPECT_EQ(sent.body["delivered"], (Json{"alice"}));
  ASSERT_TRUE(h.post("/leave_room", {{"alias", "bOb"}, {"room_id", "lounge"}}).ok());
  rooms = h.call("GET", "/list_rooms?alias=alice").body["rooms"];
  EXPECT_EQ(rooms[0]["members"], (Json{"alice"}));
}

// --- 8.22: alias_identity_mismatch reports the lease that holds the alias ---

TEST(RelayAliases, IdentityMismatchReportsTheExistingLeaseNotTheRequest) {
  Harness h({.token = "tok"});
  const auto owner = key(1);
  const auto other = key(2);
  ASSERT_TRUE(h.register_alias("alice", "node-a", "sa", &owner).ok());
  auto r = h.register_alias("alice", "node-x", "sx", &other);
  ASSERT_EQ(r.code(), "alias_identity_mismatch") << r.raw.body;
  ASSERT_TRUE(r.body.contains("existing_lease")) << r.raw.body;
  EXPECT_EQ(r.body["existing_lease"]["node_id"], "node-a");
  EXPECT_EQ(r.body["existing_lease"]["session_id"], "sa");
  EXPECT_EQ(r.body["existing_lease"]["identity_pk"], pk_of(owner));
  // Bound but without a lease (GC removed it): nothing to report, so no existing_lease.
  h.clock.advance(400);
  ASSERT_TRUE(h.call("POST", "/gc", "{}", {{"Authorization", "Bearer tok"}}).ok());
  auto unbound = h.register_alias("alice", "node-x", "sx2", &other);
  ASSERT_EQ(unbound.code(), "alias_identity_mismatch") << unbound.raw.body;
  EXPECT_FALSE(unbound.body.contains("existing_lease")) << unbound.raw.body;
}

}  // namespace
}  // namespace c2c::relay::testing
