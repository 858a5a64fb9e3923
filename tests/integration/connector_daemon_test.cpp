// The managed connector with real processes: `c2c relay connect --daemon` detaches and syncs,
// --status sees it, a second copy for the same broker root is refused, --stop ends it; the log
// lines carry ISO timestamps. The systemd units it and `relay serve --print-service` write pass
// `systemd-analyze verify` (skipped, saying so, when systemd-analyze is not installed).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>

#include "connector_util.hpp"

namespace c2c::test::connector {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::regex kStamped(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z .*)");

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

class ConnectorDaemon : public ::testing::Test {
 protected:
  void TearDown() override {
    // Never leave a daemon behind, whatever failed.
    a.c2c({"relay", "connect", "--stop", "--broker-root", a.broker_root().string()});
  }
  RelayProcess relay = start_relay({});
  Machine a{"machine-a"};
  Machine b{"machine-b"};
  fs::path log() const { return a.home() / ".local" / "share" / "c2c" / "relay-connector.log"; }
  std::vector<std::string> daemon_args() const {
    auto args = a.connect_args(relay.url, "");
    args.insert(args.end(), {"--interval", "0.2", "--verbose", "--daemon"});
    return args;
  }
};

TEST_F(ConnectorDaemon, StartStatusSecondStartRefusedStop) {
  ASSERT_FALSE(relay.url.empty());
  a.add_session("alice", "ses-a");
  b.add_session("bob", "ses-b");

  auto started = a.c2c(daemon_args());
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(started.out, m, std::regex(R"(started \(pid (\d+))")))
      << started.out;
  const std::string pid = m[1];
  EXPECT_TRUE(contains(started.out, "log: " + log().string())) << started.out;

  auto status =
      a.c2c({"relay", "connect", "--status", "--json", "--broker-root", a.broker_root().string()});
  ASSERT_EQ(status.exit_code, 0) << status.out << status.err;
  const auto j = nlohmann::json::parse(status.out);
  EXPECT_TRUE(j.at("running").get<bool>());
  EXPECT_EQ(std::to_string(j.at("pid").get<int>()), pid);
  EXPECT_EQ(j.at("mode"), "daemon");
  EXPECT_EQ(j.at("relay_url"), relay.url);
  EXPECT_EQ(j.at("log_file"), log().string());
  auto text = a.c2c({"relay", "connect", "--status", "--broker-root", a.broker_root().string()});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_TRUE(contains(text.out, "relay connector: running (pid " + pid + ", daemon)")) << text.out;

  // A second daemon and a foreground loop for the same broker root are both refused.
  auto again = a.c2c(daemon_args());
  EXPECT_EQ(again.exit_code, 1) << again.out;
  EXPECT_TRUE(contains(again.err, "already running")) << again.err;
  EXPECT_TRUE(contains(again.err, "pid " + pid)) << again.err;
  auto loop = a.c2c(a.connect_args(relay.url, ""));  // would loop forever if not refused
  EXPECT_EQ(loop.exit_code, 1) << loop.out;
  EXPECT_TRUE(contains(loop.err, "already running")) << loop.err;

  // The daemon syncs: a message from B reaches alice's local inbox through it.
  ASSERT_EQ(b.connect_once(relay.url, "").exit_code, 0);
  ASSERT_EQ(b.c2c({"send", "alice@machine-a", "hello daemon", "--from", "bob"}).exit_code, 0);
  ASSERT_EQ(b.connect_once(relay.url, "").exit_code, 0);
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& msg : a.inbox("ses-a"))
          if (msg.content == "hello daemon") return true;
        return false;
      },
      20s))
      << test::read_file(log());

  auto stopped = a.c2c({"relay", "connect", "--stop", "--broker-root", a.broker_root().string()});
  ASSERT_EQ(stopped.exit_code, 0) << stopped.out << stopped.err;
  EXPECT_TRUE(contains(stopped.out, "stopped (pid " + pid + ")")) << stopped.out;
  auto after = a.c2c({"relay", "connect", "--status", "--broker-root", a.broker_root().string()});
  EXPECT_EQ(after.exit_code, 3) << after.out;
  EXPECT_TRUE(contains(after.out, "not running")) << after.out;

  // Every log line is timestamped; the log shows the start, the rounds and the shutdown.
  const auto lines = lines_of(log());
  ASSERT_FALSE(lines.empty());
  for (const auto& line : lines) EXPECT_TRUE(std::regex_match(line, kStamped)) << line;
  const std::string all = test::read_file(log());
  EXPECT_TRUE(contains(all, "[relay-connector] starting")) << all;
  EXPECT_TRUE(contains(all, "registered=1")) << all;
  EXPECT_TRUE(contains(all, "shutdown complete")) << all;

  // Stopping again is not an error; a new daemon may start now.
  EXPECT_EQ(
      a.c2c({"relay", "connect", "--stop", "--broker-root", a.broker_root().string()}).exit_code,
      0);
  auto restarted = a.c2c(daemon_args());
  EXPECT_EQ(restarted.exit_code, 0) << restarted.err;
}

TEST_F(ConnectorDaemon, StartupErrorIsReportedByTheStartingCommand) {
  // The log cannot be created (its directory is a file): the error appears in the foreground.
  test::write_file(a.home() / "not-a-dir", "x");
  auto args = daemon_args();
  args.insert(args.end(), {"--log-file", (a.home() / "not-a-dir" / "c.log").string()});
  auto r = a.c2c(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "error: cannot open log file")) << r.err;
  EXPECT_EQ(
      a.c2c({"relay", "connect", "--status", "--broker-root", a.broker_root().string()}).exit_code,
      3);
}

// run() execs a path (no PATH search): find systemd-analyze on PATH here.
std::string systemd_analyze_path() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / "systemd-analyze";
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

bool have_systemd_analyze() {
  return !systemd_analyze_path().empty();
}

// systemd-analyze verify: exit 0 and no complaint about this unit's lines.
void expect_verified(const fs::path& unit, bool user) {
  std::vector<std::string> argv = {systemd_analyze_path()};
  if (user) argv.push_back("--user");
  argv.insert(argv.end(), {"verify", unit.string()});
  ProcessOptions o;
  o.env["SYSTEMD_LOG_LEVEL"] = "warning";
  // The user manager wants a runtime directory; a container has no login session to give one.
  TempDir runtime("c2c-xdg-runtime");
  fs::permissions(runtime.path(), fs::perms::owner_all);
  o.env["XDG_RUNTIME_DIR"] = runtime.str();
  o.cwd = unit.parent_path().string();
  const auto r = run(argv, o);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(contains(r.err, unit.filename().string())) << r.err;
}

TEST_F(ConnectorDaemon, InstallServiceWritesAUserUnitThatVerifies) {
  test::write_private_file(a.home() / "relay.token", "tok\n");
  auto args = a.connect_args(relay.url, "");
  args.insert(args.end(), {"--token-file", (a.home() / "relay.token").string(), "--interval", "15",
                           "--install-service"});
  auto r = a.c2c(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const fs::path unit = a.home() / ".config" / "systemd" / "user" / "c2c-relay-connector.service";
  EXPECT_TRUE(contains(r.out, "wrote " + unit.string())) << r.out;
  EXPECT_TRUE(contains(r.out, "systemctl --user enable --now c2c-relay-connector.service"));
  const std::string text = test::read_file(unit);
  EXPECT_TRUE(contains(text, "ExecStart=" + c2c_bin() + " relay connect --broker-root " +
                                 a.broker_root().string() + " --relay-url " + relay.url))
      << text;
  EXPECT_TRUE(contains(text, "--interval 15")) << text;
  EXPECT_FALSE(contains(text, "tok\n")) << text;
  EXPECT_TRUE(contains(text, "WantedBy=default.target")) << text;

  // A token on the command line is never written into a unit.
  auto with_token = a.connect_args(relay.url, "secret-token");
  with_token.push_back("--install-service");
  auto refused = a.c2c(with_token);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_TRUE(contains(refused.err, "does not write tokens")) << refused.err;

  if (!have_systemd_analyze()) {
    GTEST_SKIP() << "SKIPPED: systemd-analyze is not installed (Debian package systemd; "
                    "scripts/install-deps.sh installs it): unit not verified";
  }
  expect_verified(unit, /*user=*/true);
}

TEST_F(ConnectorDaemon, RelayServePrintServiceGivesASystemUnitThatVerifies) {
  test::write_private_file(a.home() / "relay.token", "tok\n");
  auto r = a.c2c({"relay", "serve", "--listen", "0.0.0.0:7331", "--token-file",
                  (a.home() / "relay.token").string(), "--print-service"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "ExecStart=" + c2c_bin() + " relay serve --listen 0.0.0.0:7331"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "--storage sqlite --db-path /var/lib/c2c/relay.db")) << r.out;
  EXPECT_TRUE(contains(r.out, "LoadCredential=relay-token:" + (a.home() / "relay.token").string()))
      << r.out;
  EXPECT_TRUE(contains(r.out, "--token-file ${CREDENTIALS_DIRECTORY}/relay-token")) << r.out;
  EXPECT_FALSE(contains(r.out, "tok\n")) << r.out;
  auto refused = a.c2c({"relay", "serve", "--token", "t", "--print-service"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_TRUE(contains(refused.err, "does not write tokens")) << refused.err;

  if (!have_systemd_analyze()) {
    GTEST_SKIP() << "SKIPPED: systemd-analyze is not installed (Debian package systemd; "
                    "scripts/install-deps.sh installs it): unit not verified";
  }
  const fs::path unit = a.home() / "c2c-relay.service";
  test::write_file(unit, r.out);
  expect_verified(unit, /*user=*/false);
}

}  // namespace
}  // namespace c2c::test::connector
