// Relay config resolution: the order of docs/quickstart.md, relay.json files, node id
// (docs/decisions.md D8), token files.
#include "c2c/relay/client/config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>

#include "c2c/crypto/crypto.hpp"
#include "support/temp_dir.hpp"

namespace c2c::relay {
namespace {

using c2c::test::read_file;
using c2c::test::TempDir;
using c2c::test::write_file;
namespace fs = std::filesystem;

struct FakeEnv {
  std::map<std::string, std::string> vars;
  Env env() const { return env_of(vars); }
};

HostFacts facts(std::string host, std::string origin) {
  return HostFacts{[host] { return host; }, [origin] { return origin; }};
}

class ConfigTest : public ::testing::Test {
 protected:
  TempDir dir{"c2c-config"};
  FakeEnv env;
  HostFacts host = facts("box", "");
  void SetUp() override { env.vars["HOME"] = (dir / "home").string(); }
  fs::path home_config() const { return dir / "home" / ".config" / "c2c" / "relay.json"; }
  Resolved must_resolve(const Flags& f = {}) {
    auto r = resolve(f, env.env(), host);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r.value_or(Resolved{});
  }
};

TEST_F(ConfigTest, NothingConfiguredGivesNoUrlAndDerivedNodeId) {
  const auto r = must_resolve();
  EXPECT_EQ(r.url, "");
  EXPECT_EQ(r.token, "");
  EXPECT_EQ(r.node_id, "box-local");
  EXPECT_EQ(r.node_id_source, "derived");
  EXPECT_FALSE(r.config_path.has_value());
  EXPECT_EQ(r.identity_path, dir / "home" / ".config" / "c2c" / "identity.json");
}

TEST_F(ConfigTest, FlagsBeatEnvBeatSavedConfig) {
  ASSERT_TRUE(write_config_file(home_config(), {"http://saved:1", "saved-token", "saved-node"}));
  EXPECT_EQ(must_resolve().url, "http://saved:1");
  EXPECT_EQ(must_resolve().token, "saved-token");
  EXPECT_EQ(must_resolve().node_id, "saved-node");

  env.vars["C2C_RELAY_URL"] = "http://env:2";
  env.vars["C2C_RELAY_TOKEN"] = "env-token";
  env.vars["C2C_RELAY_NODE_ID"] = "env-node";
  auto r = must_resolve();
  EXPECT_EQ(r.url, "http://env:2");
  EXPECT_EQ(r.url_source, "C2C_RELAY_URL");
  EXPECT_EQ(r.token, "env-token");
  EXPECT_EQ(r.node_id, "env-node");

  Flags f;
  f.relay_url = "http://flag:3/";
  f.token = "flag-token";
  f.node_id = "flag-node";
  r = must_resolve(f);
  EXPECT_EQ(r.url, "http://flag:3");  // trailing slash stripped
  EXPECT_EQ(r.url_source, "--relay-url");
  EXPECT_EQ(r.token, "flag-token");
  EXPECT_EQ(r.node_id, "flag-node");
}

TEST_F(ConfigTest, BlankEnvironmentVariablesDoNotHideSavedConfig) {
  ASSERT_TRUE(write_config_file(home_config(), {"http://saved:1", "t", std::nullopt}));
  env.vars["C2C_RELAY_URL"] = "  ";
  env.vars["C2C_RELAY_TOKEN"] = "";
  const auto r = must_resolve();
  EXPECT_EQ(r.url, "http://saved:1");
  EXPECT_EQ(r.token, "t");
}

TEST_F(ConfigTest, ConfigFileSearchOrderFallsThroughMissingFiles) {
  const fs::path explicit_cfg = dir / "explicit.json";
  const fs::path broker_root = dir / "broker";
  env.vars["C2C_RELAY_CONFIG"] = explicit_cfg.string();
  env.vars["C2C_MCP_BROKER_ROOT"] = broker_root.string();

  ASSERT_TRUE(write_config_file(home_config(), {"http://home:1", std::nullopt, std::nullopt}));
  EXPECT_EQ(must_resolve().url, "http://home:1");

  ASSERT_TRUE(write_config_file(broker_root / "relay.json", {"http://broker:1", {}, {}}));
  EXPECT_EQ(must_resolve().url, "http://broker:1");
  EXPECT_EQ(*must_resolve().config_path, broker_root / "relay.json");

  ASSERT_TRUE(write_config_file(explicit_cfg, {"http://explicit:1", {}, {}}));
  EXPECT_EQ(must_resolve().url, "http://explicit:1");

  // --broker-root counts as <broker-root> for a command that has it.
  env.vars.erase("C2C_RELAY_CONFIG");
  Flags f;
  f.broker_root = dir / "other-broker";
  ASSERT_TRUE(write_config_file(dir / "other-broker" / "relay.json", {"http://other:1", {}, {}}));
  EXPECT_EQ(must_resolve(f).url, "http://other:1");
}

TEST_F(ConfigTest, SavePathFollowsTheSeedOrder) {
  EXPECT_EQ(config_save_path(env.env(), std::nullopt), home_config());
  env.vars["C2C_MCP_BROKER_ROOT"] = "/tmp/broker-x";
  EXPECT_EQ(config_save_path(env.env(), std::nullopt), fs::path("/tmp/broker-x/relay.json"));
  env.vars["C2C_RELAY_CONFIG"] = "/tmp/cfg.json";
  EXPECT_EQ(config_save_path(env.env(), std::nullopt), fs::path("/tmp/cfg.json"));
  env.vars["XDG_CONFIG_HOME"] = "/xdg";
  env.vars.erase("C2C_RELAY_CONFIG");
  env.vars.erase("C2C_MCP_BROKER_ROOT");
  EXPECT_EQ(config_save_path(env.env(), std::nullopt), fs::path("/xdg/c2c/relay.json"));
}

TEST_F(ConfigTest, SavedFileIsPrivateAndKeepsUnknownKeys) {
  write_file(home_config(), R"({"url":"http://a:1","custom":{"x":1}})");
  auto c = read_config_file(home_config());
  ASSERT_TRUE(c);
  c->token = "secret";
  ASSERT_TRUE(write_config_file(home_config(), c.value()));
  struct stat st {};
  ASSERT_EQ(::stat(home_config().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string text = read_file(home_config());
  EXPECT_NE(text.find("\"custom\""), std::string::npos);
  EXPECT_NE(text.find("secret"), std::string::npos);
  auto back = read_config_file(home_config());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->url.value_or(""), "http://a:1");
  EXPECT_EQ(back->token.value_or(""), "secret");
}

TEST_F(ConfigTest, ConfigHoldingATokenIsRefusedWhenOthersCanReadIt) {
  write_file(home_config(), R"({"url":"http://a:1","token":"secret"})");
  fs::permissions(home_config(), fs::perms::owner_read | fs::perms::owner_write |
                                     fs::perms::group_read | fs::perms::others_read);
  auto r = resolve({}, env.env(), host);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("permissions too permissive on " + home_config().string() +
                                   ": 0644 (expected 0600)"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("secret"), std::string::npos) << "never echo the token";
  // Private: accepted. A readable config without a token holds no secret: accepted too.
  fs::permissions(home_config(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(must_resolve({}).token, "secret");
  write_file(home_config(), R"({"url":"http://a:1"})");
  fs::permissions(home_config(), fs::perms::owner_read | fs::perms::owner_write |
                                     fs::perms::group_read | fs::perms::others_read);
  EXPECT_TRUE(resolve({}, env.env(), host));
}

TEST_F(ConfigTest, TokenFileReadableByOthersIsRefused) {
  write_file(dir / "token", "abc123\n");
  fs::permissions(dir / "token",
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  Flags f;
  f.token_file = dir / "token";
  auto r = resolve(f, env.env(), host);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("0640 (expected 0600)"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("abc123"), std::string::npos);
}

TEST_F(ConfigTest, InvalidConfigIsAClearErrorNamingTheFile) {
  write_file(home_config(), "{not json");
  auto r = resolve({}, env.env(), host);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(home_config().string()), std::string::npos);
  EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos);

  write_file(home_config(), R"({"url": 7})");
  r = resolve({}, env.env(), host);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'url' must be a string"), std::string::npos);

  write_file(home_config(), R"([1,2])");
  EXPECT_FALSE(resolve({}, env.env(), host));
}

TEST_F(ConfigTest, TokenFileIsTrimmedAndBeatsEnv) {
  c2c::test::write_private_file(dir / "token", "  abc123 \n");
  env.vars["C2C_RELAY_TOKEN"] = "env";
  Flags f;
  f.token_file = dir / "token";
  const auto r = must_resolve(f);
  EXPECT_EQ(r.token, "abc123");
  EXPECT_EQ(r.token_source, "--token-file");
}

TEST_F(ConfigTest, UnreadableOrEmptyTokenFileIsAnError) {
  Flags f;
  f.token_file = dir / "missing";
  auto r = resolve(f, env.env(), host);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot read token file"), std::string::npos);
  c2c::test::write_private_file(dir / "empty", "\n \n");
  f.token_file = dir / "empty";
  r = resolve(f, env.env(), host);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("is empty"), std::string::npos);
}

TEST_F(ConfigTest, UrlsMustBeHttpOrHttps) {
  EXPECT_EQ(normalize_url("https://relay.c2c.im/").value_or(""), "https://relay.c2c.im");
  EXPECT_EQ(normalize_url(" http://127.0.0.1:7331 ").value_or(""), "http://127.0.0.1:7331");
  EXPECT_FALSE(normalize_url("127.0.0.1:7331"));
  EXPECT_FALSE(normalize_url("ftp://x"));
  EXPECT_FALSE(normalize_url("http://"));
  Flags f;
  f.relay_url = "localhost:7331";
  auto r = resolve(f, env.env(), host);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--relay-url"), std::string::npos);
}

TEST_F(ConfigTest, NodeIdDefaultIsHostnameAndGitHash) {
  const std::string origin = "git@github.com:clankercode/c2c.git";
  const std::string expected = "box-" + crypto::sha256_hex(origin).substr(0, 8);
  EXPECT_EQ(derive_node_id(facts("box", origin)), expected);
  EXPECT_EQ(derive_node_id(facts("box", "")), "box-local");
  EXPECT_EQ(derive_node_id(facts("", "")), "localhost-local");
  // The host part must stay usable in alias@host.
  EXPECT_TRUE(is_valid_node_id(derive_node_id(facts("we ird@host/x", ""))));
}

TEST_F(ConfigTest, InvalidNodeIdIsRejected) {
  EXPECT_FALSE(is_valid_node_id(""));
  EXPECT_FALSE(is_valid_node_id("a@b"));
  EXPECT_FALSE(is_valid_node_id("a b"));
  EXPECT_FALSE(is_valid_node_id(std::string(129, 'a')));
  EXPECT_TRUE(is_valid_node_id("machine-a"));
  Flags f;
  f.node_id = "bad@node";
  EXPECT_FALSE(resolve(f, env.env(), host));
}

TEST_F(ConfigTest, IdentityPathFlagBeatsEnvBeatsDefault) {
  env.vars["C2C_RELAY_IDENTITY_PATH"] = "/env/identity.json";
  EXPECT_EQ(must_resolve().identity_path, fs::path("/env/identity.json"));
  EXPECT_TRUE(must_resolve().identity_path_explicit);
  Flags f;
  f.identity_path = "/flag/identity.json";
  EXPECT_EQ(must_resolve(f).identity_path, fs::path("/flag/identity.json"));
}

// Issue 8.4: the admin token saved for relay A must never be sent to a URL given by a flag or
// the environment; an explicitly given token goes with whatever URL was given.
TEST_F(ConfigTest, SavedTokenGoesOnlyToTheUrlItWasSavedWith) {
  ASSERT_TRUE(write_config_file(home_config(), {"http://relay-a:7331", "token-a", std::nullopt}));
  auto r = must_resolve();
  EXPECT_EQ(r.token, "token-a");
  EXPECT_TRUE(r.notes.empty());

  env.vars["C2C_RELAY_URL"] = "http://elsewhere:7331";
  r = must_resolve();
  EXPECT_EQ(r.url, "http://elsewhere:7331");
  EXPECT_EQ(r.token, "") << "the saved token must not go to another host";
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("not sending the token saved in " + home_config().string()),
            std::string::npos)
      << r.notes[0];
  EXPECT_EQ(r.notes[0].find("token-a"), std::string::npos) << "never echo the token";

  Flags f;
  f.relay_url = "http://other:1";
  EXPECT_EQ(must_resolve(f).token, "");
  // The same relay, spelled with a trailing slash or another case, keeps its token.
  f.relay_url = "HTTP://Relay-A:7331/";
  EXPECT_EQ(must_resolve(f).token, "token-a");

  // Explicit tokens go wherever the URL points.
  f.relay_url = "http://other:1";
  env.vars["C2C_RELAY_TOKEN"] = "env-token";
  EXPECT_EQ(must_resolve(f).token, "env-token");
  f.token = "flag-token";
  EXPECT_EQ(must_resolve(f).token, "flag-token");

  // A saved token with no saved URL is bound to nothing: never sent.
  env.vars.erase("C2C_RELAY_TOKEN");
  f.token.reset();
  write_file(home_config(), R"({"token":"orphan"})");
  fs::permissions(home_config(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(must_resolve(f).token, "");
}

// Issue 8.18: a 0-byte relay.json is an empty config, not an error.
TEST_F(ConfigTest, EmptyConfigFileIsAnEmptyConfig) {
  write_file(home_config(), "");
  auto c = read_config_file(home_config());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->url);
  EXPECT_FALSE(c->token);
  auto r = must_resolve();
  EXPECT_EQ(r.url, "");
  EXPECT_EQ(r.config_path, home_config());
  write_file(home_config(), " \n\t\n");
  EXPECT_TRUE(read_config_file(home_config()));
  Flags f;
  f.relay_url = "http://given:1";
  EXPECT_EQ(must_resolve(f).url, "http://given:1");
}

// Issue 8.18: an invalid relay.json stops only the commands that need it.
TEST_F(ConfigTest, InvalidConfigIsIgnoredWithANoteWhenTheUrlIsGiven) {
  write_file(home_config(), "{not json");
  EXPECT_FALSE(resolve({}, env.env(), host));  // it would have to provide the URL
  Flags f;
  f.relay_url = "http://given:1";
  auto r = must_resolve(f);
  EXPECT_EQ(r.url, "http://given:1");
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("ignoring the saved relay config"), std::string::npos) << r.notes[0];
  EXPECT_NE(r.notes[0].find(home_config().string()), std::string::npos) << r.notes[0];
  f.relay_url.reset();
  env.vars["C2C_RELAY_URL"] = "http://env:2";
  EXPECT_EQ(must_resolve(f).url, "http://env:2");
}

TEST_F(ConfigTest, OperatorAliasIsSavedAndRead) {
  SavedConfig c;
  c.url = "http://a:1";
  c.alias = "my-alias";
  ASSERT_TRUE(write_config_file(home_config(), c));
  EXPECT_EQ(read_config_file(home_config())->alias.value_or(""), "my-alias");
  EXPECT_EQ(must_resolve().alias, "my-alias");
}

// Issue 8.16: the quickstart redirects the connector log into ~/.local/share/c2c.
TEST_F(ConfigTest, EnsureUserDirsCreatesPrivateConfigAndDataDirs) {
  ASSERT_TRUE(ensure_user_dirs(env.env()));
  for (const auto& d :
       {dir / "home" / ".config" / "c2c", dir / "home" / ".local" / "share" / "c2c"}) {
    struct stat st {};
    ASSERT_EQ(::stat(d.c_str(), &st), 0) << d;
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u) << d;
  }
  EXPECT_TRUE(ensure_user_dirs(env.env()));  // idempotent
  env.vars["XDG_DATA_HOME"] = (dir / "xdg-data").string();
  ASSERT_TRUE(ensure_user_dirs(env.env()));
  EXPECT_TRUE(fs::is_directory(dir / "xdg-data" / "c2c"));
  EXPECT_EQ(user_data_dir(env.env()), dir / "xdg-data" / "c2c");
  // Without HOME nothing is created relative to the current directory.
  FakeEnv bare;
  EXPECT_TRUE(ensure_user_dirs(bare.env()));
  EXPECT_FALSE(fs::exists(".config/c2c"));
}

}  // namespace
}  // namespace c2c::relay
