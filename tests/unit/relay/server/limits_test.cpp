// Rate limits, metrics, the status page, the async (worker pool) path, the persist-dir archive
// and the GC loop.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "c2c/relay/server/gc_loop.hpp"
#include "c2c/relay/server/persist.hpp"
#include "c2c/relay/store/sqlite_store.hpp"
#include "support/relay_harness.hpp"
#include "support/store_writes.hpp"
#include "support/temp_dir.hpp"

namespace c2c::relay::testing {
namespace {

using server::RateLimitMode;

HarnessOptions limited(RateLimitMode mode = RateLimitMode::kOn) {
  HarnessOptions o;
  o.rate_limit = mode;
  return o;
}

TEST(RelayLimits, PubkeyAllowsExactlyOneHundredThenDenies) {
  Harness h(limited());
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(h.call("GET", "/pubkey/nobody").status, 404) << i;
  }
  auto denied = h.call("GET", "/pubkey/nobody");
  EXPECT_EQ(denied.status, 429);
  EXPECT_EQ(denied.body["ok"], false);
  EXPECT_EQ(denied.code(), "rate_limit_exceeded");
  EXPECT_NEAR(denied.body["retry_after"].get<double>(), 0.1, 1e-6);
  ASSERT_EQ(denied.raw.headers.size(), 1u);
  EXPECT_EQ(denied.raw.headers[0].name, "Retry-After");
  EXPECT_EQ(denied.raw.headers[0].value, "1");
  h.clock.advance(0.11);  // refill is 10 tokens/s
  EXPECT_EQ(h.call("GET", "/pubkey/nobody").status, 404) << "one token refilled";
}

TEST(RelayLimits, BucketsArePerIpAndPerRouteClass) {
  Harness h(limited());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
  const std::string body = R"({"from_alias":"a","to_alias":"bob","content":"x"})";
  for (int i = 0; i < 20; ++i) ASSERT_EQ(h.call("POST", "/send", body).status, 200) << i;
  auto denied = h.call("POST", "/send", body);
  EXPECT_EQ(denied.status, 429);
  EXPECT_EQ(h.call("POST", "/send", body, {}, "10.0.0.2").status, 200) << "other IP";
  EXPECT_EQ(h.post("/heartbeat", session("nb", "sb")).status, 200) << "other class";
  EXPECT_EQ(h.call("GET", "/list").status, 200) << "unlimited route";
  EXPECT_EQ(h.call("GET", "/unknown").status, 404) << "unknown paths are unlimited";
  EXPECT_EQ(h.store->queued_messages(), 21u) << "denied requests did nothing";
}

TEST(RelayLimits, LoopbackIsExemptInAutoMode) {
  Harness h(limited(RateLimitMode::kNonLoopback));
  for (int i = 0; i < 150; ++i) ASSERT_EQ(h.call("GET", "/pubkey/x").status, 404);
  for (const char* ip : {"::1", "127.0.0.5", "::ffff:127.0.0.1"}) {
    EXPECT_EQ(h.call("GET", "/pubkey/x", "", {}, ip).status, 404) << ip;
  }
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(h.call("GET", "/pubkey/x", "", {}, "192.0.2.1").status, 404);
  EXPECT_EQ(h.call("GET", "/pubkey/x", "", {}, "192.0.2.1").status, 429);
}

TEST(RelayLimits, MetricsCountRequestsByRouteAndStatus) {
  Harness h;
  h.call("GET", "/health");
  h.call("GET", "/health");
  h.call("POST", "/send", "{");
  h.call("GET", "/nowhere");
  ASSERT_TRUE(h.register_alias("alice", "n", "s").ok());
  auto m = h.call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.raw.content_type.rfind("text/plain", 0), 0u);
  const std::string& text = m.raw.body;
  EXPECT_NE(text.find("c2c_relay_requests_total{route=\"/health\",status=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("c2c_relay_requests_total{route=\"/send\",status=\"400\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("c2c_relay_requests_total{route=\"unknown\",status=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("c2c_relay_request_duration_seconds_count{route=\"/health\"} 2\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("c2c_relay_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"} 2\n"),
      std::string::npos);
  EXPECT_NE(text.find("c2c_relay_leases{state=\"alive\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("c2c_relay_queued_messages 0\n"), std::string::npos);
  EXPECT_NE(text.find("c2c_relay_rooms 0\n"), std::string::npos);
}

TEST(RelayLimits, StatusPageShowsStateButNoSecrets) {
  HarnessOptions o;
  o.token = "super-secret-token";
  Harness h(o);
  ASSERT_TRUE(h.register_alias("alice", "secret-node", "secret-session").ok());
  ASSERT_TRUE(h.post("/join_room", {{"alias", "alice"}, {"room_id", "lounge"}}).ok());
  auto page = h.call("GET", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.raw.content_type, "text/html; charset=utf-8");
  const std::string& html = page.raw.body;
  EXPECT_NE(html.find("prod"), std::string::npos);
  EXPECT_NE(html.find("memory"), std::string::npos);
  EXPECT_NE(html.find("<td>1</td>"), std::string::npos) << "one live peer";
  EXPECT_NE(html.find("lounge"), std::string::npos);
  EXPECT_EQ(html.find("super-secret-token"), std::string::npos);
  EXPECT_EQ(html.find("secret-node"), std::string::npos);
  EXPECT_EQ(html.find("secret-session"), std::string::npos);
}

TEST(RelayLimits, SqliteWritesAreAnsweredAfterASharedCommit) {
  test::TempDir dir;
  const std::string url = "sqlite:" + (dir / "relay.db").string();
  constexpr int kRequests = 200;
  {
    HarnessOptions o;
    o.store_url = url;
    Harness h(o);
    ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());  // handle_sync commits inline

    // A read is answered inline, before handle() returns.
    bool answered_inline = false;
    net::Request health;
    health.method = "GET";
    health.path = health.target = "/health";
    h.router->handle(health, [&](net::Response r) { answered_inline = r.status == 200; });
    EXPECT_TRUE(answered_inline);

    auto* sqlite = dynamic_cast<SqliteStore*>(h.store.get());
    ASSERT_NE(sqlite, nullptr);
    ASSERT_TRUE(h.store->wait_durable());
    const auto before = sqlite->stats();
    // Hold the writer back (as a slow disk would) while the requests arrive: none may be
    // answered before its write is durable, and once the writer goes on they all share one
    // database transaction.
    sqlite->hold_writer(true);
    std::mutex mu;
    std::condition_variable cv;
    int answered = 0, ok = 0;
    for (int i = 0; i < kRequests; ++i) {
      net::Request req;
      req.method = "POST";
      req.path = req.target = "/send";
      req.body =
          Json{{"from_alias", "a"}, {"to_alias", "bob"}, {"content", std::to_string(i)}}.dump();
      req.remote_ip = "127.0.0.1";
      h.router->handle(std::move(req), [&](net::Response r) {
        std::lock_guard lock(mu);
        if (r.status == 200) ++ok;
        ++answered;
        cv.notify_all();
      });
    }
    {
      std::lock_guard lock(mu);
      EXPECT_EQ(answered, 0) << "answered before the write was durable";
    }
    EXPECT_EQ(sqlite->stats().transactions, before.transactions);
    sqlite->hold_writer(false);
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return answered == kRequests; }));
    EXPECT_EQ(ok, kRequests);
    EXPECT_EQ(sqlite->stats().transactions - before.transactions, 1u)
        << "the requests queued together share one transaction";
  }
  // Everything acknowledged is in the database.
  auto reopened = open_store(url);
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ(reopened.value()->queued_messages(), static_cast<size_t>(kRequests));
}

TEST(RelayLimits, HistoryArchiveRoundTripsThroughTheSink) {
  test::TempDir dir;
  {
    Harness h;
    server::HistoryArchive archive(dir.path());
    h.service->set_history_sink([&](const std::string& room, const StoredMessage& e) {
      ASSERT_TRUE(archive.append(room, e));
    });
    ASSERT_TRUE(h.register_alias("alice", "na", "sa").ok());
    ASSERT_TRUE(h.post("/join_room", {{"alias", "alice"}, {"room_id", "lounge"}}).ok());
    ASSERT_TRUE(h.register_alias("bob", "nb", "sb").ok());
    ASSERT_TRUE(h.post("/join_room", {{"alias", "bob"}, {"room_id", "lounge"}}).ok());
    ASSERT_TRUE(
        h.post("/send_room", {{"from_alias", "alice"}, {"room_id", "lounge"}, {"content", "kept"}})
            .ok());
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "rooms/lounge/history.jsonl"));
  // A garbage line is skipped, not fatal.
  {
    std::ofstream junk(dir / "rooms/lounge/history.jsonl", std::ios::app);
    junk << "{not json\n";
  }
  Harness fresh;
  server::HistoryArchive archive(dir.path());
  auto stats = archive.load_into(*fresh.store);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->rooms, 1u);
  EXPECT_EQ(stats->entries, 3u);
  EXPECT_EQ(stats->skipped, 1u);
  auto hist = fresh.post("/room_history", {{"room_id", "lounge"}}).body["history"];
  ASSERT_EQ(hist.size(), 3u);
  EXPECT_EQ(hist[2]["content"], "kept");
  EXPECT_EQ(hist[2]["from_alias"], "alice");
  EXPECT_TRUE(fresh.store->get_room("lounge")->members.empty()) << "memberships are not archived";
  EXPECT_EQ(server::HistoryArchive::sanitize("../etc/x y"), "___etc_x_y");
  EXPECT_EQ(server::HistoryArchive::sanitize(""), "_");
}

TEST(RelayLimits, RelayIdentityIsCreatedOnceAndReloaded) {
  test::TempDir dir;
  auto first = server::load_or_create_relay_identity(dir.path(), kT0);
  ASSERT_TRUE(first);
  auto second = server::load_or_create_relay_identity(dir.path(), kT0 + 10);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(first->public_key_b64u(), second->public_key_b64u());
  auto ephemeral = server::load_or_create_relay_identity(std::nullopt, kT0);
  ASSERT_TRUE(ephemeral);
  EXPECT_NE(ephemeral->public_key_b64u(), first->public_key_b64u());
}

// A relay on a database signs with the identity the database keeps: the first relay's file
// identity is stored; a later relay (or a restart) with another file uses the stored one and is
// told so; a stored value that does not parse stops the relay.
TEST(RelayLimits, RelayIdentityIsAdoptedFromTheStore) {
  test::TempDir dir1, dir2;
  auto opened = SqliteStore::open((dir1 / "relay.db").string());
  ASSERT_TRUE(opened) << opened.error().message;
  Store& store = **opened;
  auto first = server::load_relay_identity(store, dir1.path(), kT0);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(first->from_store);
  const auto file1 = crypto::load_identity(dir1 / "relay-server-identity.json");
  ASSERT_TRUE(file1);
  EXPECT_EQ(first->identity.public_key_b64u(), file1->public_key_b64u());
  EXPECT_EQ(store.get_setting(server::kRelayIdentitySetting).value(),
            crypto::identity_to_json(*file1));
  EXPECT_EQ(server::describe_relay_identity(*first),
            "  relay-identity=" + crypto::fingerprint(file1->keys.public_key) + "\n");

  auto second = server::load_relay_identity(store, dir2.path(), kT0 + 5);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->from_store);
  EXPECT_EQ(second->identity.public_key_b64u(), file1->public_key_b64u());
  EXPECT_EQ(second->identity.keys.seed, file1->keys.seed) << "it can sign";
  const std::string described = server::describe_relay_identity(*second);
  EXPECT_NE(described.find("uses the identity kept in the database (" + file1->fingerprint +
                           "), not the one in " + (dir2 / "relay-server-identity.json").string()),
            std::string::npos)
      << described;
  auto ephemeral = server::load_relay_identity(store, std::nullopt, kT0);
  ASSERT_TRUE(ephemeral);
  EXPECT_EQ(ephemeral->identity.public_key_b64u(), file1->public_key_b64u());
  EXPECT_EQ(server::describe_relay_identity(*ephemeral).find("not the one in"), std::string::npos)
      << "no file to set aside";

  MemoryStore broken;
  ASSERT_TRUE(
      test::writes(broken).adopt_setting(server::kRelayIdentitySetting, "{\"version\": 1}"));
  auto refused = server::load_relay_identity(broken, dir1.path(), kT0);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("relay identity kept in the database is unreadable"),
            std::string::npos)
      << refused.error().message;
}

TEST(RelayLimits, GcLoopTicksUntilStopped) {
  std::mutex mu;
  std::condition_variable cv;
  int ticks = 0;
  server::GcLoop loop(0.01, [&] {
    std::lock_guard lock(mu);
    ++ticks;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return ticks >= 3; }));
  }
  loop.stop();  // joins: no tick can follow
  std::lock_guard lock(mu);
  const int at_stop = ticks;
  EXPECT_GE(at_stop, 3);
}

}  // namespace
}  // namespace c2c::relay::testing
