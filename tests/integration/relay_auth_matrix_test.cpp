// The auth matrix against a real relay process: every route x {dev, prod} x {no credential,
// Bearer, valid Ed25519, invalid Ed25519, replayed nonce, skewed ts} -> exact status and
// error_code (docs/protocol.md §2 with docs/decisions.md D3: inbox reads are peer routes).
#include "relay_http.hpp"

namespace c2c::relay::itest {
namespace {

enum class Cls { kUnauth, kSelf, kPeer, kAdmin, kMetrics };
enum class Cred { kNone, kBearer, kValid, kInvalid, kReplay, kSkewed };

const char* name(Cred c) {
  switch (c) {
    case Cred::kNone:
      return "none";
    case Cred::kBearer:
      return "bearer";
    case Cred::kValid:
      return "valid-ed25519";
    case Cred::kInvalid:
      return "invalid-ed25519";
    case Cred::kReplay:
      return "replayed-nonce";
    case Cred::kSkewed:
      return "skewed-ts";
  }
  return "?";
}

struct Route {
  std::string method;
  std::string target;
  Json body;  // null: no body
  Cls cls;
  int pass_status = 200;           // what the handler answers once the gate lets the request in
  std::string pass_code = "";      // its error_code, if any
  bool names_bound_alias = false;  // self route naming alice, whose alias is bound to her key
};

struct Outcome {
  int status;
  std::string code;
};

Outcome expected(const Route& r, bool prod, Cred c) {
  const Outcome pass{r.pass_status, r.pass_code};
  const Outcome unauthorized{401, "unauthorized"};
  Cls cls = r.cls;
  if (cls == Cls::kMetrics) cls = prod ? Cls::kAdmin : Cls::kUnauth;
  if (cls == Cls::kUnauth) return pass;  // headers ignored
  if (cls == Cls::kSelf) {
    // Headers are optional; a failing one is ignored. But in prod an alias bound to a key can
    // only be named by a request it signed (security review S2).
    if (prod && r.names_bound_alias && c != Cred::kValid) return {401, "unsigned_room_op"};
    return pass;
  }
  switch (c) {
    case Cred::kNone:
      return prod ? unauthorized : pass;
    case Cred::kBearer:
      // Bearer is the admin credential; on peer routes prod refuses it, dev ignores it.
      return cls == Cls::kAdmin || !prod ? pass : unauthorized;
    case Cred::kValid:
      return cls == Cls::kAdmin ? unauthorized : pass;
    case Cred::kInvalid:
      return {401, "signature_invalid"};
    case Cred::kReplay:
      return {401, "nonce_replay"};
    case Cred::kSkewed:
      return {401, "timestamp_out_of_window"};
  }
  return {0, ""};
}

std::vector<Route> routes(const std::string& bob_pk) {
  const Json a = session("node-a", "sess-a");
  return {
      {"GET", "/health", nullptr, Cls::kUnauth},
      {"GET", "/", nullptr, Cls::kUnauth},
      {"GET", "/list_rooms", nullptr, Cls::kUnauth},
      {"POST", "/room_history", {{"room_id", "lounge"}}, Cls::kUnauth},
      {"GET", "/metrics", nullptr, Cls::kMetrics},
      {"POST",
       "/register",
       {{"node_id", "node-c"}, {"session_id", "sess-c"}, {"alias", "carol"}},
       Cls::kSelf},
      {"POST",
       "/join_room",
       {{"alias", "alice"}, {"room_id", "lounge"}},
       Cls::kSelf,
       200,
       "",
       true},
      {"POST", "/leave_room", {{"alias", "dave"}, {"room_id", "lounge"}}, Cls::kSelf},
      {"POST",
       "/send_room",
       {{"from_alias", "alice"}, {"room_id", "lounge"}, {"content", "hi room"}},
       Cls::kSelf,
       200,
       "",
       true},
      {"POST",
       "/set_room_visibility",
       {{"alias", "alice"}, {"room_id", "lounge"}, {"visibility", "public"}},
       Cls::kSelf,
       200,
       "",
       true},
      {"POST", "/heartbeat", a, Cls::kPeer},
      {"GET", "/list", nullptr, Cls::kPeer},
      {"POST",
       "/send",
       {{"from_alias", "alice"}, {"to_alias", "bob"}, {"content", "hi"}},
       Cls::kPeer},
      {"POST", "/send_all", {{"from_alias", "alice"}, {"content", "hi all"}}, Cls::kPeer},
      {"POST",
       "/send_batch",
       {{"from_alias", "alice"}, {"messages", {{{"to_alias", "bob"}, {"content", "hi"}}}}},
       Cls::kPeer},
      {"POST", "/poll_inbox", a, Cls::kPeer},
      {"POST", "/peek_inbox", a, Cls::kPeer},
      {"POST", "/stream", {{"node_id", "node-a"}, {"wait", 0}}, Cls::kPeer},
      {"POST",
       "/invite_room",
       {{"alias", "alice"}, {"room_id", "lounge"}, {"invitee_pk", bob_pk}},
       Cls::kPeer},
      {"POST",
       "/uninvite_room",
       {{"alias", "alice"}, {"room_id", "lounge"}, {"invitee_pk", bob_pk}},
       Cls::kPeer},
      {"GET", "/pubkey/alice", nullptr, Cls::kPeer},
      {"GET", "/nope", nullptr, Cls::kPeer, 404, "not_found"},
      {"GET", "/list?include_dead=1", nullptr, Cls::kAdmin},
      {"POST", "/gc", nullptr, Cls::kAdmin},
      {"GET", "/dead_letter", nullptr, Cls::kAdmin},
      {"POST", "/admin/unbind", {{"alias", "nobody"}}, Cls::kAdmin},
  };
}

void run_matrix(bool prod) {
  test::TempDir dir;
  std::vector<std::string> args;
  if (prod) {
    test::write_private_file(dir / "token", "matrix-token\n");
    args = {"--token-file", (dir / "token").string()};
  }
  auto relay = test::start_relay(args, relay_env());
  Http http(relay.url);
  const auto alice = key(1), bob = key(2), stranger = key(3);
  ASSERT_TRUE(http.register_alias("alice", "node-a", "sess-a", &alice).ok());
  ASSERT_TRUE(http.register_alias("bob", "node-b", "sess-b", &bob).ok());
  const std::string join = Json{{"alias", "alice"}, {"room_id", "lounge"}}.dump();
  ASSERT_TRUE(http.call("POST", "/join_room", join,
                        {{"Authorization", crypto::sign_request(alice, "alice", "POST",
                                                                "/join_room", "", join, now())}})
                  .ok());

  int checked = 0;
  for (const Route& r : routes(pk_of(bob))) {
    const std::string body = r.body.is_null() ? "" : r.body.dump();
    const auto q = r.target.find('?');
    const std::string path = r.target.substr(0, q);
    // Clients sign the canonical query (sorted pairs); "" when there is none.
    const std::string query =
        q == std::string::npos ? "" : crypto::canonical_query(r.target.substr(q + 1));
    for (Cred c :
         {Cred::kNone, Cred::kBearer, Cred::kValid, Cred::kInvalid, Cred::kReplay, Cred::kSkewed}) {
      SCOPED_TRACE(std::string(prod ? "prod " : "dev ") + r.method + " " + r.target + " with " +
                   name(c));
      std::vector<net::Header> headers;
      switch (c) {
        case Cred::kNone:
          break;
        case Cred::kBearer:
          headers.push_back({"Authorization", prod ? "Bearer matrix-token" : "Bearer anything"});
          break;
        case Cred::kValid:
        case Cred::kReplay:
          headers.push_back({"Authorization", crypto::sign_request(alice, "alice", r.method, path,
                                                                   query, body, now())});
          break;
        case Cred::kInvalid:
          headers.push_back({"Authorization", crypto::sign_request(stranger, "alice", r.method,
                                                                   path, query, body, now())});
          break;
        case Cred::kSkewed:
          headers.push_back({"Authorization", crypto::sign_request(alice, "alice", r.method, path,
                                                                   query, body, now() - 60)});
          break;
      }
      if (c == Cred::kReplay) http.call(r.method, r.target, body, headers);  // first use
      const Reply got = http.call(r.method, r.target, body, headers);
      const Outcome want = expected(r, prod, c);
      EXPECT_EQ(got.status, want.status) << got.raw;
      EXPECT_EQ(got.code(), want.code) << got.raw;
      if (want.status == 200 && r.cls != Cls::kMetrics && r.target != "/") {
        EXPECT_TRUE(got.ok()) << got.raw;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 26 * 6);  // 26 routes (POST /stream included) x 6 credentials
  EXPECT_EQ(stop_relay(relay), 0);
}

TEST(RelayAuthMatrix, DevMode) {
  run_matrix(false);
}
TEST(RelayAuthMatrix, ProdMode) {
  run_matrix(true);
}

}  // namespace
}  // namespace c2c::relay::itest
