// CLI transcripts of the `c2c relay` client commands in a temporary HOME: identity, setup and
// config resolution, the troubleshooting table's messages, status/list/gc/rooms output, health.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace c2c::test {
namespace {

namespace fs = std::filesystem;
constexpr const char* kDeadUrl = "http://127.0.0.1:1";

bool has(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

class RelayCli : public ::testing::Test {
 protected:
  TempDir dir{"c2c-relay-cli"};
  std::map<std::string, std::string> env;

  void SetUp() override {
    fs::create_directories(dir / "home");
    fs::create_directories(dir / "broker");
    env["HOME"] = (dir / "home").string();
    env["C2C_MCP_BROKER_ROOT"] = (dir / "broker").string();
  }
  fs::path config_dir() const { return dir / "home" / ".config" / "c2c"; }
  fs::path identity() const { return config_dir() / "identity.json"; }

  RunResult c2c(const std::vector<std::string>& args) {
    ProcessOptions o;
    o.env = env;
    o.unset_env = {"C2C_RELAY_URL",           "C2C_RELAY_TOKEN",
                   "C2C_RELAY_CONFIG",        "C2C_RELAY_NODE_ID",
                   "C2C_RELAY_IDENTITY_PATH", "XDG_CONFIG_HOME",
                   "C2C_MCP_SESSION_ID",      "C2C_MCP_AUTO_REGISTER_ALIAS",
                   "CLAUDE_SESSION_ID",       "CODEX_THREAD_ID"};
    o.cwd = dir.str();
    o.timeout = std::chrono::seconds(30);
    return run_c2c(args, o);
  }
};

TEST_F(RelayCli, IdentityInitShowAndRefusals) {
  auto r = c2c({"relay", "identity", "init", "--alias-hint", "laptop"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "identity written to " + identity().string())) << r.out;
  EXPECT_TRUE(has(r.out, "  fingerprint: SHA256:")) << r.out;
  EXPECT_TRUE(has(r.out, "  alias_hint:  laptop")) << r.out;
  EXPECT_EQ(mode_of(identity()), 0600u);
  EXPECT_EQ(mode_of(config_dir()), 0700u);

  r = c2c({"relay", "identity", "show"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "path:        " + identity().string() + "\n")) << r.out;
  EXPECT_TRUE(has(r.out, "alg:         ed25519\n")) << r.out;
  const auto fp_line = r.out.substr(r.out.find("fingerprint: "));
  const std::string fp = fp_line.substr(13, fp_line.find('\n') - 13);
  EXPECT_EQ(fp.size(), 50u);

  r = c2c({"relay", "identity"});  // alone = show
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(has(r.out, fp));
  r = c2c({"relay", "identity", "fingerprint"});
  EXPECT_EQ(r.out, fp + "\n");

  r = c2c({"relay", "identity", "show", "--json"});
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["fingerprint"], fp);
  EXPECT_EQ(j["alg"], "ed25519");
  EXPECT_FALSE(j.contains("private_key"));

  r = c2c({"relay", "identity", "init"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "already exists. Pass --force to overwrite.")) << r.err;
  r = c2c({"relay", "identity", "init", "--force"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(c2c({"relay", "identity", "fingerprint"}).out, fp + "\n");

  // A group/world-readable key is refused with a clear error.
  ASSERT_EQ(::chmod(identity().c_str(), 0644), 0);
  r = c2c({"relay", "identity", "show"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "permissions too permissive")) << r.err;
  EXPECT_TRUE(has(r.err, "chmod 600 " + identity().string())) << r.err;
  // ... and so is signing with it.
  r = c2c({"relay", "register", "--alias", "x", "--relay-url", kDeadUrl});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "permissions too permissive")) << r.err;
}

TEST_F(RelayCli, IdentityPathFromFlagAndEnvironment) {
  const auto custom = dir / "keys" / "id.json";
  auto r = c2c({"relay", "identity", "init", "--identity-path", custom.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["path"], custom.string());
  EXPECT_TRUE(fs::exists(custom));
  EXPECT_FALSE(fs::exists(identity()));
  env["C2C_RELAY_IDENTITY_PATH"] = custom.string();
  r = c2c({"relay", "identity", "show"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, custom.string()));
}

TEST_F(RelayCli, SetupSavesAPrivateConfigAndMasksTheToken) {
  const auto token_file = dir / "relay.token";
  c2c::test::write_private_file(token_file, "s3cret-token\n");
  env.erase("C2C_MCP_BROKER_ROOT");
  auto r = c2c({"relay", "setup", "--url", "http://relay.example:7331/", "--token-file",
                token_file.string(), "--node-id", "laptop-1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto cfg = config_dir() / "relay.json";
  EXPECT_TRUE(has(r.out, "relay config saved to " + cfg.string())) << r.out;
  EXPECT_TRUE(has(r.out, "  url: http://relay.example:7331\n")) << r.out;
  EXPECT_TRUE(has(r.out, "  token: ***\n")) << r.out;
  EXPECT_FALSE(has(r.out, "s3cret")) << r.out;
  EXPECT_EQ(mode_of(cfg), 0600u);
  EXPECT_TRUE(has(read_file(cfg), "s3cret-token"));

  r = c2c({"relay", "setup", "--show"});
  EXPECT_TRUE(has(r.out, "config: " + cfg.string())) << r.out;
  EXPECT_TRUE(has(r.out, "  node_id: laptop-1")) << r.out;
  EXPECT_FALSE(has(r.out, "s3cret")) << r.out;

  // A later setup merges: the URL and node id stay.
  r = c2c({"relay", "setup", "--token", "newer"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.err, "visible to other users in the process list")) << r.err;
  EXPECT_TRUE(has(r.err, "--token-file")) << r.err;
  const auto saved = nlohmann::json::parse(read_file(cfg));
  EXPECT_EQ(saved["url"], "http://relay.example:7331");
  EXPECT_EQ(saved["token"], "newer");
  EXPECT_EQ(saved["node_id"], "laptop-1");

  EXPECT_EQ(c2c({"relay", "setup", "--url", "relay.example:7331"}).exit_code, 1);
  EXPECT_NE(c2c({"relay", "setup", "--token", "a", "--token-file", token_file.string()}).exit_code,
            0);
}

TEST_F(RelayCli, SetupWritesWhereTheSeedSays) {
  // C2C_MCP_BROKER_ROOT/relay.json when set ...
  auto r = c2c({"relay", "setup", "--url", "http://b:1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "broker" / "relay.json"));
  // ... C2C_RELAY_CONFIG above all.
  env["C2C_RELAY_CONFIG"] = (dir / "explicit.json").string();
  r = c2c({"relay", "setup", "--url", "http://e:1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "explicit.json"));
}

TEST_F(RelayCli, ConfigPrecedenceShowsInTheConnectorStartLine) {
  ASSERT_EQ(c2c({"relay", "setup", "--url", "http://127.0.0.1:2"}).exit_code, 0);
  auto r = c2c({"relay", "connect", "--once"});
  EXPECT_TRUE(has(r.out, "relay=http://127.0.0.1:2 ")) << r.out;
  env["C2C_RELAY_URL"] = "http://127.0.0.1:3";
  r = c2c({"relay", "connect", "--once"});
  EXPECT_TRUE(has(r.out, "relay=http://127.0.0.1:3 ")) << r.out;
  r = c2c({"relay", "connect", "--once", "--relay-url", "http://127.0.0.1:4"});
  EXPECT_TRUE(has(r.out, "relay=http://127.0.0.1:4 ")) << r.out;
  EXPECT_TRUE(has(r.out, "node=")) << r.out;
}

TEST_F(RelayCli, ConnectCreatesAnIdentityAndFailsWhenTheRelayIsDown) {
  write_file(dir / "broker" / "registry.json",
             R"([{"session_id":"ses-a","alias":"alice","pid":1,"pid_start_time":1}])");
  auto r = c2c({"relay", "connect", "--once", "--relay-url", kDeadUrl, "--node-id", "n1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // D9: --once reports an unreachable relay
  EXPECT_TRUE(has(r.err, "created a new Ed25519 identity at " + identity().string())) << r.err;
  EXPECT_EQ(mode_of(identity()), 0600u);
  EXPECT_TRUE(has(r.out, "[relay-connector] sync: registered=0")) << r.out;
  EXPECT_TRUE(has(r.err, "relay UNREACHABLE")) << r.err;
  // Second run: the identity is reused, not replaced.
  const auto before = read_file(identity());
  r = c2c({"relay", "connect", "--once", "--relay-url", kDeadUrl});
  EXPECT_FALSE(has(r.err, "created a new")) << r.err;
  EXPECT_EQ(read_file(identity()), before);
}

TEST_F(RelayCli, EveryClientCommandReportsAnUnreachableRelay) {
  const std::vector<std::vector<std::string>> cmds = {
      {"relay", "status"},
      {"relay", "list"},
      {"relay", "list", "--dead"},
      {"relay", "gc", "--once"},
      {"relay", "rooms", "list"},
      {"relay", "rooms", "history", "lounge"},
      {"relay", "rooms", "join", "lounge", "--alias", "a"},
      {"relay", "rooms", "send", "lounge", "hello", "world", "--alias", "a"},
      {"relay", "rooms", "leave", "lounge", "--alias", "a"},
      {"relay", "register", "--alias", "a"}};
  for (auto cmd : cmds) {
    cmd.insert(cmd.end(), {"--relay-url", kDeadUrl});
    auto r = c2c(cmd);
    EXPECT_EQ(r.exit_code, 1) << cmd[1] << " " << cmd[2];
    EXPECT_TRUE(has(r.err, "relay UNREACHABLE: http://127.0.0.1:1")) << cmd[1] << ": " << r.err;
    cmd.push_back("--json");
    r = c2c(cmd);
    EXPECT_EQ(r.exit_code, 1);
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << cmd[1] << ": " << r.out;
    EXPECT_EQ(j["ok"], false);
    EXPECT_EQ(j["error_code"], "connection_error");
  }
}

TEST_F(RelayCli, MissingUrlExplainsHowToConfigureIt) {
  const auto r = c2c({"relay", "status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "relay URL not configured")) << r.err;
  EXPECT_TRUE(has(r.err, "c2c relay setup --url")) << r.err;
}

TEST_F(RelayCli, UsageErrors) {
  EXPECT_EQ(c2c({"relay", "gc", "--relay-url", kDeadUrl}).exit_code, 2);
  auto r = c2c({"relay", "rooms", "send", "lounge", "hi", "--relay-url", kDeadUrl});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(has(r.err, "--alias")) << r.err;
  EXPECT_EQ(c2c({"relay", "rooms", "join", "bad room!", "--alias", "a"}).exit_code, 2);
  EXPECT_EQ(c2c({"relay", "connect", "--once", "--interval", "0"}).exit_code, 2);
}

// Issue 8.21: a mistyped command names the word and the closest command, in one line, exit 2.
TEST_F(RelayCli, MistypedCommandNamesTheWordAndSuggestsTheClosest) {
  auto r = c2c({"relay", "staus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "error: unknown command 'staus' for 'c2c relay'; did you mean 'c2c relay status'?\n");
  r = c2c({"sned", "bob", "hi"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: unknown command 'sned' for 'c2c'; did you mean 'c2c send'?\n");
  r = c2c({"relay", "rooms", "jion", "lounge"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(has(r.err, "did you mean 'c2c relay rooms join'?")) << r.err;
  r = c2c({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "error: unknown command 'frobnicate' for 'c2c' (run 'c2c --help' for the list)\n");
}

// Issue 8.18: an empty relay.json is an empty config; `setup` repairs an invalid one; a broken
// one does not stop a command given --relay-url.
TEST_F(RelayCli, EmptyOrBrokenConfigDoesNotBreakSetupOrExplicitUrls) {
  env.erase("C2C_MCP_BROKER_ROOT");
  fs::create_directories(config_dir());
  const auto cfg = config_dir() / "relay.json";
  write_file(cfg, "");
  auto r = c2c({"relay", "status", "--relay-url", kDeadUrl});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "relay UNREACHABLE")) << r.err;  // got as far as the relay
  r = c2c({"relay", "status"});
  EXPECT_TRUE(has(r.err, "relay URL not configured")) << r.err;
  r = c2c({"relay", "setup", "--url", "http://127.0.0.1:2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_file(cfg))["url"], "http://127.0.0.1:2");

  write_file(cfg, "{\"url\": ");  // torn
  r = c2c({"relay", "status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "not valid JSON")) << r.err;
  r = c2c({"relay", "status", "--relay-url", kDeadUrl});
  EXPECT_TRUE(has(r.err, "note: ignoring the saved relay config")) << r.err;
  EXPECT_TRUE(has(r.err, "relay UNREACHABLE")) << r.err;
  r = c2c({"relay", "setup", "--url", "http://127.0.0.1:3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.err, "replacing the unusable relay config")) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_file(cfg))["url"], "http://127.0.0.1:3");
  EXPECT_EQ(mode_of(cfg), 0600u);
}

// Issue 8.16: `install self` and `relay setup` create ~/.config/c2c and ~/.local/share/c2c.
TEST_F(RelayCli, InstallSelfAndSetupCreateTheUserDirectories) {
  const auto data = dir / "home" / ".local" / "share" / "c2c";
  auto r = c2c({"install", "self", "--prefix", (dir / "bin").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mode_of(data), 0700u);
  EXPECT_EQ(mode_of(config_dir()), 0700u);
  fs::remove_all(dir / "home");
  fs::create_directories(dir / "home");
  r = c2c({"relay", "setup", "--url", "http://127.0.0.1:2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mode_of(data), 0700u);
  EXPECT_EQ(mode_of(config_dir()), 0700u);
}

// Issue 8.24: connector lines carry an ISO 8601 UTC timestamp.
TEST_F(RelayCli, ConnectorLinesCarryIsoTimestamps) {
  auto r = c2c({"relay", "connect", "--once", "--relay-url", kDeadUrl});
  ASSERT_FALSE(r.out.empty());
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    ASSERT_GE(line.size(), 21u) << line;
    EXPECT_EQ(line[4], '-') << line;
    EXPECT_EQ(line[10], 'T') << line;
    EXPECT_EQ(line.substr(19, 2), "Z ") << line;
    EXPECT_TRUE(has(line, "[relay-connector]")) << line;
  }
}

// Against a live relay in prod mode.
class RelayCliLive : public RelayCli {
 protected:
  RelayProcess relay;
  void SetUp() override {
    RelayCli::SetUp();
    relay = start_relay({"--token", "live-token"});
    ASSERT_FALSE(relay.url.empty());
    env["C2C_RELAY_URL"] = relay.url;
  }
  // Another machine (its own HOME and identity) registers `alias` on node-x.
  void another_machine_holds(const std::string& alias) {
    ProcessOptions o;
    o.env = {{"HOME", other_home.str()}, {"C2C_RELAY_URL", relay.url}};
    o.unset_env = {"C2C_RELAY_TOKEN", "C2C_RELAY_CONFIG", "XDG_CONFIG_HOME"};
    auto r = run_c2c({"relay", "register", "--alias", alias, "--node-id", "node-x"}, o);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  TempDir other_home{"c2c-other-home"};
};

TEST_F(RelayCliLive, GcNeedsTheAdminTokenAndReports) {
  auto r = c2c({"relay", "gc", "--once"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "admin route requires Bearer token")) << r.err;
  EXPECT_TRUE(has(r.err, "C2C_RELAY_TOKEN")) << r.err;
  env["C2C_RELAY_TOKEN"] = "live-token";
  r = c2c({"relay", "gc", "--once", "--verbose"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "relay gc: expired_leases=0 pruned_inboxes=0")) << r.out;
  r = c2c({"relay", "gc", "--once", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["ok"], true);
}

TEST_F(RelayCliLive, RegisterThenStatusListAndHealth) {
  env["C2C_RELAY_NODE_ID"] = "node-live";
  auto r = c2c({"relay", "register", "--alias", "solo"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "registered solo on " + relay.url)) << r.out;
  EXPECT_TRUE(has(r.out, "node=node-live")) << r.out;
  EXPECT_TRUE(has(r.err, "created a new Ed25519 identity")) << r.err;  // D13

  env["C2C_RELAY_TOKEN"] = "live-token";
  r = c2c({"relay", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "relay: " + relay.url + "\nstatus: OK\nnode_id: node-live\npeers: 1 alive / 1 total\n");
  r = c2c({"relay", "status", "--json"});
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["alive_peers"], 1);
  EXPECT_EQ(j["total_peers"], 1);
  EXPECT_EQ(j["auth_mode"], "prod");

  r = c2c({"relay", "list"});
  EXPECT_TRUE(has(r.out, "relay " + relay.url + " — 1 peer(s):")) << r.out;
  EXPECT_TRUE(has(r.out, "● solo")) << r.out;
  EXPECT_TRUE(has(r.out, "node=node-live")) << r.out;

  r = c2c({"health"});
  // Issue 8.24: one peer, singular.
  EXPECT_TRUE(has(r.out + r.err, "✓ Relay: " + relay.url + " (1 alive peer)\n")) << r.out << r.err;

  env["C2C_RELAY_URL"] = kDeadUrl;
  r = c2c({"health"});
  EXPECT_TRUE(has(r.out + r.err, "✗ Relay: http://127.0.0.1:1 UNREACHABLE")) << r.out << r.err;
}

TEST_F(RelayCliLive, ConnectOnceExitsNonZeroWhenTheRelayRefusesIt) {
  // Another machine (its own identity) holds alias "shared" on node-x.
  ASSERT_NO_FATAL_FAILURE(another_machine_holds("shared"));
  write_file(dir / "broker" / "registry.json",
             R"([{"session_id":"ses-s","alias":"shared","pid":1,"pid_start_time":1}])");
  auto r = c2c({"relay", "connect", "--once", "--node-id", "node-y"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "[relay-connector] sync: registered=0")) << r.out;
  EXPECT_TRUE(has(r.out + r.err, "alias_"))
      << r.out << r.err;  // alias_identity_mismatch / conflict
  EXPECT_TRUE(has(r.err, "refused")) << r.err;
}

// Issue 8.15: the quickstart's operator sequence on a configured machine, no alias registered
// first: join registers the alias with this machine's identity; send without --alias acts as it.
TEST_F(RelayCliLive, RoomsJoinAndSendWorkAsTheQuickstartShows) {
  env.erase("C2C_MCP_BROKER_ROOT");
  env.erase("C2C_RELAY_URL");
  ASSERT_EQ(c2c({"relay", "setup", "--url", relay.url}).exit_code, 0);
  auto r = c2c({"relay", "rooms", "join", "swarm-lounge", "--alias", "my-alias"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "joined room swarm-lounge as my-alias")) << r.out;
  EXPECT_TRUE(has(r.err, "registered my-alias on " + relay.url)) << r.err;
  EXPECT_TRUE(has(r.err, "saved my-alias as this machine's operator alias")) << r.err;
  r = c2c({"relay", "rooms", "send", "swarm-lounge", "hello from the operator"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "sent to room swarm-lounge")) << r.out;
  EXPECT_TRUE(has(r.err, "acting as my-alias")) << r.err;
  r = c2c({"relay", "rooms", "history", "swarm-lounge"});
  EXPECT_TRUE(has(r.out, "my-alias: hello from the operator")) << r.out;
  // A second join with another alias keeps the saved one.
  ASSERT_EQ(c2c({"relay", "rooms", "join", "swarm-lounge", "--alias", "other"}).exit_code, 0);
  r = c2c({"relay", "rooms", "send", "swarm-lounge", "again"});
  EXPECT_TRUE(has(r.err, "acting as my-alias")) << r.err;
  // `relay setup --alias` chooses it explicitly.
  ASSERT_EQ(c2c({"relay", "setup", "--alias", "other"}).exit_code, 0);
  r = c2c({"relay", "rooms", "send", "swarm-lounge", "from other"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.err, "acting as other")) << r.err;
  r = c2c({"relay", "rooms", "leave", "swarm-lounge", "--alias", "my-alias"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Issue 13: relay commands decide "which alias am I" by the local commands' rule
// (broker/whoami.hpp), so any session variable names it, not only C2C_MCP_SESSION_ID.
TEST_F(RelayCliLive, RoomsActAsTheAliasOfAnySessionVariable) {
  write_file(dir / "broker" / "registry.json",
             R"([{"session_id":"ses-a","alias":"alpha","pid":1,"pid_start_time":1},)"
             R"({"session_id":"ses-b","alias":"beta","pid":1,"pid_start_time":1}])");
  env["CLAUDE_SESSION_ID"] = "ses-b";
  auto r = c2c({"relay", "rooms", "join", "lounge"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.err, "acting as beta (the alias of CLAUDE_SESSION_ID;")) << r.err;
  EXPECT_TRUE(has(r.out, "joined room lounge as beta")) << r.out;
  env.erase("CLAUDE_SESSION_ID");
  env["CODEX_THREAD_ID"] = "ses-a";
  r = c2c({"relay", "rooms", "join", "lounge"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.err, "acting as alpha (the alias of CODEX_THREAD_ID;")) << r.err;
}

// Issue 8.4: the token saved for one relay is never sent to another URL from the environment
// (here both relays share the token, so a leaked token would be accepted and gc would succeed).
TEST_F(RelayCliLive, SavedTokenIsNotSentToAnotherRelay) {
  RelayProcess other = start_relay({"--token", "live-token"});
  ASSERT_FALSE(other.url.empty());
  env.erase("C2C_MCP_BROKER_ROOT");
  env.erase("C2C_RELAY_URL");
  const auto token_file = dir / "relay.token";
  c2c::test::write_private_file(token_file, "live-token\n");
  ASSERT_EQ(
      c2c({"relay", "setup", "--url", relay.url, "--token-file", token_file.string()}).exit_code,
      0);
  EXPECT_EQ(c2c({"relay", "gc", "--once"}).exit_code, 0);  // its own relay: token sent
  env["C2C_RELAY_URL"] = other.url;
  auto r = c2c({"relay", "gc", "--once"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(has(r.err, "admin route requires Bearer token")) << r.err;
  EXPECT_TRUE(has(r.err, "note: not sending the token saved in")) << r.err;
  env.erase("C2C_RELAY_URL");
  r = c2c({"relay", "gc", "--once", "--relay-url", other.url});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  // Given explicitly, the token goes with the given URL.
  r = c2c({"relay", "gc", "--once", "--relay-url", other.url, "--token-file", token_file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Issue 8.24: https:// to a plain-HTTP relay says so instead of blaming a certificate.
TEST_F(RelayCliLive, HttpsUrlToAPlainHttpRelaySaysSo) {
  const std::string https = "https://" + relay.url.substr(7);
  auto r = c2c({"relay", "status", "--relay-url", https});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "plain HTTP")) << r.err;
  EXPECT_TRUE(has(r.err, "use " + relay.url)) << r.err;
  EXPECT_FALSE(has(r.err, "certificate")) << r.err;
}

// Issue 8.11, with real processes: a loop connector whose alias another node holds says so once
// and keeps its interval (no backoff), while its other alias syncs every round.
TEST_F(RelayCliLive, LoopConnectorWithASquattedAliasDoesNotBackOff) {
  ASSERT_NO_FATAL_FAILURE(another_machine_holds("shared"));
  write_file(dir / "broker" / "registry.json",
             R"([{"session_id":"ses-s","alias":"shared","pid":1,"pid_start_time":1},
                 {"session_id":"ses-m","alias":"mine","pid":1,"pid_start_time":1}])");
  ProcessOptions o;
  o.env = env;
  o.unset_env = {"C2C_RELAY_TOKEN", "C2C_RELAY_CONFIG", "XDG_CONFIG_HOME", "C2C_RELAY_NODE_ID"};
  o.cwd = dir.str();
  Child conn(
      {c2c_bin(), "relay", "connect", "--interval", "0.2", "--verbose", "--node-id", "node-y"}, o);
  // Four rounds; the old connector printed "relay unhealthy; backing off" after each one.
  int rounds = 0;
  ASSERT_TRUE(
      conn.wait_for_line([&](const std::string& l) { return has(l, "sync: ") && ++rounds == 4; },
                         std::chrono::seconds(60)))
      << conn.out() << conn.err();
  conn.signal(SIGTERM);
  EXPECT_EQ(conn.wait(), 0);
  const std::string out = conn.out();
  EXPECT_FALSE(has(out, "backing off")) << out;
  const auto notice = out.find("alias shared not synced: alias_");
  ASSERT_NE(notice, std::string::npos) << out;
  EXPECT_EQ(out.find("alias shared not synced", notice + 1), std::string::npos) << "said once\n"
                                                                                << out;
  EXPECT_TRUE(has(out, "heartbeated=1")) << "the other alias syncs every round\n" << out;
}

}  // namespace
}  // namespace c2c::test
