// Relay semantics through the router (docs/relay-server.md, docs/protocol.md §4):
// leases, alias ownership, direct messages, dedup, dead letters, alias@host, GC.
#include "support/relay_harness.hpp"

namespace c2c::relay::testing {
namespace {

TEST(RelayService, HealthReportsModeAndStorage) {
  Harness h;
  auto r = h.call("GET", "/health");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["ok"], true);
  EXPECT_EQ(r.body["auth_mode"], "dev");
  EXPECT_EQ(r.body["storage"], "memory");
  EXPECT_TRUE(r.body["version"].is_string());
  EXPECT_TRUE(r.body["git_hash"].is_string());
}

TEST(RelayService, RegisterReturnsTheLease) {
  Harness h;
  auto r = h.post("/register", {{"node_id", "n"},
                                {"session_id", "s"},
                                {"alias", "alice"},
                                {"client_type", "claude"},
                                {"ttl", 60.9}});
  ASSERT_TRUE(r.ok()) << r.raw.body;
  EXPECT_EQ(r.body["result"], "ok");
  const Json& l = r.body["lease"];
  EXPECT_EQ(l["alias"], "alice");
  EXPECT_EQ(l["client_type"], "claude");
  EXPECT_EQ(l["ttl"], 60.0);  // truncated to whole seconds
  EXPECT_EQ(l["alive"], true);
  EXPECT_EQ(l["registered_at"], kT0);
  EXPECT_FALSE(r.body.contains("receipt"));
}

TEST(RelayService, RegisterValidation) {
  Harness h;
  auto missing = h.post("/register", {{"node_id", "n"}, {"alias", "a"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body["error"], "node_id, session_id, and alias are required");
  for (const char* bad : {".hidden", "has space", "c2c-system", "C2C"}) {
    auto r = h.register_alias(bad, "n", "s");
    EXPECT_EQ(r.status, 200) << bad;
    EXPECT_EQ(r.code(), "invalid_alias") << bad;
    EXPECT_TRUE(r.body.contains("existing_lease"));
  }
  EXPECT_EQ(h.post("/register", {{"node_id", "n"}, {"session_id", "s"}, {"alias", "a"}, {"ttl", 0}})
                .status,
            400);
  EXPECT_TRUE(h.store->list_leases().empty());
}

TEST(RelayService, AliasConflictOnlyAgainstALiveLeaseOnAnotherNode) {
  Harness h;
  ASSERT_TRUE(h.register_alias("alice", "node-a", "s1").ok());
  auto conflict = h.register_alias("alice", "node-b", "s9");
  EXPECT_EQ(conflict.status, 200);
  EXPECT_EQ(conflict.code(), "alias_conflict");
  EXPECT_EQ(conflict.body["existing_lease"]["node_id"], "node-a");
  EXPECT_TRUE(h.register_alias("alice", "node-a", "s2").ok()) << "same node, new session";
  h.clock.advance(301);
  EXPECT_TRUE(h.register_alias("alice", "node-b", "s9").ok()) << "expired lease can be taken";
  EXPECT_EQ(h.store->get_lease("alice")->node_id, "node-b");
}

TEST(RelayService, ReRegisterSameNodeMigratesTheInboxInOrder) {
  Harness h;
  ASSERT_TRUE(h.register_alias("bob", "nb", "s1").ok());
  ASSERT_TRUE(h.register_alias("alice", "na", "sa").ok());
  for (const char* c : {"msg1", "msg2", "msg3"}) {
    ASSERT_TRUE(h.post("/send", send_body("alice", "bob", c)).ok());
  }
  auto r = h.register_alias("bob", "nb", "s2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.body["lease"]["registered_at"], kT0) << "registered_at kept on the same node";
  EXPECT_TRUE(h.post("/peek_inbox", session("nb", "s1")).body["messages"].empty());
  auto polled = h.post("/poll_inbox", session("nb", "s2"));
  EXPECT_EQ(contents(polled.body["messages"]), (std::vector<std::string>{"msg1", "msg2", "msg3"}));
}

TEST(RelayService, HeartbeatRefreshesAndRevives) {
  Harness h;
  ASSERT_TRUE(h.register_alias("alice", "n", "s").ok());
  h.clock.advance(400);
  EXPECT_TRUE(h.call("GET", "/list").body["peers"].empty());
  auto hb = h.post("/heartbeat", session("n", "s"));
  ASSERT_TRUE(hb.ok()) << hb.raw.body;
  EXPECT_EQ(hb.body["lease"]["alive"], true);
  EXPECT_EQ(hb.body["lease"]["last_seen"], kT0 + 400);
  EXPECT_EQ(h.call("GET", "/list").body["peers"].size(), 1u);
  auto unknown = h.post("/heartbeat", session("n", "other"));
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(unknown.code(), "unknown_alias");
  EXPECT_EQ(unknown.body["error"], "unknown node");
  EXPECT_EQ(unknown.body["lease"]["alias"], "_error");
  EXPECT_EQ(h.post("/heartbeat", {{"node_id", "n"}}).status, 400);
}

TEST(RelayService, ListIncludesDeadOnlyOnRequest) {
  Harness h;
  ASSERT_TRUE(h.register_alias("old", "n1", "s1").ok());
  h.clock.advance(301);
  ASSERT_TRUE(h.register_alias("new", "n2", "s2").ok());
  auto live = h.call("GET", "/list");
  ASSERT_EQ(live.body["peers"].size(), 1u);
  EXPECT_EQ(live.body["peers"][0]["alias"], "new");
  auto all = h.call("GET", "/list?include_dead=1");
  EXPECT_EQ(all.body["peers"].size(), 2u);
}

TEST(RelayService, SendDeliversFifoAndPollDrainsPeekDoesNot) {
  Harness h;
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  auto sent = h.post("/send", send_body("alice", "bob", "one"));
  ASSERT_TRUE(sent.ok()) << sent.raw.body;
  EXPECT_EQ(sent.body["result"], "ok");
  EXPECT_EQ(sent.body["ts"], kT0);
  EXPECT_TRUE(looks_like_uuid(sent.body["message_id"].get<std::string>()));
  ASSERT_TRUE(h.post("/send", send_body("alice", "bob", "two", "m-2")).ok());
  auto peek = h.post("/peek_inbox", session("nb", "sb"));
  ASSERT_EQ(peek.body["messages"].size(), 2u);
  const Json& m = peek.body["messages"][1];
  EXPECT_EQ(m, (Json{{"message_id", "m-2"},
                     {"from_alias", "alice"},
                     {"to_alias", "bob"},
                     {"content", "two"},
                     {"ts", kT0}}));
  EXPECT_EQ(h.post("/peek_inbox", session("nb", "sb")).body["messages"].size(), 2u);
  auto poll = h.post("/poll_inbox", session("nb", "sb"));
  EXPECT_EQ(contents(poll.body["messages"]), (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(h.post("/poll_inbox", session("nb", "sb")).body["messages"].empty());
  EXPECT_TRUE(h.post("/poll_inbox", session("zz", "zz")).body["messages"].empty());
}

TEST(RelayService, PollWithMessageIdsDrainsOnlyThose) {
  Harness h;
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  for (const char* id : {"a", "b", "c"})
    ASSERT_TRUE(h.post("/send", send_body("x", "bob", id, id)).ok());
  Json req = session("nb", "sb");
  req["message_ids"] = {"a", "c", "missing"};
  auto acked = h.post("/poll_inbox", req);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(contents(acked.body["messages"]), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(contents(h.post("/peek_inbox", session("nb", "sb")).body["messages"]),
            (std::vector<std::string>{"b"}));
}

TEST(RelayService, UnknownAndDeadRecipientsAreDeadLettered) {
  Harness h;
  auto unknown = h.post("/send", send_body("alice", "ghost", "boo", "m1"));
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(unknown.code(), "unknown_alias");
  EXPECT_EQ(unknown.body["error"], "no registration for alias \"ghost\"");
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  h.clock.advance(301);
  auto dead = h.post("/send", send_body("alice", "bob", "late", "m2"));
  EXPECT_EQ(dead.code(), "recipient_dead");
  auto dl = h.call("GET", "/dead_letter");
  ASSERT_TRUE(dl.ok());
  ASSERT_EQ(dl.body["dead_letter"].size(), 2u);
  const Json& first = dl.body["dead_letter"][0];
  EXPECT_EQ(first["reason"], "unknown_alias");
  EXPECT_EQ(first["message_id"], "m1");
  EXPECT_EQ(first["from_alias"], "alice");
  EXPECT_EQ(first["to_alias"], "ghost");
  EXPECT_EQ(first["content"], "boo");
  EXPECT_TRUE(first.contains("ts"));
  EXPECT_EQ(dl.body["dead_letter"][1]["reason"], "recipient_dead");
  EXPECT_EQ(h.store->queued_messages(), 0u);
}

TEST(RelayService, DuplicateMessageIdIsAcknowledgedNotQueued) {
  Harness h;
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(h.post("/send", send_body("a", "bob", "x", "dup")).ok());
  auto again = h.post("/send", send_body("a", "bob", "x", "dup"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.body["result"], "duplicate");
  EXPECT_EQ(h.store->queued_messages(), 1u);
}

TEST(RelayService, RetriedSendAllWithTheSameIdDeliversOnce) {
  Harness h;
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(h.register_alias("carol", "nc", "sc").ok());
  const Json body = {{"from_alias", "alice"}, {"content", "hi all"}, {"message_id", "all-1"}};
  auto first = h.post("/send_all", body);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.body["result"], "ok");
  auto again = h.post("/send_all", body);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.body["result"], "duplicate");
  EXPECT_EQ(again.body["duplicate"], true);
  EXPECT_EQ(again.body["delivered"], Json::array());
  EXPECT_EQ(h.store->queued_messages(), 2u) << "one copy each for bob and carol";
  // Without a client id every call is a new message.
  ASSERT_TRUE(h.post("/send_all", {{"from_alias", "alice"}, {"content", "x"}}).ok());
  ASSERT_TRUE(h.post("/send_all", {{"from_alias", "alice"}, {"content", "x"}}).ok());
  EXPECT_EQ(h.store->queued_messages(), 6u);
}

TEST(RelayService, DedupIsCheckedAfterTheRecipientIsAlive) {
  Harness h;
  EXPECT_EQ(h.post("/send", send_body("a", "bob", "x", "early")).code(), "unknown_alias");
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  auto retry = h.post("/send", send_body("a", "bob", "x", "early"));
  EXPECT_EQ(retry.body["result"], "ok") << "a failed send does not burn its id";
}

TEST(RelayService, DedupWindowEvictsTheOldest) {
  HarnessOptions o;
  o.config.dedup_window = 3;
  Harness h(o);
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  for (const char* id : {"1", "2", "3", "4"})
    ASSERT_TRUE(h.post("/send", send_body("a", "bob", id, id)).ok());
  EXPECT_EQ(h.post("/send", send_body("a", "bob", "x", "4")).body["result"], "duplicate");
  EXPECT_EQ(h.post("/send", send_body("a", "bob", "x", "1")).body["result"], "ok");
}

TEST(RelayService, DefaultDedupWindowIsTenThousand) {
  Harness h;
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(h.post("/send", send_body("a", "bob", "x", "id" + std::to_string(i))).ok());
  }
  EXPECT_EQ(h.post("/send", send_body("a", "bob", "x", "id0")).body["result"], "duplicate");
  ASSERT_TRUE(h.post("/send", send_body("a", "bob", "x", "id10000")).ok());
  EXPECT_EQ(h.post("/send", send_body("a", "bob", "x", "id0")).body["result"], "ok");
}

TEST(RelayService, SendAllExcludesSenderAndSkipsDead) {
  Harness h;
  ASSERT_TRUE(h.register_alias("stale", "n0", "s0").ok());
  h.clock.advance(301);
  ASSERT_TRUE(h.register_alias("alice", "na", "sa").ok());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(h.register_alias("carol", "nc", "sc").ok());
  auto r = h.post("/send_all", {{"from_alias", "alice"}, {"content", "all"}});
  ASSERT_TRUE(r.ok());
  auto delivered = r.body["delivered"].get<std::vector<std::string>>();
  std::sort(delivered.begin(), delivered.end());
  EXPECT_EQ(delivered, (std::vector<std::string>{"bob", "carol"}));
  EXPECT_EQ(r.body["skipped"], Json::array({"stale"}));
  EXPECT_TRUE(h.post("/peek_inbox", session("na", "sa")).body["messages"].empty());
  auto bob = h.post("/poll_inbox", session("nb", "sb")).body["messages"];
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(bob[0]["to_alias"], "bob");
  EXPECT_EQ(h.post("/send_all", {{"from_alias", "alice"}}).status, 400);
}

TEST(RelayService, AliasAtHostRouting) {
  HarnessOptions o;
  o.config.relay_name = "relay.example.com";
  Harness h(o);
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "sa").ok());
  for (const char* to : {"alice@relay", "alice@relay.example.com", "alice@RELAY.example.com",
                         "alice@machine-a", "alice@"}) {
    auto r = h.post("/send", send_body("bob", to, to));
    EXPECT_TRUE(r.ok()) << to << r.raw.body;
  }
  auto msgs = h.post("/poll_inbox", session("machine-a", "sa")).body["messages"];
  ASSERT_EQ(msgs.size(), 5u);
  EXPECT_EQ(msgs[0]["to_alias"], "alice") << "delivered to the bare alias";
  auto far = h.post("/send", send_body("bob", "bob@hostZ", "x", "mz"));
  EXPECT_EQ(far.status, 404);
  EXPECT_EQ(far.code(), "unknown_host");
  auto dl = h.call("GET", "/dead_letter").body["dead_letter"];
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0]["reason"], "unknown_host");
  EXPECT_EQ(dl[0]["to_alias"], "bob@hostZ");
}

TEST(RelayService, ReservedSenderAndOversizeContentAreRejected) {
  Harness h;
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  auto sys = h.post("/send", send_body("c2c-system", "bob", "fake notice"));
  EXPECT_EQ(sys.status, 400);
  EXPECT_EQ(sys.code(), "invalid_alias");
  auto big = h.post("/send", send_body("a", "bob", std::string(256 * 1024 + 1, 'x')));
  EXPECT_EQ(big.status, 400);
  EXPECT_EQ(big.code(), "bad_request");
  EXPECT_TRUE(h.post("/send", send_body("a", "bob", std::string(256 * 1024, 'x'))).ok());
  EXPECT_EQ(h.store->queued_messages(), 1u);
}

TEST(RelayService, GcExpiresOnlyStaleLeasesAndPrunesOrphanInboxes) {
  Harness h;
  ASSERT_TRUE(h.register_alias("stale", "n1", "s1").ok());
  ASSERT_TRUE(h.register_alias("fresh", "n2", "s2").ok());
  ASSERT_TRUE(h.post("/send", send_body("x", "stale", "queued")).ok());
  ASSERT_TRUE(h.post("/join_room", {{"alias", "stale"}, {"room_id", "r"}}).ok());
  ASSERT_TRUE(h.post("/join_room", {{"alias", "fresh"}, {"room_id", "r"}}).ok());
  h.clock.advance(200);
  ASSERT_TRUE(h.post("/heartbeat", session("n2", "s2")).ok());
  h.clock.advance(200);
  auto gc = h.post("/gc", Json::object());
  ASSERT_TRUE(gc.ok()) << gc.raw.body;
  EXPECT_EQ(gc.body["expired"], Json::array({"stale"}));
  EXPECT_GE(gc.body["pruned"].get<int>(), 1);
  EXPECT_FALSE(h.store->get_lease("stale"));
  EXPECT_TRUE(h.store->get_lease("fresh"));
  EXPECT_EQ(h.store->get_room("r")->members, (std::vector<std::string>{"fresh"}));
  EXPECT_TRUE(h.post("/peek_inbox", session("n1", "s1")).body["messages"].empty());
  // A second run has nothing to do.
  auto again = h.call("POST", "/gc", "not json is fine: the body is ignored");
  EXPECT_EQ(again.body["expired"], Json::array());
}

TEST(RelayService, BadInputIsRejectedAndStoresNothing) {
  Harness h;
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  struct Case {
    std::string path, body, error_prefix;
  };
  const std::vector<Case> cases = {
      {"/send", "{not json", "invalid JSON: "},
      {"/send", "", "invalid JSON: "},
      {"/send", "[1,2]", "request body must be a JSON object"},
      {"/send", "\"text\"", "request body must be a JSON object"},
      {"/send", R"({"from_alias":"a","to_alias":"bob"})", "from_alias, to_alias, and content"},
      {"/send", R"({"from_alias":"a","to_alias":"bob","content":7})", "content must be a string"},
      {"/send", R"({"from_alias":"a","to_alias":["bob"],"content":"x"})",
       "to_alias must be a string"},
      {"/send_all", R"({"from_alias":"a","content":"x","message_id":{}})", "message_id must be"},
      {"/poll_inbox", R"({"node_id":"nb"})", "node_id and session_id are required"},
      {"/join_room", R"({"alias":"bob","room_id":"bad room"})", "invalid room_id"},
      {"/send_room", R"({"from_alias":"bob","room_id":"r","content":"x","envelope":"e"})",
       "envelope must be an object"},
      {"/room_history", R"({"limit":5})", "room_id is required"},
      {"/room_history", R"({"room_id":"r","limit":"5"})", "limit must be a number"},
  };
  for (const auto& c : cases) {
    auto r = h.call("POST", c.path, c.body);
    EXPECT_EQ(r.status, 400) << c.path << " " << c.body;
    EXPECT_EQ(r.code(), "bad_request") << c.body;
    EXPECT_EQ(r.body["error"].get<std::string>().rfind(c.error_prefix, 0), 0u)
        << c.body << " -> " << r.body["error"];
  }
  EXPECT_EQ(h.store->queued_messages(), 0u);
  EXPECT_TRUE(h.store->list_rooms().empty());
  EXPECT_TRUE(h.store->dead_letters().empty());
}

}  // namespace
}  // namespace c2c::relay::testing
