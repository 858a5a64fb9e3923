// `c2c relay serve` as a process: startup lines exactly as docs/quickstart.md shows them, flags,
// token sources, graceful shutdown, TLS, and persistence of the memory backend's persist dir.
#include <future>
#include <sstream>
#include <thread>

#include "c2c/crypto/identity.hpp"
#include "relay_http.hpp"

namespace c2c::relay::itest {
namespace {

std::vector<std::string> stdout_lines(test::Child& child, size_t n) {
  // Startup lines are printed together and flushed before the server runs.
  std::vector<std::string> lines;
  child.wait_for_line([&](const std::string& l) { return l.rfind("gc: ", 0) == 0; },
                      std::chrono::seconds(20));
  std::istringstream in(child.out());
  std::string line;
  while (lines.size() < n && std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string port_of(const std::string& url) {
  return url.substr(url.rfind(':') + 1);
}

TEST(RelayServe, DevMemoryStartupLines) {
  auto relay = test::start_relay({}, relay_env());
  auto lines = stdout_lines(*relay.child, 4);
  ASSERT_EQ(lines.size(), 4u) << relay.child->out();
  EXPECT_EQ(lines[0], "c2c relay serving on " + relay.url);
  EXPECT_NE(port_of(relay.url), "0") << "the actual port is printed";
  EXPECT_EQ(lines[1], "storage: memory");
  EXPECT_EQ(lines[2], "auth: DISABLED (no token set — do not expose publicly)");
  EXPECT_EQ(lines[3], "gc: disabled");
  Http http(relay.url);
  auto health = http.get("/health");
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(health.body["auth_mode"], "dev");
  EXPECT_EQ(health.body["storage"], "memory");
  EXPECT_EQ(stop_relay(relay), 0);
  EXPECT_NE(relay.child->err().find("relay-server v"), std::string::npos) << "banner on stderr";
}

TEST(RelayServe, ProdSqliteStartupLinesWithTokenFile) {
  test::TempDir dir;
  test::write_private_file(dir / "token", "s3cret\n");
  const std::string db = (dir / "relay.db").string();
  auto relay = test::start_relay({"--token-file", (dir / "token").string(), "--storage", "sqlite",
                                  "--db-path", db, "--gc-interval", "300"},
                                 relay_env());
  auto lines = stdout_lines(*relay.child, 5);
  ASSERT_EQ(lines.size(), 5u) << relay.child->out();
  EXPECT_EQ(lines[0], "c2c relay serving on " + relay.url);
  EXPECT_EQ(lines[1], "storage: sqlite");
  EXPECT_EQ(lines[2], "db: " + db);
  EXPECT_EQ(lines[3], "auth: Bearer token required");
  EXPECT_EQ(lines[4], "gc: running every 300s");
  EXPECT_TRUE(std::filesystem::exists(db)) << "--db-path is honoured";
  Http http(relay.url);
  EXPECT_EQ(http.get("/health").body["storage"], "sqlite");
  EXPECT_EQ(http.call("POST", "/gc", "", {{"Authorization", "Bearer s3cret"}}).status, 200)
      << "the token is the file's first line without its newline";
  EXPECT_EQ(http.call("POST", "/gc", "", {{"Authorization", "Bearer s3cret2"}}).status, 401);
  EXPECT_EQ(relay.child->err().find("visible"), std::string::npos) << "no --token warning";
  EXPECT_EQ(stop_relay(relay), 0);
}

TEST(RelayServe, TokenOnTheCommandLineWarnsAndEnvTokenWorks) {
  auto relay = test::start_relay({"--token", "cli-token"}, relay_env());
  EXPECT_TRUE(relay.child->wait_for_err_line(
      [](const std::string& l) { return l.find("--token-file") != std::string::npos; },
      std::chrono::seconds(10)));
  Http http(relay.url);
  EXPECT_EQ(http.call("POST", "/gc", "", {{"Authorization", "Bearer cli-token"}}).status, 200);
  EXPECT_EQ(stop_relay(relay), 0);

  auto env = relay_env();
  env.unset_env = {"C2C_RELAY_PERSIST_DIR"};
  env.env["C2C_RELAY_TOKEN"] = "env-token";
  auto from_env = test::start_relay({}, env);
  Http http2(from_env.url);
  EXPECT_EQ(http2.get("/health").body["auth_mode"], "prod");
  EXPECT_EQ(http2.call("POST", "/gc", "", {{"Authorization", "Bearer env-token"}}).status, 200);
  EXPECT_EQ(stop_relay(from_env), 0);
}

TEST(RelayServe, BadFlagsFailWithUsageErrors) {
  auto env = relay_env();
  env.timeout = std::chrono::seconds(20);
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--storage", "mysql"}, "--storage must be memory, sqlite or postgres"},
      {{"--db-url", "postgresql://x@/y"}, "--db-url is for --storage postgres"},
      {{"--tls-cert", "/nonexistent.pem"}, "--tls-cert and --tls-key must be given together"},
      {{"--listen", "nohost"}, "--listen must be HOST:PORT"},
      {{"--listen", "127.0.0.1:99999"}, "--listen port must be 0-65535"},
      {{"--rate-limit", "sometimes"}, "--rate-limit must be on, off or auto"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"relay", "serve"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = test::run_c2c(args, env);
    EXPECT_EQ(r.exit_code, 2) << c.message << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("serving on"), std::string::npos);
  }
  auto missing = test::run_c2c(
      {"relay", "serve", "--listen", "127.0.0.1:0", "--token-file", "/nonexistent/token"}, env);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot read --token-file"), std::string::npos) << missing.err;
}

TEST(RelayServe, PortInUseIsAClearError) {
  auto first = test::start_relay({}, relay_env());
  auto env = relay_env();
  env.timeout = std::chrono::seconds(20);
  auto r = test::run_c2c({"relay", "serve", "--listen", "127.0.0.1:" + port_of(first.url)}, env);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("error: "), std::string::npos);
  EXPECT_EQ(r.out.find("serving on"), std::string::npos);
}

TEST(RelayServe, SigintAlsoStopsGracefully) {
  auto relay = test::start_relay({}, relay_env());
  Http http(relay.url);
  ASSERT_EQ(http.get("/health").status, 200);
  relay.child->signal(SIGINT);
  EXPECT_EQ(relay.child->wait(std::chrono::seconds(20)), 0);
}

TEST(RelayServe, MemoryPersistDirKeepsRoomHistoryAndIdentity) {
  test::TempDir dir;
  auto env = relay_env();
  env.unset_env = {"C2C_RELAY_TOKEN", "C2C_REQUIRE_SIGNED_ROOM_OPS"};
  env.env["C2C_RELAY_PERSIST_DIR"] = dir.str();
  auto k = key(1);
  std::string relay_pk;
  {
    auto relay = test::start_relay({}, env);
    Http http(relay.url);
    auto reg = http.register_alias("alice", "na", "sa", &k);
    ASSERT_TRUE(reg.ok()) << reg.raw;
    relay_pk = reg.body["receipt"]["relay_identity_pk"];
    ASSERT_TRUE(http.post("/join_room", {{"alias", "alice"}, {"room_id", "lounge"}}).ok());
    ASSERT_TRUE(
        http.post("/send_room",
                  {{"from_alias", "alice"}, {"room_id", "lounge"}, {"content", "remember me"}})
            .ok());
    EXPECT_EQ(stop_relay(relay), 0);
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "relay-server-identity.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "rooms/lounge/history.jsonl"));
  auto relay = test::start_relay({}, env);
  Http http(relay.url);
  auto hist = http.post("/room_history", {{"room_id", "lounge"}});
  ASSERT_EQ(hist.body["history"].size(), 2u) << hist.raw;
  EXPECT_EQ(hist.body["history"][1]["content"], "remember me");
  auto reg = http.register_alias("alice", "na", "sa", &k);
  ASSERT_TRUE(reg.ok());
  EXPECT_EQ(reg.body["receipt"]["relay_identity_pk"], relay_pk) << "same relay identity";
  EXPECT_EQ(stop_relay(relay), 0);
}

// With SQLite the relay identity lives in the database too (docs/relay-server.md, "Storage"): a
// relay restarted without its identity file keeps signing with the key it had.
TEST(RelayServe, SqliteKeepsTheRelayKeyInTheDatabase) {
  test::TempDir dir;
  const std::vector<std::string> args = {"--storage", "sqlite", "--db-path",
                                         (dir / "relay.db").string()};
  const auto file = dir / "relay-server-identity.json";
  auto k = key(1);
  std::string relay_pk;
  {
    auto relay = test::start_relay(args, relay_env());
    Http http(relay.url);
    auto reg = http.register_alias("alice", "na", "sa", &k);
    ASSERT_TRUE(reg.ok()) << reg.raw;
    relay_pk = reg.body["receipt"]["relay_identity_pk"];
    EXPECT_EQ(stop_relay(relay), 0);
  }
  const auto first = crypto::load_identity(file);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->public_key_b64u(), relay_pk) << "the file's key was the one stored";
  std::filesystem::remove(file);

  auto relay = test::start_relay(args, relay_env());
  Http http(relay.url);
  auto reg = http.register_alias("alice", "na", "sa", &k);
  ASSERT_TRUE(reg.ok()) << reg.raw;
  EXPECT_EQ(reg.body["receipt"]["relay_identity_pk"], relay_pk) << "the key came from the database";
  EXPECT_TRUE(relay.child->wait_for_err_line(
      [&](const std::string& l) {
        return l.find("uses the identity kept in the database") != std::string::npos &&
               l.find(file.string()) != std::string::npos;
      },
      std::chrono::seconds(10)))
      << relay.child->err();
  EXPECT_NE(relay.child->err().find("relay-identity=" + first->fingerprint), std::string::npos)
      << relay.child->err();
  EXPECT_EQ(stop_relay(relay), 0);
}

TEST(RelayServe, StatusPageAndMetricsOverHttp) {
  test::TempDir dir;
  test::write_private_file(dir / "token", "tok");
  auto relay = test::start_relay({"--token-file", (dir / "token").string()}, relay_env());
  Http http(relay.url);
  auto page = http.get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.raw.find("<html"), std::string::npos);
  EXPECT_EQ(page.raw.find("tok<"), std::string::npos);
  EXPECT_EQ(http.get("/metrics").status, 401);
  auto metrics = http.get("/metrics", {{"Authorization", "Bearer tok"}});
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.raw.find("c2c_relay_requests_total{route=\"/\",status=\"200\"} 1"),
            std::string::npos)
      << metrics.raw;
  EXPECT_EQ(stop_relay(relay), 0);
}

// An operator sees the receive stream on /metrics and the dashboard's state: a stream held open
// against the relay process counts as open until a message answers it (docs/relay-server.md).
TEST(RelayServe, MetricsShowOpenStreamsAndPushedMessages) {
  auto relay = test::start_relay({}, relay_env());
  Http http(relay.url);
  ASSERT_TRUE(http.register_alias("alice", "node-a", "ses-a").ok());
  ASSERT_TRUE(http.register_alias("bob", "node-b", "ses-b").ok());
  auto metrics_have = [&](const std::string& line) {
    return http.get("/metrics").raw.find(line + "\n") != std::string::npos;
  };
  auto within_5s = [&](const std::string& line) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!metrics_have(line)) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  };
  EXPECT_TRUE(metrics_have("c2c_relay_streams_open 0")) << http.get("/metrics").raw;
  // bob's machine opens its stream on its own connection; nothing is queued, so it waits.
  auto stream = std::async(std::launch::async, [url = relay.url] {
    Http own(url);
    return own.post("/stream", {{"node_id", "node-b"}, {"wait", 8}});
  });
  ASSERT_TRUE(within_5s("c2c_relay_streams_open 1")) << http.get("/metrics").raw;
  EXPECT_EQ(http.get("/dashboard/state").body["counts"]["streams_open"], 1);
  ASSERT_TRUE(
      http.post("/send", {{"from_alias", "alice"}, {"to_alias", "bob"}, {"content", "hi"}}).ok());
  ASSERT_EQ(stream.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const auto frame = stream.get();
  ASSERT_EQ(frame.status, 200) << frame.raw;
  ASSERT_EQ(frame.body["messages"].size(), 1u) << frame.raw;
  EXPECT_TRUE(within_5s("c2c_relay_streams_open 0")) << http.get("/metrics").raw;
  EXPECT_TRUE(metrics_have("c2c_relay_stream_frames_total 1"));
  EXPECT_TRUE(metrics_have("c2c_relay_stream_messages_total 1"));
  const auto counts = http.get("/dashboard/state").body["counts"];
  EXPECT_EQ(counts["stream_messages"], 1) << counts.dump();
  EXPECT_EQ(counts["stream_frames"], 1) << counts.dump();
  EXPECT_EQ(stop_relay(relay), 0);
}

TEST(RelayServe, TlsTermination) {
  test::TempDir dir;
  const std::string cert = (dir / "cert.pem").string(), pkey = (dir / "key.pem").string();
  auto gen =
      test::run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                 "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", pkey, "-out", cert});
  if (gen.exit_code != 0) GTEST_SKIP() << "openssl cannot make a test certificate: " << gen.err;
  auto env = relay_env();
  std::vector<std::string> argv{test::c2c_bin(), "relay", "serve",     "--listen", "127.0.0.1:0",
                                "--tls-cert",    cert,    "--tls-key", pkey};
  test::Child child(argv, env);
  auto line = child.wait_for_line(
      [](const std::string& l) { return l.rfind("c2c relay serving on ", 0) == 0; },
      std::chrono::seconds(20));
  ASSERT_TRUE(line) << child.err();
  const std::string url = line->substr(std::string("c2c relay serving on ").size());
  ASSERT_EQ(url.rfind("https://127.0.0.1:", 0), 0u) << url;
  net::ClientOptions opts;
  opts.ca_bundle = cert;
  auto client = net::HttpClient::create(url, opts);
  ASSERT_TRUE(client) << client.error().message;
  auto r = client->request(net::ClientRequest{"GET", "/health", {}, ""});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait(std::chrono::seconds(20)), 0);
}

}  // namespace
}  // namespace c2c::relay::itest
