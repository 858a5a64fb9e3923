// Relay rules fixed after the issue-8 review (docs/security.md): dedup per sender, one alias
// whatever its case, alias_identity_mismatch reporting the real lease.
#include "relay_harness.hpp"

namespace c2c::relay::testing {
namespace {

// --- 8.7: the dedup window is keyed by (sender, message_id) ---

TEST(RelayRules, AnotherSendersMessageIdDoesNotSuppressARealMessage) {
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

TEST(RelayRules, FanOutDedupIsPerSenderToo) {
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

// --- 8.6: aliases are unique case-insensitively, case kept for display ---

TEST(RelayRules, AnAliasInAnotherCaseCannotSquatALiveLease) {
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

TEST(RelayRules, AKeyBoundAliasIsBoundInEveryCase) {
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

TEST(RelayRules, RoomMembershipIsOnePerAliasWhateverTheCase) {
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

TEST(RelayRules, IdentityMismatchReportsTheExistingLeaseNotTheRequest) {
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

// --- 8.1: invite-only rooms are invisible and closed to non-members on every route ---

Json room_op(const std::string& alias, const std::string& room) {
  return {{"alias", alias}, {"room_id", room}};
}

Json with(Json base, const Json& extra) {
  for (auto it = extra.begin(); it != extra.end(); ++it) base[it.key()] = it.value();
  return base;
}

bool lists_room(const Reply& r, const std::string& room) {
  for (const auto& info : r.body["rooms"]) {
    if (info["room_id"] == room) return true;
  }
  return false;
}

TEST(RelayRules, InviteOnlyRoomIsInvisibleAndClosedToNonMembersInProd) {
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

TEST(RelayRules, InviteOnlyRoomInDevModeTrustsANamedMemberOnly) {
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

// --- 8.5: the register proof binds node, session and ttl, and names this relay ---

TEST(RelayRules, RegisterProofV2BindsNodeSessionAndTtl) {
  Harness h({.token = "tok"});
  const auto k = key(1);
  Json body = h.register_body("bob", "nb", "sb", &k);
  EXPECT_EQ(body["proof_version"], 2);
  for (const auto& [field, value] : std::vector<std::pair<std::string, Json>>{
           {"session_id", "sx"}, {"node_id", "nx"}, {"ttl", 1}}) {
    Json tampered = body;
    tampered[field] = value;
    auto r = h.post("/register", tampered);
    EXPECT_EQ(r.status, 401) << field << ": " << r.raw.body;
    EXPECT_EQ(r.code(), "signature_invalid") << field;
  }
  auto ok = h.post("/register", body);
  EXPECT_TRUE(ok.ok()) << ok.raw.body;
}

TEST(RelayRules, ACapturedVersion1ProofCannotMoveALease) {
  Harness h({.token = "tok"});
  const auto kb = key(2);
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb", &kb).ok());
  const auto kc = key(3);
  ASSERT_TRUE(h.register_alias("carol", "nc", "sc", &kc).ok());
  ASSERT_TRUE(h.signed_post(kc, "carol", "/send",
                            {{"from_alias", "carol"}, {"to_alias", "bob"}, {"content", "queued"}})
                  .ok());
  // An old client's proof for bob, captured and never delivered, replayed for another session
  // (which would move bob's queued message there) ...
  auto replay = [&](const std::string& node, const std::string& sess) {
    Json b = {{"alias", "bob"}, {"node_id", node}, {"session_id", sess}};
    test::add_register_proof_v1(b, kb, "bob", kRelayUrl, h.clock.now());
    return h.post("/register", b);
  };
  auto moved = replay("nb", "attacker-session");
  EXPECT_EQ(moved.status, 401) << moved.raw.body;
  EXPECT_EQ(moved.code(), "signature_invalid");
  EXPECT_EQ(moved.body["existing_lease"]["session_id"], "sb");
  // ... or, once bob's lease expired, for another node (a takeover of the alias).
  h.clock.advance(400);
  auto taken = replay("nx", "sx");
  EXPECT_EQ(taken.status, 401) << taken.raw.body;
  EXPECT_EQ(taken.code(), "signature_invalid");
  EXPECT_EQ(h.store->get_lease("bob")->session_id, "sb");
  EXPECT_EQ(h.store->peek({"nb", "sb"}).size(), 1u) << "the queued message did not move";
  // Version 1 still registers a fresh alias, and refreshes its own session without changing
  // what it does not sign (ttl).
  Json fresh = {{"alias", "dave"}, {"node_id", "nd"}, {"session_id", "sd"}};
  test::add_register_proof_v1(fresh, key(4), "dave", kRelayUrl, h.clock.now());
  EXPECT_TRUE(h.post("/register", fresh).ok());
  Json refresh = {{"alias", "bob"}, {"node_id", "nb"}, {"session_id", "sb"}, {"ttl", 1}};
  test::add_register_proof_v1(refresh, kb, "bob", kRelayUrl, h.clock.now());
  auto refreshed = h.post("/register", refresh);
  ASSERT_TRUE(refreshed.ok()) << refreshed.raw.body;
  EXPECT_EQ(refreshed.body["lease"]["ttl"], 300);
}

TEST(RelayRules, ARegisterProofForAnotherRelayIsRefusedWhateverTheHeadersSay) {
  Harness h({.token = "tok"});
  const auto k = key(1);
  Json body = {{"alias", "bob"}, {"node_id", "nb"}, {"session_id", "sb"}};
  test::add_register_proof(body, k, "bob", "https://relay-x.example", h.clock.now());
  auto r = h.call("POST", "/register", body.dump(),
                  {{"Host", "relay-x.example"}, {"X-Forwarded-Proto", "https"}});
  EXPECT_EQ(r.status, 401) << r.raw.body;
  EXPECT_EQ(r.code(), "signature_invalid");
  EXPECT_FALSE(h.store->get_lease("bob").has_value());
}

TEST(RelayRules, DefaultPublicUrlsComeFromTheListenAddress) {
  EXPECT_EQ(server::default_public_urls("10.0.0.5", 7331, false, {"10.0.0.5", "192.168.1.2"}, "h"),
            (std::vector<std::string>{"http://10.0.0.5:7331"}));
  EXPECT_EQ(server::default_public_urls("127.0.0.1", 8443, true, {}, "h"),
            (std::vector<std::string>{"https://127.0.0.1:8443", "https://localhost:8443",
                                      "https://[::1]:8443"}));
  EXPECT_EQ(server::default_public_urls("0.0.0.0", 7333, false, {"172.17.0.1", "fd00::5"}, "Box"),
            (std::vector<std::string>{"http://172.17.0.1:7333", "http://[fd00::5]:7333",
                                      "http://box:7333", "http://localhost:7333",
                                      "http://127.0.0.1:7333", "http://[::1]:7333"}));
}

// --- 8.13: inbox reads come in pages ---

TEST(RelayRules, InboxReadsArePagedAndAnOldClientStillGetsEverything) {
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

TEST(RelayRules, AnInboxPageStaysWithinItsByteBudgetButNeverComesBackEmpty) {
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
