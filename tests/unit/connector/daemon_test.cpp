// The pieces of the managed connector that need no process: the broker-root lock, the state
// file, the timestamped size-capped log.
#include "c2c/connector/daemon.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "support/temp_dir.hpp"

namespace c2c::connector {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

const std::regex kStamped(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z .*)");

TEST(ConnectorDaemon, IsoTimestampIsUtcWithMilliseconds) {
  EXPECT_EQ(iso_timestamp_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso_timestamp_utc(1776729930.25), "2026-04-21T00:05:30.250Z");
}

TEST(ConnectorDaemon, SecondLockOnTheSameRootIsRefusedAndNamesTheHolder) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "broker");
  auto first = PidLock::acquire(dir.path() / "broker");
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ConnectorState s;
  s.mode = "foreground";
  s.relay_url = "http://127.0.0.1:1";
  ASSERT_TRUE(first->publish(s).has_value());

  // A second open file description: flock conflicts even inside one process.
  auto second = PidLock::acquire(dir.path() / "broker");
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(second.error().message.find("already running"), std::string::npos);
  EXPECT_NE(second.error().message.find("pid " + std::to_string(::getpid())), std::string::npos);

  const auto st = probe(dir.path() / "broker");
  EXPECT_TRUE(st.running);
  EXPECT_EQ(st.pid, ::getpid());
  ASSERT_TRUE(st.state.has_value());
  EXPECT_EQ(st.state->mode, "foreground");
  EXPECT_EQ(st.state->relay_url, "http://127.0.0.1:1");
}

TEST(ConnectorDaemon, MissingBrokerRootIsRefusedAtStart) {
  // A loop on a root that does not exist fails at once instead of an error every round.
  test::TempDir dir;
  auto lock = PidLock::acquire(dir.path() / "absent");
  ASSERT_FALSE(lock.has_value());
  EXPECT_NE(lock.error().message.find("does not exist"), std::string::npos) << lock.error().message;
  EXPECT_FALSE(fs::exists(dir.path() / "absent"));
}

TEST(ConnectorDaemon, LockIsFreeAgainWhenTheHolderGoesAndAStalePidfileDoesNotCount) {
  test::TempDir dir;
  const fs::path root = dir.path() / "broker";
  fs::create_directories(root);
  {
    auto lock = PidLock::acquire(root);
    ASSERT_TRUE(lock.has_value());
  }
  // A pidfile naming a live process (ours) but unlocked is stale.
  std::ofstream(pidfile_path(root)) << ::getpid() << "\n";
  EXPECT_FALSE(probe(root).running);
  EXPECT_TRUE(PidLock::acquire(root).has_value());
  auto stopped = stop_running(root, 1);
  ASSERT_FALSE(stopped.has_value());
  EXPECT_EQ(stopped.error().code, ErrorCode::kNotFound);
}

TEST(ConnectorDaemon, LogLinesAreTimestampedAndTheFileRotatesAtTheCap) {
  test::TempDir dir;
  const fs::path log = dir.path() / "logs" / "relay-connector.log";
  auto l = LineLog::open(log, 300, /*redirect_std=*/false);
  ASSERT_TRUE(l.has_value()) << l.error().message;
  for (int i = 0; i < 20; ++i) l->write("[relay-connector] line " + std::to_string(i));
  ASSERT_TRUE(fs::exists(log.string() + ".1"));
  EXPECT_LE(fs::file_size(log), 300u + 80u);
  const auto current = lines_of(log);
  const auto rotated = lines_of(log.string() + ".1");
  ASSERT_FALSE(current.empty());
  ASSERT_FALSE(rotated.empty());
  for (const auto& line : current) EXPECT_TRUE(std::regex_match(line, kStamped)) << line;
  for (const auto& line : rotated) EXPECT_TRUE(std::regex_match(line, kStamped)) << line;
  EXPECT_NE(current.back().find("line 19"), std::string::npos);
  EXPECT_EQ((fs::status(log).permissions() & fs::perms::others_read), fs::perms::none);
}

}  // namespace
}  // namespace c2c::connector
