// `c2c relay serve` operator safety: an empty token is refused instead of starting an open relay,
// the SQLite database's directory is created (0700) with a private database, and the persist dir
// is printed as `persist_dir: <dir>` and reported in /health (docs/security.md, issue 8 items
// 8, 17, 19, 20).
#include <sys/stat.h>

#include "relay_http.hpp"

namespace c2c::relay::itest {
namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

test::ProcessOptions quick_env() {
  auto env = relay_env();
  env.timeout = std::chrono::seconds(20);
  return env;
}

TEST(RelayServeOps, EmptyTokenFlagIsRefused) {
  auto r = test::run_c2c({"relay", "serve", "--listen", "127.0.0.1:0", "--token", ""}, quick_env());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("error: --token is empty"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("serving on"), std::string::npos) << "no open relay is started";
}

TEST(RelayServeOps, EmptyTokenEnvIsRefused) {
  auto env = quick_env();
  env.unset_env = {"C2C_RELAY_PERSIST_DIR", "C2C_REQUIRE_SIGNED_ROOM_OPS"};
  env.env["C2C_RELAY_TOKEN"] = "";
  auto r = test::run_c2c({"relay", "serve", "--listen", "127.0.0.1:0"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("error: C2C_RELAY_TOKEN is set but empty"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("serving on"), std::string::npos);
}

TEST(RelayServeOps, BlankTokenFileIsRefused) {
  test::TempDir dir;
  test::write_private_file(dir / "token", "\n");
  auto r = test::run_c2c(
      {"relay", "serve", "--listen", "127.0.0.1:0", "--token-file", (dir / "token").string()},
      quick_env());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("is empty"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("serving on"), std::string::npos);
}

TEST(RelayServeOps, SqliteDbPathInMissingDirectoryIsCreatedPrivate) {
  test::TempDir dir;
  const fs::path db = dir / "var/lib/c2c/relay.db";
  auto relay = test::start_relay({"--storage", "sqlite", "--db-path", db.string()}, relay_env());
  Http http(relay.url);
  ASSERT_TRUE(http.register_alias("alice", "na", "sa").ok());
  EXPECT_EQ(mode_of(dir / "var"), 0700u);
  EXPECT_EQ(mode_of(dir / "var/lib/c2c"), 0700u);
  EXPECT_EQ(mode_of(db), 0600u) << "the database holds every queued message";
  const fs::path wal = db.string() + "-wal";
  ASSERT_TRUE(fs::exists(wal)) << "the relay writes through its WAL while running";
  EXPECT_EQ(mode_of(wal), 0600u);
  if (fs::exists(db.string() + "-shm")) {
    EXPECT_EQ(mode_of(db.string() + "-shm"), 0600u);
  }
  EXPECT_EQ(stop_relay(relay), 0);
}

TEST(RelayServeOps, DbDirectoryThatCannotBeCreatedIsNamed) {
  test::TempDir dir;
  test::write_private_file(dir / "lib", "not a directory");
  const fs::path db = dir / "lib/c2c/relay.db";
  auto r = test::run_c2c({"relay", "serve", "--listen", "127.0.0.1:0", "--storage", "sqlite",
                          "--db-path", db.string()},
                         quick_env());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot create directory " + (dir / "lib").string()), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("unable to open database file"), std::string::npos) << r.err;
}

TEST(RelayServeOps, PersistDirIsPrintedAndReportedInHealth) {
  test::TempDir dir;
  const fs::path persist = dir / "data";
  auto env = relay_env();
  env.unset_env = {"C2C_RELAY_TOKEN", "C2C_REQUIRE_SIGNED_ROOM_OPS"};
  env.env["C2C_RELAY_PERSIST_DIR"] = persist.string();
  auto relay = test::start_relay({}, env);
  EXPECT_TRUE(relay.child->wait_for_line(
      [&](const std::string& l) { return l == "persist_dir: " + persist.string(); },
      std::chrono::seconds(10)))
      << relay.child->out();
  EXPECT_EQ(mode_of(persist), 0700u) << "created private: it holds the relay key";
  Http http(relay.url);
  auto health = http.get("/health");
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(health.body["storage"], "memory") << "existing fields stay";
  EXPECT_EQ(health.body["auth_mode"], "dev");
  const Json& p = health.body["persistence"];
  EXPECT_EQ(p["storage"], "memory") << health.raw;
  EXPECT_EQ(p["persist_dir"], persist.string()) << health.raw;
  EXPECT_EQ(p["room_history_persisted"], true) << health.raw;
  EXPECT_EQ(p["messages_persisted"], false) << health.raw;
  EXPECT_EQ(stop_relay(relay), 0);

  auto plain = test::start_relay({}, relay_env());
  Http http2(plain.url);
  auto h2 = http2.get("/health");
  EXPECT_TRUE(h2.body["persistence"]["persist_dir"].is_null()) << h2.raw;
  EXPECT_EQ(h2.body["persistence"]["room_history_persisted"], false) << h2.raw;
  EXPECT_EQ(stop_relay(plain), 0);
  EXPECT_NE(plain.child->err().find("persist_dir: none"), std::string::npos) << plain.child->err();
}

}  // namespace
}  // namespace c2c::relay::itest
