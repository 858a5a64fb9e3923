#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "broker_fixture.hpp"
#include "c2c/broker/codec.hpp"

namespace c2c::broker {
namespace {

using test_support::BrokerTest;
using test_support::kDeadPid;
namespace fs = std::filesystem;

TEST(FingerprintTest, ReferenceVectors) {
  EXPECT_EQ(fingerprint_of("https://github.com/clankercode/c2c"), "571889580f58");
  EXPECT_EQ(fingerprint_of("git@github.com:XertroV/c2c-msg.git"), "0d0369c9b978");
  EXPECT_EQ(fingerprint_of("/home/u/src/proj"), "cdabb7ae4645");
}

TEST_F(BrokerTest, RegisterWritesRegistryRow) {
  auto r = reg("alice", "ses-a");
  EXPECT_EQ(r.alias, "alice");
  ASSERT_TRUE(r.pid_start_time.has_value());
  const auto text = c2c::test::read_file(root() / "registry.json");
  auto j = nlohmann::json::parse(text);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["session_id"], "ses-a");
  EXPECT_EQ(j[0]["alias"], "alice");
  EXPECT_EQ(j[0]["pid"], ::getpid());
  struct stat st {};
  ASSERT_EQ(::stat((root() / "registry.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(broker_.liveness(r), Liveness::kAlive);
}

TEST_F(BrokerTest, HandWrittenSeedRegistryIsRead) {
  fs::create_directories(root());
  c2c::test::write_file(
      root() / "registry.json",
      R"([{"session_id":"ses-a","alias":"relay-peer-a","pid":1,"pid_start_time":1}])"
      "\n");
  auto regs = broker_.registrations();
  ASSERT_TRUE(regs.has_value()) << regs.error().message;
  ASSERT_EQ(regs->size(), 1u);
  EXPECT_EQ((*regs)[0].session_id, "ses-a");
  EXPECT_EQ((*regs)[0].alias, "relay-peer-a");
  EXPECT_EQ((*regs)[0].pid, 1);
  EXPECT_EQ((*regs)[0].pid_start_time, 1);
  // pid 1 exists but did not start at tick 1: dead by the liveness rule.
  EXPECT_EQ(broker_.liveness((*regs)[0]), Liveness::kDead);
  auto found = broker_.find_alias("RELAY-PEER-A");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->session_id, "ses-a");
}

TEST_F(BrokerTest, RegistryParserHandlesWhitespaceEscapesAndUnknownKeys) {
  fs::create_directories(root());
  c2c::test::write_file(root() / "registry.json", R"( [
    { "session_id" : "s\u0031" , "alias":"b\"ob", "pid": null, "registered_at": 17,
      "dnd": true, "compacting": {"started_at": 1.5, "reason": null}, "role": "rev\n" } ] )");
  auto regs = broker_.registrations();
  ASSERT_TRUE(regs.has_value()) << regs.error().message;
  ASSERT_EQ(regs->size(), 1u);
  const auto& r = (*regs)[0];
  EXPECT_EQ(r.session_id, "s1");
  EXPECT_EQ(r.alias, "b\"ob");
  EXPECT_FALSE(r.pid.has_value());
  EXPECT_EQ(r.registered_at, 17.0);
  EXPECT_EQ(r.role, "rev\n");
  EXPECT_EQ(r.extra["dnd"], true);
  EXPECT_EQ(r.extra["compacting"]["started_at"], 1.5);
  // Round trip keeps the unknown keys.
  auto again = codec::parse_registry(codec::registry_json(*regs));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again)[0].extra, r.extra);
  EXPECT_EQ((*again)[0].alias, "b\"ob");
}

TEST_F(BrokerTest, MalformedRegistryIsAnErrorNotAnEmptyList) {
  fs::create_directories(root());
  c2c::test::write_file(root() / "registry.json", R"([{"session_id":"s","alias":7}])");
  auto regs = broker_.registrations();
  ASSERT_FALSE(regs.has_value());
  EXPECT_EQ(regs.error().code, ErrorCode::kIo);
  RegisterRequest req{"s2", "carol", std::nullopt};
  auto r = broker_.register_session(req);
  EXPECT_FALSE(r.has_value());
  // The bad file was not overwritten.
  EXPECT_EQ(c2c::test::read_file(root() / "registry.json"), R"([{"session_id":"s","alias":7}])");
}

// Texts nlohmann-json refuses that the hand-written reader used to accept (found by the
// registry_parser differential fuzz target): each is an error, never a row.
TEST(RegistryParserTest, RefusesWhatJsonRefuses) {
  using namespace std::string_literals;
  const std::string bad[] = {
      // raw control character inside a string (also in the index's skipped tail)
      "[{\"session_id\":\"s\",\"alias\":\"a\tb\"}]",
      "[{\"session_id\":\"s\",\"alias\":\"a\",\"x\":\"\x01\"}]",
      // bytes that are not UTF-8, raw and next to an escape
      "[{\"session_id\":\"s\",\"alias\":\"\xff\"}]",
      "[{\"session_id\":\"s\",\"alias\":\"\\u00e9\xa9\"}]",
      // an unknown key's number with a NUL inside: nlohmann alone stops reading at the NUL
      "[{\"session_id\":\"s\",\"alias\":\"a\",\"x\":12\0\0"
      "34}]"s,
      // numbers outside JSON's grammar in known keys
      R"([{"session_id":"s","alias":"a","pid":0123}])",
      R"([{"session_id":"s","alias":"a","registered_at":1.}])",
      R"([{"session_id":"s","alias":"a","confirmed_at":-01.5}])",
      // a repeated key (JSON leaves its meaning open)
      R"([{"session_id":5,"session_id":"s","alias":"a"}])",
      R"([{"session_id":"s","alias":"a","pid":1,"pid":"x"}])",
      R"([{"session_id":"s","alias":"a","x":1,"x":2}])",
  };
  for (const auto& text : bad) {
    EXPECT_FALSE(codec::parse_registry(text).has_value()) << text;
  }
  // Still accepted: escapes decoding to UTF-8, a nested repeated key (kept by nlohmann), zero.
  auto ok = codec::parse_registry(
      R"([{"session_id":"s\u00e9","alias":"\u00e9t\u00e9","pid":0,"x":{"k":1,"k":2}}])");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ((*ok)[0].alias, "\xc3\xa9t\xc3\xa9");
  EXPECT_EQ((*ok)[0].pid, 0);
}

TEST_F(BrokerTest, AliasRulesAndReservedAliases) {
  for (const char* bad : {"", ".hidden", "has space", "a@b", "x/y"}) {
    RegisterRequest req{"s1", bad, std::nullopt};
    auto r = broker_.register_session(req);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidAlias) << bad;
  }
  RegisterRequest long_alias{"s1", std::string(65, 'a'), std::nullopt};
  EXPECT_EQ(broker_.register_session(long_alias).error().code, ErrorCode::kInvalidAlias);
  for (const char* reserved : {"c2c", "C2C-System"}) {
    RegisterRequest req{"s1", reserved, std::nullopt};
    auto r = broker_.register_session(req);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kReservedAlias);
  }
  RegisterRequest bad_sid{"../etc", "ok", std::nullopt};
  EXPECT_EQ(broker_.register_session(bad_sid).error().code, ErrorCode::kBadRequest);
}

TEST_F(BrokerTest, LiveHolderBlocksGuardedRegisterWithSuggestion) {
  reg("alice", "ses-a");
  RegisterRequest req{"ses-b", "ALICE", static_cast<long long>(::getpid())};
  auto r = broker_.register_session(req);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kAliasConflict);
  EXPECT_NE(r.error().message.find("ses-a"), std::string::npos);
  EXPECT_NE(r.error().message.find("'alice-2'"), std::string::npos) << r.error().message;
  // The suggestion is actually free.
  reg("alice-2", "ses-b");
}

TEST_F(BrokerTest, DeadHolderIsEvictedAndItsMessagesMove) {
  reg("bob", "ses-old", kDeadPid);
  // A message queued for the old session before it died (written while it was registered
  // pidless so the send is accepted).
  reg("bob", "ses-old", std::nullopt);
  reg("alice", "ses-a");
  ASSERT_TRUE(broker_.send("alice", "bob", "queued for bob").has_value());
  reg("bob", "ses-old", kDeadPid, false);

  auto r = broker_.register_session(RegisterRequest{"ses-new", "Bob", ::getpid()});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->evicted_sessions, std::vector<std::string>{"ses-old"});
  EXPECT_EQ(r->migrated_messages, 1u);
  auto msgs = poll("ses-new");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].content, "queued for bob");
  EXPECT_FALSE(fs::exists(root() / "ses-old.inbox.json"));
  auto regs = broker_.registrations();
  ASSERT_EQ(regs->size(), 2u);
  EXPECT_EQ((*regs)[0].session_id, "ses-new");  // re-registered rows move to the head
}

TEST_F(BrokerTest, UnguardedRegisterTakesOverLiveAlias) {
  reg("alice", "ses-a");
  auto r = broker_.register_session(RegisterRequest{"ses-b", "alice", ::getpid(), "", "", false});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->evicted_sessions, std::vector<std::string>{"ses-a"});
}

TEST_F(BrokerTest, ReRegisterKeepsRoleAndUnknownKeys) {
  fs::create_directories(root());
  c2c::test::write_file(root() / "registry.json",
                        R"([{"session_id":"s1","alias":"old","role":"reviewer","dnd":true}])");
  auto r = reg("new-name", "s1");
  EXPECT_EQ(r.role, "reviewer");
  EXPECT_EQ(r.extra["dnd"], true);
  auto regs = broker_.registrations();
  ASSERT_EQ(regs->size(), 1u);
  EXPECT_EQ((*regs)[0].alias, "new-name");
}

TEST_F(BrokerTest, FindAliasPrefersLiveRow) {
  fs::create_directories(root());
  c2c::test::write_file(
      root() / "registry.json",
      R"([{"session_id":"dead","alias":"Zed","pid":99999999},{"session_id":"live","alias":"zed"}])");
  auto found = broker_.find_alias("ZED");
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->session_id, "live");
  auto missing = broker_.find_alias("nobody");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
  auto by_sid = broker_.find_session("dead");
  ASSERT_TRUE(by_sid.has_value() && by_sid->has_value());
  EXPECT_EQ(broker_.liveness(**by_sid), Liveness::kDead);
  EXPECT_EQ(broker_.liveness(broker_.find_session("live")->value_or(Registration{})),
            Liveness::kUnknown);
}

TEST_F(BrokerTest, CachedRegistrySeesEveryChange) {
  reg("alice", "ses-a");
  Broker other(root());
  ASSERT_TRUE(other.find_alias("alice")->has_value());  // other caches this version
  // Another process registers (atomic replace): seen.
  reg("bob", "ses-b");
  EXPECT_TRUE(other.find_alias("bob")->has_value());
  // A hand edit in place (same inode): seen too.
  c2c::test::write_file(root() / "registry.json", R"([{"session_id":"s9","alias":"carol"}])");
  EXPECT_TRUE(other.find_alias("carol")->has_value());
  EXPECT_FALSE(other.find_alias("bob")->has_value());
  // Deleted: empty.
  fs::remove(root() / "registry.json");
  EXPECT_TRUE(other.registrations()->empty());
}

TEST_F(BrokerTest, EscapedAliasesAreFoundAndDeliveredTo) {
  fs::create_directories(root());
  c2c::test::write_file(root() / "registry.json",
                        R"([{"session_id":"s-1","alias":"bob"},)"
                        R"({"session_id":"s2","alias":"alice","dnd":{"x":"}]"}}])");
  auto found = broker_.find_alias("BOB");
  ASSERT_TRUE(found.has_value()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->session_id, "s-1");
  ASSERT_TRUE(broker_.send("alice", "bob", "hi").has_value());
  EXPECT_EQ(poll("s-1").size(), 1u);
  auto by_sid = broker_.find_session("s2");
  ASSERT_TRUE(by_sid.has_value() && by_sid->has_value());
  EXPECT_EQ((*by_sid)->extra["dnd"]["x"], "}]");
}

TEST(RootTest, EnvOverrideWinsAndIsMadeAbsolute) {
  ::setenv("C2C_MCP_BROKER_ROOT", "  rel/broker  ", 1);
  EXPECT_EQ(resolve_root(), fs::current_path() / "rel/broker");
  ::setenv("C2C_MCP_BROKER_ROOT", "/tmp/x/broker", 1);
  EXPECT_EQ(resolve_root(), fs::path("/tmp/x/broker"));
  ::unsetenv("C2C_MCP_BROKER_ROOT");
  ::setenv("XDG_STATE_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(resolve_root(), fs::path("/tmp/xdg/c2c/repos") / repo_fingerprint() / "broker");
  ::unsetenv("XDG_STATE_HOME");
  ::setenv("HOME", "/tmp/home-x", 1);
  EXPECT_EQ(resolve_root(), fs::path("/tmp/home-x/.c2c/repos") / repo_fingerprint() / "broker");
}

}  // namespace
}  // namespace c2c::broker
