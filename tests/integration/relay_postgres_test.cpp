// `c2c relay serve --storage postgres` as real processes on a real PostgreSQL server: one relay,
// two relays sharing one database (push across relays, races with exactly one winner), the
// database going away and coming back, and a database newer than the relay.
#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "c2c/crypto/identity.hpp"
#include "c2c/relay/store/pg_conn.hpp"
#include "relay_http.hpp"
#include "support/pg_server.hpp"

namespace c2c::relay::itest {
namespace {

using namespace std::chrono_literals;

#define REQUIRE_PG(pg)                                \
  std::string why_;                                   \
  test::PgServer* pg = test::shared_pg_server(&why_); \
  if (pg == nullptr) GTEST_SKIP() << test::pg_skip_message(why_)

std::vector<std::string> pg_args(const std::string& url) {
  return {"--storage", "postgres", "--db-url", url};
}

Json send_body(const std::string& from, const std::string& to, const std::string& content,
               const std::string& id = "") {
  Json b = {{"from_alias", from}, {"to_alias", to}, {"content", content}};
  if (!id.empty()) b["message_id"] = id;
  return b;
}

TEST(RelayPostgres, ServesAndNeverPrintsThePassword) {
  REQUIRE_PG(pg);
  const std::string url = pg->create_database();
  ASSERT_FALSE(url.empty());
  // Trust authentication ignores the password; it must still never be printed.
  const std::string with_password = "postgresql://c2c:hunter2-secret@" + url.substr(17);
  auto relay = test::start_relay(pg_args(with_password), relay_env());
  Http http(relay.url);
  ASSERT_TRUE(http.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(http.register_alias("alice", "na", "sa").ok());
  auto sent = http.post("/send", send_body("alice", "bob", "over postgres\n\x01 bytes"));
  ASSERT_TRUE(sent.ok()) << sent.body.dump();
  auto got = http.post("/poll_inbox", session("nb", "sb")).body["messages"];
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["content"], "over postgres\n\x01 bytes");
  EXPECT_EQ(stop_relay(relay), 0);
  const std::string out = relay.child->out();
  EXPECT_NE(out.find("storage: postgres\n"), std::string::npos) << out;
  EXPECT_NE(out.find("db: postgresql://c2c@/"), std::string::npos) << out;
  EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
  EXPECT_EQ(relay.child->err().find("hunter2"), std::string::npos);
}

TEST(RelayPostgres, ABatchIsAppliedInOrderOnceAndResendingItDeliversNothingTwice) {
  REQUIRE_PG(pg);
  const std::string url = pg->create_database();
  ASSERT_FALSE(url.empty());
  auto relay = test::start_relay(pg_args(url), relay_env());
  Http http(relay.url);
  ASSERT_TRUE(http.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(http.register_alias("carol", "nc", "sc").ok());
  Json messages = Json::array();
  for (int i = 0; i < 40; ++i) {
    const std::string to = i % 3 == 0 ? "carol" : "bob";
    messages.push_back({{"to_alias", to},
                        {"content", to + " " + std::to_string(i)},
                        {"message_id", "m-" + std::to_string(i)}});
  }
  messages.push_back({{"to_alias", "nobody"}, {"content", "x"}, {"message_id", "m-x"}});
  const Json body = {{"from_alias", "alice"}, {"messages", messages}};
  for (int round = 0; round < 2; ++round) {
    auto r = http.post("/send_batch", body);
    ASSERT_TRUE(r.ok()) << r.body.dump();
    ASSERT_EQ(r.body["results"].size(), 41u);
    EXPECT_EQ(r.body["results"][0]["result"], round == 0 ? "ok" : "duplicate");
    EXPECT_EQ(r.body["results"][40]["error_code"], "unknown_alias");
  }
  std::vector<std::string> want_bob;
  std::vector<std::string> want_carol;
  for (int i = 0; i < 40; ++i) {
    (i % 3 == 0 ? want_carol : want_bob)
        .push_back((i % 3 == 0 ? "carol " : "bob ") + std::to_string(i));
  }
  auto got = [&](const char* node, const char* sid) {
    std::vector<std::string> out;
    const auto page = http.post("/peek_inbox", session(node, sid));
    for (const auto& m : page.body["messages"]) out.push_back(m["content"]);
    return out;
  };
  EXPECT_EQ(got("nb", "sb"), want_bob);
  EXPECT_EQ(got("nc", "sc"), want_carol);
  EXPECT_EQ(stop_relay(relay), 0);
}

TEST(RelayPostgres, UnreachableDatabaseIsOneClearErrorAtStartup) {
  test::TempDir dir;
  auto r = test::run_c2c({"relay", "serve", "--listen", "127.0.0.1:0", "--storage", "postgres",
                          "--db-url", "postgresql://c2c:pw-not-shown@/nodb?host=" + dir.str()},
                         relay_env());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("error: cannot connect to PostgreSQL at postgresql://c2c@/nodb"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("pw-not-shown"), std::string::npos) << r.err;
  auto missing = test::run_c2c({"relay", "serve", "--storage", "postgres"}, [] {
    auto o = relay_env();
    o.unset_env.push_back("C2C_RELAY_DB_URL");
    return o;
  }());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("error: --storage postgres needs --db-url"), std::string::npos)
      << missing.err;
}

TEST(RelayPostgres, ADatabaseNewerThanTheRelayIsRefused) {
  REQUIRE_PG(pg);
  const std::string url = pg->create_database();
  {
    auto relay = test::start_relay(pg_args(url), relay_env());  // migrates to this version
    EXPECT_EQ(stop_relay(relay), 0);
  }
  auto conn = pg::Connection::open(url);
  ASSERT_TRUE(conn.has_value()) << conn.error().message;
  ASSERT_TRUE((*conn)->run("UPDATE c2c_schema SET version = version + 1"));
  auto r = test::run_c2c(
      {"relay", "serve", "--listen", "127.0.0.1:0", "--storage", "postgres", "--db-url", url},
      relay_env());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("newer than this c2c understands"), std::string::npos) << r.err;
}

// Two relays on one database.
struct Cluster {
  explicit Cluster(const std::string& url)
      : one(test::start_relay(pg_args(url), relay_env())),
        two(test::start_relay(pg_args(url), relay_env())),
        http1(one.url),
        http2(two.url) {}
  test::RelayProcess one, two;
  Http http1, http2;
};

TEST(RelayPostgresCluster, AMessageAcceptedByOneRelayWakesAStreamOnTheOther) {
  REQUIRE_PG(pg);
  Cluster c(pg->create_database());
  ASSERT_TRUE(c.http2.register_alias("bob", "machine-b", "sb").ok());
  ASSERT_TRUE(c.http1.register_alias("alice", "machine-a", "sa").ok());
  EXPECT_EQ(
      c.http2.post("/stream", {{"node_id", "machine-b"}, {"wait", 0}}).body["messages"].size(), 0u);
  // bob's connector waits on relay 2 (up to 60 s); alice sends through relay 1.
  const auto start = std::chrono::steady_clock::now();
  std::promise<Reply> frame;
  auto waiting = frame.get_future();
  std::thread streamer([&] {
    Http own(c.two.url);
    frame.set_value(own.post("/stream", {{"node_id", "machine-b"}, {"wait", 60}}));
  });
  ASSERT_TRUE(c.http1.post("/send", send_body("alice", "bob", "across relays")).ok());
  ASSERT_EQ(waiting.wait_for(30s), std::future_status::ready)
      << "relay 2's stream was not woken by relay 1's write";
  streamer.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  auto r = waiting.get();
  ASSERT_EQ(r.body["messages"].size(), 1u) << r.body.dump();
  EXPECT_EQ(r.body["messages"][0]["content"], "across relays");
  EXPECT_EQ(r.body["messages"][0]["from_node"], "machine-a");
  EXPECT_LT(elapsed, 30s) << "answered by the wake-up, not by the end of the wait";
  // alice@machine-b routes on relay 1 too: node ids registered through relay 2 are known there.
  ASSERT_TRUE(c.http1.post("/send", send_body("alice", "bob@machine-b", "by node")).ok());
}

TEST(RelayPostgresCluster, RacesAcrossTheTwoRelaysHaveExactlyOneWinner) {
  REQUIRE_PG(pg);
  Cluster c(pg->create_database());
  const auto kb = key(2);
  ASSERT_TRUE(c.http1.register_alias("alice", "na", "sa").ok());
  ASSERT_TRUE(c.http1.register_alias("bob", "nb", "sb", &kb).ok());
  constexpr int kRounds = 20;
  for (int i = 0; i < kRounds; ++i) {
    // The same alias registered through both relays at once, from two machines and two keys.
    const std::string alias = "racer" + std::to_string(i);
    const auto k1 = key(static_cast<uint8_t>(40 + i)), k2 = key(static_cast<uint8_t>(90 + i));
    Json b1 = c.http1.register_body(alias, "node-1", "s1", &k1);
    Json b2 = c.http2.register_body(alias, "node-2", "s2", &k2);
    Reply r1, r2;
    std::thread t1([&] { r1 = Http(c.one.url).post("/register", b1); });
    std::thread t2([&] { r2 = Http(c.two.url).post("/register", b2); });
    t1.join();
    t2.join();
    EXPECT_EQ(static_cast<int>(r1.ok()) + static_cast<int>(r2.ok()), 1)
        << alias << ": " << r1.body.dump() << " / " << r2.body.dump();
    const std::string loser = r1.ok() ? r2.code() : r1.code();
    EXPECT_TRUE(loser == "alias_conflict" || loser == "alias_identity_mismatch") << loser;

    // The same (sender, message_id) sent through both: delivered once, the other a duplicate.
    const std::string id = "dup-" + std::to_string(i);
    Reply s1, s2;
    std::thread u1([&] { s1 = Http(c.one.url).post("/send", send_body("alice", "bob", id, id)); });
    std::thread u2([&] { s2 = Http(c.two.url).post("/send", send_body("alice", "bob", id, id)); });
    u1.join();
    u2.join();
    ASSERT_TRUE(s1.ok() && s2.ok()) << s1.body.dump() << " / " << s2.body.dump();
    EXPECT_EQ(static_cast<int>(s1.body.value("duplicate", false)) +
                  static_cast<int>(s2.body.value("duplicate", false)),
              1);

    // The same signed request (same nonce) replayed to both: one answer, one nonce_replay.
    const std::string body = session("nb", "sb").dump();
    const std::string header =
        crypto::sign_request(kb, "bob", "POST", "/peek_inbox", "", body, now());
    Reply n1, n2;
    std::thread v1([&] {
      n1 = Http(c.one.url).call("POST", "/peek_inbox", body, {{"Authorization", header}});
    });
    std::thread v2([&] {
      n2 = Http(c.two.url).call("POST", "/peek_inbox", body, {{"Authorization", header}});
    });
    v1.join();
    v2.join();
    const int replays = static_cast<int>(n1.code() == "nonce_replay") +
                        static_cast<int>(n2.code() == "nonce_replay");
    EXPECT_EQ(replays, 1) << n1.body.dump() << " / " << n2.body.dump();
  }
  // Every duplicate pair left exactly one copy in bob's inbox.
  auto msgs = c.http1.post("/poll_inbox", session("nb", "sb")).body["messages"];
  std::multiset<std::string> ids;
  for (const auto& m : msgs) ids.insert(m["message_id"].get<std::string>());
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRounds));
  for (int i = 0; i < kRounds; ++i) EXPECT_EQ(ids.count("dup-" + std::to_string(i)), 1u);
}

// The relay identity lives in the database (docs/deploying.md): relays on one database sign
// their register receipts with one key, whatever their persist dirs hold; the first relay's key
// is the one stored, and a relay whose file holds another says so on stderr.
TEST(RelayPostgresCluster, EveryRelayOnOneDatabaseSignsWithOneIdentity) {
  REQUIRE_PG(pg);
  const std::string url = pg->create_database();
  ASSERT_FALSE(url.empty());
  test::TempDir dir1, dir2;
  auto with_dir = [&](const test::TempDir& d) {
    auto args = pg_args(url);
    args.insert(args.end(), {"--persist-dir", d.str()});
    return args;
  };
  auto one = test::start_relay(with_dir(dir1), relay_env());
  auto two = test::start_relay(with_dir(dir2), relay_env());
  auto three = test::start_relay(pg_args(url), relay_env());  // no persist dir: a fresh key
  ASSERT_FALSE(one.url.empty());
  ASSERT_FALSE(two.url.empty());
  ASSERT_FALSE(three.url.empty());
  const auto file1 = crypto::load_identity(dir1 / "relay-server-identity.json");
  const auto file2 = crypto::load_identity(dir2 / "relay-server-identity.json");
  ASSERT_TRUE(file1) << file1.error().message;
  ASSERT_TRUE(file2) << file2.error().message << " (the file is made as before)";
  ASSERT_NE(file1->public_key_b64u(), file2->public_key_b64u());

  std::vector<std::string> relay_pks;
  int n = 0;
  for (auto* relay : {&one, &two, &three}) {
    const auto k = key(static_cast<uint8_t>(60 + n));
    Http http(relay->url);
    auto reg = http.register_alias("signer" + std::to_string(n++), "node", "s", &k);
    ASSERT_TRUE(reg.ok()) << reg.raw;
    relay_pks.push_back(reg.body["receipt"]["relay_identity_pk"].get<std::string>());
  }
  EXPECT_EQ(relay_pks[0], file1->public_key_b64u()) << "the first relay's key is the one stored";
  EXPECT_EQ(relay_pks[1], relay_pks[0]);
  EXPECT_EQ(relay_pks[2], relay_pks[0]);

  const std::string fp = "relay-identity=" + crypto::fingerprint(file1->keys.public_key);
  for (auto* relay : {&one, &two, &three}) {
    EXPECT_TRUE(relay->child->wait_for_err_line(
        [&](const std::string& l) { return l.find(fp) != std::string::npos; }, 10s))
        << relay->child->err();
  }
  const std::string note = "uses the identity kept in the database";
  EXPECT_TRUE(two.child->wait_for_err_line(
      [&](const std::string& l) {
        return l.find(note) != std::string::npos &&
               l.find((dir2 / "relay-server-identity.json").string()) != std::string::npos;
      },
      10s))
      << two.child->err();
  EXPECT_EQ(one.child->err().find(note), std::string::npos) << one.child->err();
  EXPECT_EQ(three.child->err().find(note), std::string::npos)
      << "no file, nothing to set aside: " << three.child->err();
  for (auto* relay : {&one, &two, &three}) EXPECT_EQ(stop_relay(*relay), 0);
}

// Direct messages run side by side on a cluster (their sections hold the write lock shared), but
// sequence numbers along one inbox still follow commit order: a stream that acknowledges
// cumulatively while many senders write to the same inbox through both relays never drops a
// message it has not been handed (one committed late with a lower seq would be).
TEST(RelayPostgresCluster, ConcurrentSendsToOneInboxAreStreamedExactlyOnce) {
  REQUIRE_PG(pg);
  Cluster c(pg->create_database());
  ASSERT_TRUE(c.http2.register_alias("bob", "machine-b", "sb").ok());
  constexpr int kSenders = 4, kEach = 60;
  for (int s = 0; s < kSenders; ++s) {
    ASSERT_TRUE(
        c.http1.register_alias("s" + std::to_string(s), "na", "sa" + std::to_string(s)).ok());
  }
  std::atomic<int> accepted{0};
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    for (int relay = 0; relay < 2; ++relay) {
      senders.emplace_back([&, s, relay] {
        Http http(relay == 0 ? c.one.url : c.two.url);
        for (int i = relay; i < kEach; i += 2) {
          const std::string id = "s" + std::to_string(s) + "-" + std::to_string(i);
          if (http.post("/send", send_body("s" + std::to_string(s), "bob", id, id)).ok()) {
            ++accepted;
          }
        }
      });
    }
  }
  std::map<std::string, int> got;
  int64_t acked = 0;
  bool ordered = true;
  Http stream(c.two.url);
  const auto give_up = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < give_up) {
    Json body = {{"node_id", "machine-b"}, {"wait", 1}};
    if (acked > 0) body["acks"] = Json::array({{{"session_id", "sb"}, {"seq", acked}}});
    auto r = stream.post("/stream", body);
    ASSERT_TRUE(r.ok()) << r.body.dump();
    for (const auto& m : r.body["messages"]) {
      const int64_t seq = m["seq"].get<int64_t>();
      if (seq <= acked) ordered = false;
      acked = std::max(acked, seq);
      ++got[m["message_id"].get<std::string>()];
    }
    if (accepted.load() == kSenders * kEach && static_cast<int>(got.size()) == kSenders * kEach &&
        r.body["messages"].empty()) {
      break;
    }
  }
  for (auto& t : senders) t.join();
  EXPECT_EQ(accepted.load(), kSenders * kEach);
  EXPECT_TRUE(ordered) << "a frame carried a seq at or below one already acknowledged";
  int missing = 0, twice = 0;
  for (int s = 0; s < kSenders; ++s) {
    for (int i = 0; i < kEach; ++i) {
      const int n = got["s" + std::to_string(s) + "-" + std::to_string(i)];
      missing += n == 0;
      twice += n > 1;
    }
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(twice, 0);
}

TEST(RelayPostgres, DatabaseDownIs503WithRetryAfterAndTheRelayRecoversByItself) {
  // A private server: stopping the shared one would fail other tests.
  std::string why;
  auto pg = test::PgServer::start(&why);
  if (pg == nullptr) GTEST_SKIP() << test::pg_skip_message(why);
  auto relay = test::start_relay(pg_args(pg->create_database()), relay_env());
  Http http(relay.url);
  ASSERT_TRUE(http.register_alias("bob", "nb", "sb").ok());
  ASSERT_TRUE(http.post("/send", send_body("alice", "bob", "before", "m-before")).ok());

  // Load while the database goes away and comes back: a sender retrying each message (same id)
  // until it is acknowledged, as a connector does, until told to stop. Bounded: 60 s.
  std::vector<std::string> acked;  // read by this thread only after join()
  std::atomic<size_t> acked_count{0};
  int refused = 0;  // likewise
  std::atomic<bool> stop_load{false};
  std::thread load([&] {
    Http own(relay.url);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (int i = 0; !stop_load && std::chrono::steady_clock::now() < deadline; ++i) {
      const std::string id = "load-" + std::to_string(i);
      while (std::chrono::steady_clock::now() < deadline) {
        auto r = own.post("/send", send_body("alice", "bob", id, id));
        if (r.ok()) {
          acked.push_back(id);
          ++acked_count;
          break;
        }
        EXPECT_EQ(r.status, 503) << r.body.dump();
        EXPECT_FALSE(r.header("Retry-After").empty());
        ++refused;
      }
    }
  });
  // Waits (bounded) until `n` messages are acknowledged.
  auto acked_at_least = [&](size_t n) {
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (acked_count < n && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    return acked_count >= n;
  };
  if (!acked_at_least(20)) {
    stop_load = true;
    load.join();
    FAIL() << "the load did not start";
  }
  if (!pg->stop()) {
    stop_load = true;
    load.join();
    FAIL() << "pg_ctl stop failed";
  }
  for (const auto& [method, path, body] : std::vector<std::tuple<std::string, std::string, Json>>{
           {"POST", "/send", send_body("alice", "bob", "during", "m-during")},
           {"POST", "/peek_inbox", session("nb", "sb")},
           {"GET", "/list", Json()},
           {"GET", "/dashboard/events", Json()}}) {
    auto r = method == "GET" ? http.get(path) : http.post(path, body);
    EXPECT_EQ(r.status, 503) << path << ": " << r.body.dump();
    EXPECT_EQ(r.code(), "storage_unavailable") << path;
    EXPECT_FALSE(r.header("Retry-After").empty()) << path;
  }
  // /health answers through the outage and says writes cannot be stored now.
  const auto health_down = http.get("/health");
  EXPECT_EQ(health_down.status, 200) << health_down.body.dump();
  EXPECT_EQ(health_down.body["persistence"].value("writable", true), false)
      << health_down.body.dump();

  const bool started = pg->start_again();
  const bool resumed = started && acked_at_least(acked_count + 20);
  stop_load = true;
  load.join();
  ASSERT_TRUE(started);
  EXPECT_TRUE(resumed) << "the load's sends were acknowledged again once the database was back";
  EXPECT_GT(refused, 0) << "the load met the outage";
  // The relay reconnects on its own: the first requests may still meet dropped connections.
  Reply sent;
  for (int i = 0; i < 50; ++i) {
    sent = http.post("/send", send_body("alice", "bob", "during", "m-during"));
    if (sent.status != 503) break;
  }
  ASSERT_TRUE(sent.ok()) << sent.body.dump();
  EXPECT_EQ(http.get("/health").body["persistence"].value("writable", false), true);
  std::vector<std::string> ids;
  while (true) {  // pages of at most 100
    auto page = http.post("/poll_inbox", session("nb", "sb")).body["messages"];
    if (page.empty()) break;
    for (const auto& m : page) ids.push_back(m["message_id"]);
  }
  std::vector<std::string> expected = {"m-before"};
  expected.insert(expected.end(), acked.begin(), acked.end());
  expected.push_back("m-during");
  std::sort(ids.begin(), ids.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ids, expected) << "every acknowledged message is there exactly once; a refused one "
                              "was stored once, on its retry";
  EXPECT_EQ(stop_relay(relay), 0);
}

}  // namespace
}  // namespace c2c::relay::itest
