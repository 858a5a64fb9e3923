// Hostile and malformed input against a real relay: every case gets its exact status and
// error_code, and afterwards nothing was stored (peers, inboxes, rooms, history, dead letters).
#include <chrono>

#include "relay_http.hpp"

namespace c2c::relay::itest {
namespace {

struct Case {
  std::string path;
  std::string body;
  int status;
  std::string code;
};

std::vector<Case> cases() {
  const std::string big_content(300 * 1024, 'x');
  const std::string huge_body(1100 * 1024, ' ');  // over the 1 MiB default
  return {
      // Unparsable JSON.
      {"/send", "{\"from_alias\":", 400, "bad_request"},
      {"/send", "", 400, "bad_request"},
      {"/register", "not json at all", 400, "bad_request"},
      {"/send_room", "{\"a\":1}}", 400, "bad_request"},
      {"/poll_inbox", "\xff\xfe", 400, "bad_request"},
      // JSON that is not an object.
      {"/send", "[]", 400, "bad_request"},
      {"/register", "\"alice\"", 400, "bad_request"},
      {"/join_room", "42", 400, "bad_request"},
      {"/poll_inbox", "null", 400, "bad_request"},
      // Missing fields.
      {"/register", R"({"node_id":"n","alias":"mallory"})", 400, "bad_request"},
      {"/send", R"({"from_alias":"alice","to_alias":"bob"})", 400, "bad_request"},
      {"/send", R"({"from_alias":"alice","to_alias":"bob","content":""})", 400, "bad_request"},
      {"/send_all", R"({"content":"x"})", 400, "bad_request"},
      {"/send_batch", R"({"messages":[]})", 400, "bad_request"},
      {"/send_batch", R"({"from_alias":"alice"})", 400, "bad_request"},
      {"/send_batch", R"({"from_alias":"alice","messages":{}})", 400, "bad_request"},
      {"/join_room", R"({"alias":"alice"})", 400, "bad_request"},
      {"/send_room", R"({"from_alias":"alice","content":"x"})", 400, "bad_request"},
      {"/room_history", R"({})", 400, "bad_request"},
      {"/heartbeat", R"({"session_id":"s"})", 400, "bad_request"},
      {"/peek_inbox", R"({"node_id":"na"})", 400, "bad_request"},
      // Numbers JSON cannot hold in a double (found by the relay_router fuzzer: was a 500).
      {"/register", R"({"node_id":"n","session_id":"s","alias":"mallory","ttl":1e999})", 400,
       "bad_request"},
      {"/send", R"({"from_alias":"a","to_alias":"bob","content":"x","ts":-1e400})", 400,
       "bad_request"},
      // Wrong-typed fields.
      {"/register", R"({"node_id":"n","session_id":"s","alias":["mallory"]})", 400, "bad_request"},
      {"/register", R"({"node_id":"n","session_id":"s","alias":"mallory","ttl":"300"})", 400,
       "bad_request"},
      {"/send", R"({"from_alias":"alice","to_alias":"bob","content":{"text":"x"}})", 400,
       "bad_request"},
      {"/send", R"({"from_alias":"alice","to_alias":"bob","content":"x","message_id":7})", 400,
       "bad_request"},
      {"/poll_inbox", R"({"node_id":"nb","session_id":"sb","message_ids":"m1"})", 400,
       "bad_request"},
      {"/send_room", R"({"from_alias":"alice","room_id":"lounge","content":"x","envelope":[]})",
       400, "bad_request"},
      {"/room_history", R"({"room_id":"lounge","limit":"all"})", 400, "bad_request"},
      {"/join_room", R"({"alias":"alice","room_id":"../../etc"})", 400, "bad_request"},
      // Partial proofs.
      {"/register", R"({"node_id":"n","session_id":"s","alias":"mallory","nonce":"abc"})", 400,
       "missing_proof_field"},
      // Oversize content and body.
      {"/send", Json{{"from_alias", "alice"}, {"to_alias", "bob"}, {"content", big_content}}.dump(),
       400, "bad_request"},
      {"/send_room",
       Json{{"from_alias", "alice"}, {"room_id", "lounge"}, {"content", big_content}}.dump(), 400,
       "bad_request"},
      {"/send", "{\"from_alias\":\"alice\",\"to_alias\":\"bob\",\"content\":\"x\"}" + huge_body,
       413, "payload_too_large"},
  };
}

TEST(RelayBadInput, EveryCaseAnswersExactlyAndStoresNothing) {
  auto relay = test::start_relay({}, relay_env());
  Http http(relay.url);
  ASSERT_TRUE(http.register_alias("alice", "na", "sa").ok());
  ASSERT_TRUE(http.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(http.post("/join_room", {{"alias", "alice"}, {"room_id", "lounge"}}).ok());
  ASSERT_TRUE(http.post("/join_room", {{"alias", "bob"}, {"room_id", "lounge"}}).ok());
  ASSERT_TRUE(http.post("/poll_inbox", session("na", "sa")).ok());  // drop the join notices
  ASSERT_TRUE(http.post("/poll_inbox", session("nb", "sb")).ok());
  const Json peers_before = http.get("/list").body["peers"];
  const Json rooms_before = http.get("/list_rooms").body["rooms"];
  const Json history_before = http.post("/room_history", {{"room_id", "lounge"}}).body["history"];

  for (const auto& c : cases()) {
    SCOPED_TRACE(c.path + " " + c.body.substr(0, 80));
    Http fresh(relay.url);  // a 413 may close the connection
    auto r = fresh.call("POST", c.path, c.body);
    EXPECT_EQ(r.status, c.status) << r.raw.substr(0, 300);
    EXPECT_EQ(r.code(), c.code) << r.raw.substr(0, 300);
    ASSERT_TRUE(r.body.is_object()) << r.raw.substr(0, 300);
    EXPECT_EQ(r.body.value("ok", true), false);
    EXPECT_FALSE(r.body.value("error", std::string()).empty());
  }

  // Nothing was stored or changed.
  auto peers_after = http.get("/list").body["peers"];
  ASSERT_EQ(peers_after.size(), peers_before.size());
  for (size_t i = 0; i < peers_after.size(); ++i) {
    EXPECT_EQ(peers_after[i]["alias"], peers_before[i]["alias"]);
  }
  EXPECT_EQ(http.get("/list_rooms").body["rooms"], rooms_before);
  EXPECT_EQ(http.post("/room_history", {{"room_id", "lounge"}}).body["history"], history_before);
  EXPECT_TRUE(http.post("/peek_inbox", session("nb", "sb")).body["messages"].empty());
  EXPECT_TRUE(http.post("/peek_inbox", session("na", "sa")).body["messages"].empty());
  EXPECT_TRUE(http.get("/dead_letter").body["dead_letter"].empty());
  // And the relay still works.
  EXPECT_TRUE(
      http.post("/send", {{"from_alias", "alice"}, {"to_alias", "bob"}, {"content", "ok"}}).ok());
  EXPECT_EQ(http.post("/peek_inbox", session("nb", "sb")).body["messages"].size(), 1u);
  EXPECT_EQ(stop_relay(relay), 0);
}

TEST(RelayBadInput, RateLimitAnswers429WithRetryAfter) {
  auto relay = test::start_relay({"--rate-limit", "on"}, relay_env());
  Http http(relay.url);
  int ok = 0;
  Reply denied;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000 && denied.status != 429; ++i) {
    auto r = http.get("/pubkey/nobody");
    if (r.status == 404) ++ok;
    if (r.status == 429) denied = r;
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The /pubkey bucket holds 100 and refills 10 per second: on a slow (sanitized, loaded)
  // machine a few tokens come back while the loop runs, never more than the refill allows.
  EXPECT_GE(ok, 100) << "at least the /pubkey bucket's capacity";
  EXPECT_LE(ok, 100 + static_cast<int>(10 * elapsed) + 1) << "elapsed " << elapsed << " s";
  ASSERT_EQ(denied.status, 429);
  EXPECT_EQ(denied.body["ok"], false);
  EXPECT_EQ(denied.code(), "rate_limit_exceeded");
  EXPECT_GT(denied.body["retry_after"].get<double>(), 0);
  EXPECT_EQ(denied.header("Retry-After"), "1");
  EXPECT_EQ(http.get("/health").status, 200) << "other route classes are unaffected";
  EXPECT_EQ(stop_relay(relay), 0);
}

}  // namespace
}  // namespace c2c::relay::itest
