// SQLite storage survives a restart: leases, key bindings, queued inbox messages, rooms,
// memberships, visibility and invites, history, the dedup window, dead letters, nonces.
// And an acknowledged write survives even SIGKILL (acknowledged only after commit).
#include "relay_http.hpp"

namespace c2c::relay::itest {
namespace {

std::vector<std::string> sqlite_args(const test::TempDir& dir) {
  return {"--storage", "sqlite", "--db-path", (dir / "relay.db").string()};
}

TEST(RelaySqliteRestart, EveryItemSurvives) {
  test::TempDir dir;
  const auto alice = key(1), bob = key(2), carol = key(3), dave = key(4);
  std::string replay_header;
  const std::string replay_body = session("nb", "sb").dump();
  {
    auto relay = test::start_relay(sqlite_args(dir), relay_env());
    Http http(relay.url);
    ASSERT_TRUE(http.register_alias("alice", "na", "sa", &alice).ok());
    ASSERT_TRUE(http.register_alias("bob", "nb", "sb", &bob).ok());
    ASSERT_TRUE(http.register_alias("carol", "nc", "sc", &carol).ok());
    ASSERT_TRUE(http.register_alias("dave", "nd", "sd", &dave).ok());
    ASSERT_TRUE(http.post("/register",
                          {{"node_id", "ne"}, {"session_id", "se"}, {"alias", "eve"}, {"ttl", 1}})
                    .ok());
    // Rooms: alice and bob in an invite-only room that invites carol.
    ASSERT_TRUE(http.post("/join_room", {{"alias", "alice"}, {"room_id", "vip"}}).ok());
    ASSERT_TRUE(http.post("/join_room", {{"alias", "bob"}, {"room_id", "vip"}}).ok());
    ASSERT_TRUE(http.post("/set_room_visibility",
                          {{"alias", "alice"}, {"room_id", "vip"}, {"visibility", "invite"}})
                    .ok());
    ASSERT_TRUE(http.post("/invite_room",
                          {{"alias", "alice"}, {"room_id", "vip"}, {"invitee_pk", pk_of(carol)}})
                    .ok());
    ASSERT_TRUE(http.post("/send_room",
                          {{"from_alias", "alice"}, {"room_id", "vip"}, {"content", "room line"}})
                    .ok());
    ASSERT_TRUE(http.post("/poll_inbox", session("nb", "sb")).ok());  // clear bob's inbox
    // Queued messages and the dedup window.
    for (const char* id : {"m1", "m2", "m3"}) {
      ASSERT_TRUE(http.post("/send", {{"from_alias", "alice"},
                                      {"to_alias", "bob"},
                                      {"content", std::string("dm ") + id},
                                      {"message_id", id}})
                      .ok());
    }
    // A dead letter.
    EXPECT_EQ(
        http.post("/send", {{"from_alias", "alice"}, {"to_alias", "ghost"}, {"content", "lost"}})
            .code(),
        "unknown_alias");
    // A signed request whose nonce must still be remembered after the restart.
    replay_header = crypto::sign_request(bob, "bob", "POST", "/peek_inbox", "", replay_body, now());
    ASSERT_EQ(
        http.call("POST", "/peek_inbox", replay_body, {{"Authorization", replay_header}}).status,
        200);
    EXPECT_EQ(stop_relay(relay), 0);
  }

  auto relay = test::start_relay(sqlite_args(dir), relay_env());
  Http http(relay.url);
  // Leases (eve's 1 s lease has expired by now but is still listed with include_dead).
  auto all = http.get("/list?include_dead=1").body["peers"];
  std::set<std::string> aliases;
  for (const auto& p : all) aliases.insert(p["alias"]);
  EXPECT_EQ(aliases, (std::set<std::string>{"alice", "bob", "carol", "dave", "eve"}));
  EXPECT_TRUE(http.post("/heartbeat", session("na", "sa")).ok()) << "session still known";
  // Bindings: bob's key still owns bob.
  EXPECT_EQ(http.get("/pubkey/bob").body["ed25519_pubkey"], pk_of(bob));
  EXPECT_EQ(http.register_alias("bob", "nb", "sb", &alice).code(), "alias_identity_mismatch");
  // Nonces: the pre-restart signed request cannot be replayed.
  EXPECT_EQ(
      http.call("POST", "/peek_inbox", replay_body, {{"Authorization", replay_header}}).code(),
      "nonce_replay");
  // Queued inbox messages, in order.
  auto msgs = http.post("/peek_inbox", session("nb", "sb")).body["messages"];
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0]["content"], "dm m1");
  EXPECT_EQ(msgs[2]["message_id"], "m3");
  // Dedup window.
  EXPECT_EQ(http.post("/send", {{"from_alias", "alice"},
                                {"to_alias", "bob"},
                                {"content", "again"},
                                {"message_id", "m2"}})
                .body["result"],
            "duplicate");
  // Rooms, memberships, visibility (an invite-only room is listed for a member only).
  EXPECT_TRUE(http.get("/list_rooms").body["rooms"].empty());
  auto rooms = http.get("/list_rooms?alias=alice").body["rooms"];
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0]["room_id"], "vip");
  EXPECT_EQ(rooms[0]["members"], Json::array({"alice", "bob"}));
  EXPECT_EQ(rooms[0]["visibility"], "invite");
  // Invites: carol is invited, dave is not.
  EXPECT_EQ(http.post("/join_room", {{"alias", "dave"}, {"room_id", "vip"}}).code(), "not_invited");
  Json carol_join = Http::room_proof(crypto::kCtxRoomJoin, carol, "vip", "carol");
  carol_join["alias"] = "carol";
  carol_join["room_id"] = "vip";
  EXPECT_TRUE(http.post("/join_room", carol_join).ok());
  // History (with the join notices).
  auto hist = http.post("/room_history", {{"room_id", "vip"}, {"alias", "alice"}}).body["history"];
  ASSERT_GE(hist.size(), 3u);
  EXPECT_EQ(hist[2]["content"], "room line");
  // Dead letters.
  auto dl = http.get("/dead_letter").body["dead_letter"];
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0]["to_alias"], "ghost");
  EXPECT_EQ(dl[0]["reason"], "unknown_alias");
  EXPECT_EQ(stop_relay(relay), 0);
}

TEST(RelaySqliteRestart, AcknowledgedMessagesSurviveSigkill) {
  test::TempDir dir;
  constexpr int kMessages = 50;
  {
    auto relay = test::start_relay(sqlite_args(dir), relay_env());
    Http http(relay.url);
    ASSERT_TRUE(http.register_alias("bob", "nb", "sb").ok());
    for (int i = 0; i < kMessages; ++i) {
      ASSERT_TRUE(
          http.post("/send",
                    {{"from_alias", "alice"}, {"to_alias", "bob"}, {"content", std::to_string(i)}})
              .ok());
    }
    relay.child->signal(SIGKILL);
    EXPECT_EQ(relay.child->wait(std::chrono::seconds(20)), 128 + SIGKILL);
  }
  auto relay = test::start_relay(sqlite_args(dir), relay_env());
  Http http(relay.url);
  auto msgs = http.post("/poll_inbox", session("nb", "sb")).body["messages"];
  ASSERT_EQ(msgs.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(msgs[i]["content"], std::to_string(i));
  EXPECT_EQ(stop_relay(relay), 0);
}

TEST(RelaySqliteRestart, GcAlsoRemovesMembershipsDurably) {
  test::TempDir dir;
  {
    auto relay = test::start_relay(sqlite_args(dir), relay_env());
    Http http(relay.url);
    ASSERT_TRUE(http.post("/register",
                          {{"node_id", "n"}, {"session_id", "s"}, {"alias", "brief"}, {"ttl", 1}})
                    .ok());
    ASSERT_TRUE(http.post("/join_room", {{"alias", "brief"}, {"room_id", "r"}}).ok());
    // Wait for the 1 s lease to expire: /list (live only) is the readiness signal.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!http.get("/list").body["peers"].empty() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    auto gc = http.post("/gc", Json::object());
    EXPECT_EQ(gc.body["expired"], Json::array({"brief"}));
    EXPECT_EQ(stop_relay(relay), 0);
  }
  auto relay = test::start_relay(sqlite_args(dir), relay_env());
  Http http(relay.url);
  auto rooms = http.get("/list_rooms").body["rooms"];
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0]["member_count"], 0);
  EXPECT_TRUE(http.get("/list?include_dead=1").body["peers"].empty());
  EXPECT_EQ(stop_relay(relay), 0);
}

}  // namespace
}  // namespace c2c::relay::itest
