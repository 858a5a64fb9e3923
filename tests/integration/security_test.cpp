// Security review checks that other suites do not already cover (docs/security.md maps every
// review point to its test). Real `c2c relay serve` processes; the broker through its API.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"
#include "c2c/crypto/crypto.hpp"
#include "c2c/crypto/request_auth.hpp"
#include "relay_caller.hpp"
#include "support/process.hpp"
#include "support/relay_proofs.hpp"
#include "support/temp_dir.hpp"

namespace c2c::itest {
namespace {

namespace fs = std::filesystem;

constexpr const char* kToken = "tok-7f3a9c2e5b1d4086a1c3e5f7091b2d4f";

double now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

crypto::KeyPair key(uint8_t fill) {
  crypto::Seed seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(fill * 13 + i);
  return crypto::KeyPair::from_seed(seed);
}

using test::pk_of;

test::ProcessOptions relay_env() {
  test::ProcessOptions o;
  o.unset_env = {"C2C_RELAY_TOKEN", "C2C_RELAY_PERSIST_DIR", "C2C_REQUIRE_SIGNED_ROOM_OPS"};
  return o;
}

// A token file the way the quickstart makes one (chmod 600).
std::string token_file(const test::TempDir& dir, const std::string& token = kToken) {
  const fs::path p = dir / "relay.token";
  test::write_file(p, token + "\n");
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
  return p.string();
}

Json register_body(const std::string& url, const std::string& alias, const std::string& node,
                   const std::string& session, const crypto::KeyPair* k) {
  Json b = {{"node_id", node}, {"session_id", session}, {"alias", alias}};
  if (k) test::add_register_proof(b, *k, alias, url, now());
  return b;
}

Answer signed_post(Caller& http, const crypto::KeyPair& k, const std::string& alias,
                   const std::string& path, const Json& body) {
  const std::string text = body.dump();
  return http.call(
      "POST", path, text,
      {{"Authorization", crypto::sign_request(k, alias, "POST", path, "", text, now())}});
}

TEST(SecurityReview, TokenNeverAppearsInVerboseLogsOrResponses) {
  test::TempDir dir;
  auto relay = test::start_relay({"--token-file", token_file(dir), "--verbose"}, relay_env());
  Caller http(relay.url);
  const auto alice = key(1);
  std::vector<Answer> answers;
  const std::vector<net::Header> bearer = {{"Authorization", std::string("Bearer ") + kToken}};
  answers.push_back(http.post("/register", register_body(relay.url, "alice", "na", "sa", &alice)));
  answers.push_back(
      signed_post(http, alice, "alice", "/send",
                  {{"from_alias", "alice"}, {"to_alias", "alice"}, {"content", "x"}}));
  answers.push_back(
      signed_post(http, alice, "alice", "/poll_inbox", {{"node_id", "na"}, {"session_id", "sa"}}));
  answers.push_back(http.get("/list?include_dead=1", bearer));
  answers.push_back(http.get("/dead_letter", bearer));
  answers.push_back(http.get("/metrics", bearer));
  answers.push_back(http.call("POST", "/gc", "", bearer));
  answers.push_back(http.post("/send", {{"from_alias", "a"}, {"to_alias", "b"}, {"content", "x"}},
                              bearer));  // Bearer on a peer route: refused
  answers.push_back(http.get("/gc", {{"Authorization", std::string("Bearer ") + kToken + "x"}}));
  answers.push_back(http.get("/"));
  answers.push_back(http.get("/health"));
  for (const auto& a : answers) {
    ASSERT_TRUE(a.transport_ok);
    EXPECT_EQ(a.raw.find(kToken), std::string::npos) << "token in a response: " << a.raw;
  }
  EXPECT_EQ(answers[3].status, 200);
  EXPECT_EQ(answers[7].status, 401);
  relay.child->signal(SIGTERM);
  EXPECT_EQ(relay.child->wait(std::chrono::seconds(20)), 0);
  const std::string logs = relay.child->out() + relay.child->err();
  EXPECT_NE(logs.find("/dead_letter"), std::string::npos) << "--verbose logs requests:\n" << logs;
  EXPECT_EQ(logs.find(kToken), std::string::npos) << "the token leaked into the logs:\n" << logs;
  // Nor the private key material of a client, nor a whole signature header.
  EXPECT_EQ(logs.find("sig="), std::string::npos) << logs;
}

TEST(SecurityReview, TokenOnTheCommandLineIsWarnedAboutButNotEchoed) {
  auto relay = test::start_relay({"--token", kToken}, relay_env());
  EXPECT_TRUE(relay.child->wait_for_err_line(
      [](const std::string& l) {
        return l.find("warning") != std::string::npos &&
               l.find("--token-file") != std::string::npos;
      },
      std::chrono::seconds(10)));
  relay.child->signal(SIGTERM);
  EXPECT_EQ(relay.child->wait(std::chrono::seconds(20)), 0);
  EXPECT_EQ((relay.child->out() + relay.child->err()).find(kToken), std::string::npos);
}

// Client environment: a private HOME, nothing inherited from the developer's shell.
test::ProcessOptions client_env(const test::TempDir& dir) {
  test::ProcessOptions o;
  o.unset_env = {"C2C_RELAY_TOKEN",   "C2C_RELAY_URL",           "C2C_RELAY_CONFIG",
                 "C2C_RELAY_NODE_ID", "C2C_RELAY_IDENTITY_PATH", "C2C_MCP_BROKER_ROOT",
                 "XDG_CONFIG_HOME",   "XDG_STATE_HOME"};
  o.env["HOME"] = (dir / "home").string();
  o.timeout = std::chrono::seconds(30);
  return o;
}

TEST(SecurityReview, ClientCommandsWarnAboutATokenOnTheCommandLine) {
  test::TempDir dir;
  fs::create_directories(dir / "home");
  // Nothing listens on port 9: the commands fail, after resolving (and warning about) the token.
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"relay", "status"},
        {"relay", "list"},
        {"relay", "gc", "--once"},
        {"relay", "connect", "--once", "--broker-root", (dir / "broker").string()}}) {
    auto args = cmd;
    args.insert(args.end(), {"--relay-url", "http://127.0.0.1:9", "--token", kToken});
    auto r = test::run_c2c(args, client_env(dir));
    EXPECT_NE(r.err.find("warning: --token"), std::string::npos) << cmd[1] << ": " << r.err;
    EXPECT_NE(r.err.find("--token-file"), std::string::npos) << cmd[1] << ": " << r.err;
    EXPECT_EQ((r.out + r.err).find(kToken), std::string::npos) << cmd[1] << " echoed the token";
  }
}

// D13: a signing command creates the machine identity when there is none. Several started at
// the same moment on a fresh machine (two connectors, connect + rooms join) must end up with
// ONE identity that all of them use: otherwise aliases get bound to a key that is no longer on
// disk and every later signed request from this machine is refused.
TEST(SecurityReview, ConcurrentFirstRunsCreateExactlyOneIdentity) {
  test::TempDir dir;
  fs::create_directories(dir / "home");
  constexpr int kProcs = 8;
  std::vector<std::unique_ptr<test::Child>> procs;
  for (int i = 0; i < kProcs; ++i) {
    fs::create_directories(dir / ("broker" + std::to_string(i)));
    procs.push_back(std::make_unique<test::Child>(
        std::vector<std::string>{test::c2c_bin(), "relay", "connect", "--once", "--relay-url",
                                 "http://127.0.0.1:9", "--broker-root",
                                 (dir / ("broker" + std::to_string(i))).string()},
        client_env(dir)));
  }
  std::set<std::string> fingerprints;
  int created = 0;
  for (auto& p : procs) {
    p->wait(std::chrono::seconds(30));
    const std::string err = p->err();
    EXPECT_EQ(err.find("cannot rename"), std::string::npos) << err;
    EXPECT_NE(err.find("UNREACHABLE"), std::string::npos) << "got past the identity: " << err;
    const auto at = err.find("(fingerprint ");
    if (at != std::string::npos) {
      ++created;
      fingerprints.insert(err.substr(at + 13, err.find(')', at) - at - 13));
    }
  }
  EXPECT_EQ(created, 1) << "each creator believes its own new key is the machine's";
  auto show = test::run_c2c({"relay", "identity", "show", "--json"}, client_env(dir));
  ASSERT_EQ(show.exit_code, 0) << show.err;
  ASSERT_EQ(fingerprints.size(), 1u);
  EXPECT_NE(show.out.find(*fingerprints.begin()), std::string::npos)
      << "the identity on disk is not the one that was announced: " << show.out;
}

// S3 (docs/security.md): relay.json may hold the token; it is written 0600, and a copy others can
// read is refused.
TEST(SecurityReview, RelayConfigReadableByOthersIsRefused) {
  test::TempDir dir;
  fs::create_directories(dir / "home");
  auto setup = test::run_c2c(
      {"relay", "setup", "--url", "http://127.0.0.1:9", "--token-file", token_file(dir)},
      client_env(dir));
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  const fs::path cfg = dir / "home" / ".config" / "c2c" / "relay.json";
  ASSERT_TRUE(fs::exists(cfg));
  fs::permissions(cfg, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  auto r = test::run_c2c({"relay", "status"}, client_env(dir));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("0644"), std::string::npos) << r.err;
}

// Code review: Authenticator::bearer_matches (relay/server/auth.cpp) splits "Bearer <token>" and
// compares with crypto::constant_time_equal (sodium_memcmp): no early exit on the first differing
// byte; only the length is compared first (a token's length is not a secret worth hiding).
// Here: every near miss fails, including same-length tokens differing in one byte anywhere.
TEST(SecurityReview, BearerComparisonRejectsEveryNearMiss) {
  test::TempDir dir;
  auto relay = test::start_relay({"--token-file", token_file(dir)}, relay_env());
  Caller http(relay.url);
  const std::string t = kToken;
  auto flip = [&](size_t i) {
    std::string s = t;
    s[i] = s[i] == 'a' ? 'b' : 'a';
    return s;
  };
  std::vector<std::string> wrong = {flip(0),
                                    flip(t.size() / 2),
                                    flip(t.size() - 1),
                                    t.substr(1),
                                    t + "0",
                                    t.substr(0, t.size() - 1),
                                    casefold(t) == t ? std::string(t.size(), 'A') : casefold(t),
                                    std::string(t.size(), '\0'),
                                    ""};
  for (const auto& w : wrong) {
    auto a = http.call("POST", "/gc", "", {{"Authorization", "Bearer " + w}});
    // NUL bytes in a header are already refused by the HTTP parser (400).
    const int want = w.find('\0') == std::string::npos ? 401 : 400;
    EXPECT_EQ(a.status, want) << "wrong token of length " << w.size() << ": " << a.raw;
  }
  for (const std::string& header :
       std::vector<std::string>{"bearer " + t, "Bearer  " + t, "Token " + t, t, "Bearer"}) {
    EXPECT_EQ(http.call("POST", "/gc", "", {{"Authorization", header}}).status, 401) << header;
  }
  EXPECT_EQ(http.call("POST", "/gc", "", {{"Authorization", "Bearer " + t}}).status, 200);
  relay.child->signal(SIGTERM);
  EXPECT_EQ(relay.child->wait(std::chrono::seconds(20)), 0);
}

// Prod mode, end to end: an attacker tries to take alice's alias (unsigned, with another key,
// from another node, after her lease expired) and to read her inbox; alice keeps her alias and
// receives every message sent to her.
TEST(SecurityReview, AliasTakeoverAttemptsFailAndTheOwnerKeepsItsMessages) {
  test::TempDir dir;
  auto relay = test::start_relay({"--token-file", token_file(dir)}, relay_env());
  Caller http(relay.url);
  const auto alice = key(1), mallory = key(2);
  ASSERT_TRUE(http.post("/register", register_body(relay.url, "alice", "na", "sa", &alice)).ok());
  ASSERT_TRUE(
      http.post("/register", register_body(relay.url, "mallory", "nm", "sm", &mallory)).ok());

  struct Attempt {
    const char* what;
    Json body;
    std::string code;
  };
  const std::vector<Attempt> attempts = {
      {"unsigned, same node", register_body(relay.url, "alice", "na", "evil", nullptr),
       "alias_identity_mismatch"},
      {"unsigned, other node", register_body(relay.url, "alice", "nm", "evil", nullptr),
       "alias_identity_mismatch"},
      {"other key, same node", register_body(relay.url, "alice", "na", "evil", &mallory),
       "alias_identity_mismatch"},
      {"other key, other node", register_body(relay.url, "alice", "nm", "evil", &mallory),
       "alias_identity_mismatch"},
  };
  for (const auto& a : attempts) {
    auto r = http.post("/register", a.body);
    EXPECT_FALSE(r.ok()) << a.what << ": " << r.raw;
    EXPECT_EQ(r.body.value("error_code", ""), a.code) << a.what << ": " << r.raw;
  }
  // A signed message to alice, then mallory's reads of alice's session.
  ASSERT_TRUE(signed_post(http, mallory, "mallory", "/send",
                          {{"from_alias", "mallory"}, {"to_alias", "alice"}, {"content", "hi"}})
                  .ok());
  const Json alices = {{"node_id", "na"}, {"session_id", "sa"}};
  EXPECT_EQ(http.post("/peek_inbox", alices).status, 401);
  EXPECT_EQ(http.post("/poll_inbox", alices).status, 401);
  EXPECT_EQ(signed_post(http, mallory, "mallory", "/peek_inbox", alices).status, 403);
  EXPECT_EQ(signed_post(http, mallory, "mallory", "/poll_inbox", alices).status, 403);
  EXPECT_EQ(signed_post(http, mallory, "alice", "/poll_inbox", alices).status, 401)
      << "mallory's key signing as alice";
  EXPECT_EQ(signed_post(http, mallory, "mallory", "/heartbeat", alices).status, 403);
  // Impersonating alice as a sender with mallory's key.
  EXPECT_EQ(signed_post(http, mallory, "mallory", "/send",
                        {{"from_alias", "alice"}, {"to_alias", "mallory"}, {"content", "spoof"}})
                .status,
            403);
  auto mine = signed_post(http, alice, "alice", "/poll_inbox", alices);
  ASSERT_TRUE(mine.ok()) << mine.raw;
  ASSERT_EQ(mine.body["messages"].size(), 1u);
  EXPECT_EQ(mine.body["messages"][0]["content"], "hi");
  // Nothing was queued for mallory under alice's name.
  auto theirs = signed_post(http, mallory, "mallory", "/poll_inbox",
                            {{"node_id", "nm"}, {"session_id", "sm"}});
  ASSERT_TRUE(theirs.ok());
  EXPECT_TRUE(theirs.body["messages"].empty()) << theirs.raw;
  relay.child->signal(SIGTERM);
  EXPECT_EQ(relay.child->wait(std::chrono::seconds(20)), 0);
}

// Room ids become directory names under --persist-dir (memory storage keeps room history in
// <dir>/rooms/<room_id>/history.jsonl): ids that could leave the directory are refused and no
// file appears outside it.
TEST(SecurityReview, RoomIdsCannotEscapeThePersistDir) {
  test::TempDir dir;
  const fs::path persist = dir / "persist";
  auto relay = test::start_relay({"--persist-dir", persist.string()}, relay_env());
  Caller http(relay.url);
  ASSERT_TRUE(
      http.post("/register", {{"alias", "alice"}, {"node_id", "n"}, {"session_id", "s"}}).ok());
  ASSERT_TRUE(http.post("/join_room", {{"alias", "alice"}, {"room_id", "ok-room"}}).ok());
  for (const std::string& bad :
       std::vector<std::string>{"..", "../escape", "../../tmp/x", "a/b", "/abs", ".", "a\\b",
                                "room%2f..", std::string("nul\0byte", 8), "~root"}) {
    for (const char* route : {"/join_room", "/leave_room"}) {
      auto a = http.post(route, {{"alias", "alice"}, {"room_id", bad}});
      EXPECT_EQ(a.status, 400) << route << " " << bad << ": " << a.raw;
    }
    auto s = http.post("/send_room", {{"from_alias", "alice"}, {"room_id", bad}, {"content", "x"}});
    EXPECT_EQ(s.status, 400) << bad << ": " << s.raw;
    auto h = http.post("/room_history", {{"room_id", bad}});
    EXPECT_EQ(h.status, 400) << bad << ": " << h.raw;
  }
  relay.child->signal(SIGTERM);
  EXPECT_EQ(relay.child->wait(std::chrono::seconds(20)), 0);
  std::set<std::string> top, rooms;
  for (const auto& e : fs::directory_iterator(dir.path())) top.insert(e.path().filename());
  EXPECT_EQ(top, (std::set<std::string>{"persist"}));
  for (const auto& e : fs::directory_iterator(persist / "rooms")) rooms.insert(e.path().filename());
  EXPECT_EQ(rooms, (std::set<std::string>{"ok-room"}));
}

// Session ids name inbox files and room ids name room directories in the broker root.
TEST(SecurityReview, BrokerSessionAndRoomIdsCannotEscapeTheRoot) {
  test::TempDir dir;
  const fs::path root = dir / "broker";
  broker::Broker b(root);
  broker::RegisterRequest ok;
  ok.session_id = "s-ok";
  ok.alias = "alice";
  ok.pid = ::getpid();
  ASSERT_TRUE(b.register_session(ok));
  for (const std::string& bad : std::vector<std::string>{
           "..", "../escape", "a/b", "/abs", ".", "x/../../y", std::string("nul\0byte", 8), ""}) {
    broker::RegisterRequest req;
    req.session_id = bad;
    req.alias = "mallory";
    req.pid = ::getpid();
    EXPECT_FALSE(b.register_session(req)) << "session id " << bad;
    EXPECT_FALSE(b.peek(bad)) << "peek " << bad;
    EXPECT_FALSE(b.join_room(bad, "alice", "s-ok")) << "room id " << bad;
    EXPECT_FALSE(b.send_room(bad, "alice", "x")) << "room id " << bad;
  }
  for (const std::string bad_alias : {"../x", "a/b", ".hidden", ""}) {
    broker::RegisterRequest req;
    req.session_id = "s-2";
    req.alias = bad_alias;
    req.pid = ::getpid();
    EXPECT_FALSE(b.register_session(req)) << "alias " << bad_alias;
  }
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(dir.path())) top.insert(e.path().filename());
  EXPECT_EQ(top, (std::set<std::string>{"broker"}));
}

// S1 (docs/security.md): a --token-file readable by other users is refused like identity.json is
// (LoadIdentity refuses 0644).
TEST(SecurityReview, TokenFileReadableByOthersIsRefused) {
  test::TempDir dir;
  const std::string path = token_file(dir);
  fs::permissions(path, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  auto env = relay_env();
  env.timeout = std::chrono::seconds(20);  // were it to start and serve, do not wait a minute
  auto r = test::run_c2c({"relay", "serve", "--listen", "127.0.0.1:0", "--token-file", path}, env);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("0644"), std::string::npos) << r.err;
}

// S2 (docs/security.md): in prod mode the room routes are self-auth, but an unsigned request may
// not act for an alias bound to a key (D3's rule for /register, applied to rooms): nobody can
// post as, or remove, a key-bound member.
TEST(SecurityReview, UnsignedRoomOpsCannotActForAKeyBoundAliasInProd) {
  test::TempDir dir;
  auto relay = test::start_relay({"--token-file", token_file(dir)}, relay_env());
  Caller http(relay.url);
  const auto alice = key(1), bob = key(3);
  ASSERT_TRUE(http.post("/register", register_body(relay.url, "alice", "na", "sa", &alice)).ok());
  ASSERT_TRUE(http.post("/register", register_body(relay.url, "bob", "nb", "sb", &bob)).ok());
  ASSERT_TRUE(
      signed_post(http, alice, "alice", "/join_room", {{"alias", "alice"}, {"room_id", "lounge"}})
          .ok());
  ASSERT_TRUE(
      signed_post(http, bob, "bob", "/join_room", {{"alias", "bob"}, {"room_id", "lounge"}}).ok());
  // Unsigned: post as alice, remove bob, join elsewhere as alice, flip visibility.
  const std::vector<std::pair<std::string, Json>> spoofs = {
      {"/send_room", {{"from_alias", "alice"}, {"room_id", "lounge"}, {"content", "spoofed"}}},
      {"/leave_room", {{"alias", "bob"}, {"room_id", "lounge"}}},
      {"/join_room", {{"alias", "alice"}, {"room_id", "elsewhere"}}},
      {"/set_room_visibility",
       {{"alias", "alice"}, {"room_id", "lounge"}, {"visibility", "invite"}}}};
  for (const auto& [path, body] : spoofs) {
    const auto a = http.post(path, body);
    EXPECT_EQ(a.status, 401) << path << ": " << a.raw;
    EXPECT_EQ(a.body.value("error_code", ""), "unsigned_room_op") << path;
  }
  // Nothing changed: bob is still a member, public room, no spoofed message queued.
  const auto rooms = http.get("/list_rooms");
  ASSERT_TRUE(rooms.ok()) << rooms.raw;
  ASSERT_EQ(rooms.body["rooms"].size(), 1u) << rooms.raw;
  EXPECT_EQ(rooms.body["rooms"][0]["members"], (Json{"alice", "bob"}));
  EXPECT_EQ(rooms.body["rooms"][0]["visibility"], "public");
  const auto inbox =
      signed_post(http, bob, "bob", "/peek_inbox", {{"node_id", "nb"}, {"session_id", "sb"}});
  ASSERT_TRUE(inbox.ok()) << inbox.raw;
  for (const auto& m : inbox.body["messages"]) EXPECT_NE(m["content"], "spoofed");
  // The owners themselves, signing, still can.
  EXPECT_TRUE(
      signed_post(http, bob, "bob", "/leave_room", {{"alias", "bob"}, {"room_id", "lounge"}}).ok());
  relay.child->signal(SIGTERM);
  EXPECT_EQ(relay.child->wait(std::chrono::seconds(20)), 0);
}

}  // namespace
}  // namespace c2c::itest
