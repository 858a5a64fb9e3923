// GET /dashboard/state and GET /: counts for everyone, details (peers, deliveries as metadata,
// GC runs, failed requests) in dev mode or with the admin token in prod; never contents or the
// token. /metrics gains the message, GC and connection counters.
#include <gtest/gtest.h>

#include "support/relay_harness.hpp"

namespace c2c::relay::testing {
namespace {

const char* kSecret = "the-content-nobody-may-see";

TEST(RelayDashboard, DevModeShowsDeliveriesAsMetadataOnly) {
  Harness h;
  ASSERT_TRUE(h.register_alias("alice", "node-a", "ses-a").ok());
  ASSERT_TRUE(h.register_alias("bob", "node-b", "ses-b").ok());
  ASSERT_TRUE(
      h.post("/send", {{"from_alias", "alice"}, {"to_alias", "bob"}, {"content", kSecret}}).ok());
  auto s = h.call("GET", "/dashboard/state");
  ASSERT_EQ(s.status, 200) << s.raw.body;
  EXPECT_TRUE(s.body["detail"].get<bool>());
  EXPECT_EQ(s.body["counts"]["peers_alive"], 2);
  EXPECT_EQ(s.body["counts"]["messages_sent"], 1);
  EXPECT_EQ(s.body["counts"]["queued_messages"], 1);
  EXPECT_EQ(s.body["per_second"].size(), server::Activity::kSeconds);
  EXPECT_EQ(s.body["per_second"].back(), 1) << "the message counts in the current second";
  ASSERT_EQ(s.body["deliveries"].size(), 1u);
  const auto& d = s.body["deliveries"][0];
  EXPECT_EQ(d["kind"], "send");
  EXPECT_EQ(d["from"], "alice");
  EXPECT_EQ(d["to"], "bob");
  EXPECT_EQ(d["bytes"], std::string(kSecret).size());
  ASSERT_EQ(s.body["peers"].size(), 2u);
  EXPECT_EQ(s.body["peers"][1]["alias"], "bob");
  EXPECT_EQ(s.body["peers"][1]["queued"], 1);
  EXPECT_TRUE(s.body["peers"][1]["alive"].get<bool>());
  EXPECT_EQ(s.raw.body.find(kSecret), std::string::npos) << "content leaked";

  // A poll is a delivery too; the queue empties.
  ASSERT_TRUE(h.post("/poll_inbox", {{"node_id", "node-b"}, {"session_id", "ses-b"}}).ok());
  s = h.call("GET", "/dashboard/state");
  EXPECT_EQ(s.body["counts"]["messages_polled"], 1);
  EXPECT_EQ(s.body["deliveries"][0]["kind"], "poll");
  EXPECT_EQ(s.body["deliveries"][0]["to"], "bob");
  EXPECT_EQ(s.body["peers"][1]["queued"], 0);
}

TEST(RelayDashboard, ProdModeGivesCountsOnlyWithoutTheAdminToken) {
  HarnessOptions o;
  o.token = "admin-token-xyz";
  Harness h(o);
  ASSERT_TRUE(h.register_alias("alice", "node-a", "ses-a").ok());
  ASSERT_TRUE(h.post("/join_room", {{"alias", "alice"}, {"room_id", "lounge"}}).ok());
  auto pub = h.call("GET", "/dashboard/state");
  ASSERT_EQ(pub.status, 200);
  EXPECT_FALSE(pub.body["detail"].get<bool>());
  EXPECT_EQ(pub.body["counts"]["peers_alive"], 1);
  EXPECT_EQ(pub.body["rooms"][0]["room_id"], "lounge");
  EXPECT_EQ(pub.body["rooms"][0]["members"], 1);
  for (const char* hidden : {"peers", "deliveries", "gc", "errors"}) {
    EXPECT_FALSE(pub.body.contains(hidden)) << hidden;
  }
  for (const char* secret : {"alice", "node-a", "ses-a", "admin-token-xyz"}) {
    EXPECT_EQ(pub.raw.body.find(secret), std::string::npos) << secret;
  }
  auto wrong = h.call("GET", "/dashboard/state", "", {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.code(), "unauthorized");
  auto admin = h.call("GET", "/dashboard/state", "", {{"Authorization", "Bearer admin-token-xyz"}});
  ASSERT_EQ(admin.status, 200);
  EXPECT_TRUE(admin.body["detail"].get<bool>());
  EXPECT_EQ(admin.body["peers"][0]["alias"], "alice");
  EXPECT_EQ(admin.body["rooms"][0]["member_aliases"][0], "alice");
  // The refused token shows up as a failed request, by route and code.
  ASSERT_FALSE(admin.body["errors"].empty());
  EXPECT_EQ(admin.body["errors"][0]["route"], "/dashboard/state");
  EXPECT_EQ(admin.body["errors"][0]["status"], 401);
  EXPECT_EQ(admin.body["errors"][0]["error_code"], "unauthorized");
  EXPECT_EQ(admin.raw.body.find("admin-token-xyz"), std::string::npos);
}

// GET /dashboard/events: the same state pushed as server-sent events (the page follows it),
// each event the state as it is when written; the same audience rules as /dashboard/state.
TEST(RelayDashboard, EventsPushTheCurrentStateToTheSameAudience) {
  HarnessOptions o;
  o.token = "admin-token-xyz";
  Harness h(o);
  auto data_of = [](const std::string& event) {
    EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
    EXPECT_EQ(event.substr(event.size() - 2), "\n\n") << event;
    return nlohmann::json::parse(event.substr(6));
  };
  auto pub = h.call("GET", "/dashboard/events");
  ASSERT_EQ(pub.status, 200) << pub.raw.body;
  EXPECT_EQ(pub.raw.content_type, "text/event-stream");
  ASSERT_NE(pub.raw.events, nullptr);
  ASSERT_TRUE(pub.raw.events->next_event);
  const auto before = data_of(pub.raw.events->next_event());
  EXPECT_FALSE(before["detail"].get<bool>());
  EXPECT_EQ(before["counts"]["peers_total"], 0);
  EXPECT_FALSE(before.contains("peers"));

  ASSERT_TRUE(h.register_alias("alice", "node-a", "ses-a").ok());
  const auto after = data_of(pub.raw.events->next_event());
  EXPECT_EQ(after["counts"]["peers_total"], 1) << "the next event shows the new peer";

  auto wrong = h.call("GET", "/dashboard/events", "", {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.raw.events, nullptr);
  auto admin =
      h.call("GET", "/dashboard/events", "", {{"Authorization", "Bearer admin-token-xyz"}});
  ASSERT_EQ(admin.status, 200);
  ASSERT_NE(admin.raw.events, nullptr);
  const auto detail = data_of(admin.raw.events->next_event());
  EXPECT_TRUE(detail["detail"].get<bool>());
  ASSERT_EQ(detail["peers"].size(), 1u);
  EXPECT_EQ(detail["peers"][0]["alias"], "alice");
}

TEST(RelayDashboard, GcRunsAreRecordedAndCounted) {
  Harness h;
  ASSERT_TRUE(h.call("POST", "/gc").ok());
  auto s = h.call("GET", "/dashboard/state");
  EXPECT_EQ(s.body["counts"]["gc_runs"], 1);
  ASSERT_EQ(s.body["gc"].size(), 1u);
  EXPECT_EQ(s.body["gc"][0]["error"], "");
  const auto m = h.call("GET", "/metrics");
  EXPECT_NE(m.raw.body.find("c2c_relay_gc_runs_total 1\n"), std::string::npos) << m.raw.body;
}

TEST(RelayDashboard, MetricsCountMessagesAndConnections) {
  Harness h;
  h.router->set_connection_gauges([] { return server::ConnectionGauges{3, 10, 2, 1, 1, 4, 5}; });
  ASSERT_TRUE(h.register_alias("alice", "node-a", "ses-a").ok());
  ASSERT_TRUE(
      h.post("/send", {{"from_alias", "alice"}, {"to_alias", "alice"}, {"content", "x"}}).ok());
  const std::string m = h.call("GET", "/metrics").raw.body;
  for (const char* line :
       {"c2c_relay_messages_sent_total 1\n", "c2c_relay_messages_polled_total 0\n",
        "c2c_relay_connections_open 3\n", "c2c_relay_connections_accepted_total 10\n",
        "c2c_relay_connections_rejected_total 2\n", "c2c_relay_connections_busy 1\n",
        "c2c_relay_connections_rejected_per_ip_total 1\n",
        "c2c_relay_connections_evicted_total 4\n", "c2c_relay_requests_abandoned_total 5\n"}) {
    EXPECT_NE(m.find(line), std::string::npos) << line << m;
  }
  auto s = h.call("GET", "/dashboard/state");
  EXPECT_EQ(s.body["counts"]["connections_open"], 3);
}

TEST(RelayDashboard, PageIsTheLiveDashboardWithSafeHeaders) {
  Harness h;
  auto page = h.call("GET", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.raw.body.find("/dashboard/events"), std::string::npos);
  EXPECT_EQ(page.raw.body.find("{{"), std::string::npos) << "unfilled placeholder";
  // An inline icon: a browser's own GET /favicon.ico would answer 401 in prod mode.
  EXPECT_NE(page.raw.body.find(R"(<link rel="icon" href="data:,">)"), std::string::npos);
  bool csp = false;
  for (const auto& hd : page.raw.headers) {
    if (hd.name == "Content-Security-Policy") {
      csp = true;
      EXPECT_NE(hd.value.find("frame-ancestors 'none'"), std::string::npos);
    }
  }
  EXPECT_TRUE(csp);
}

TEST(RelayDashboard, ActivityKeepsBoundedHistoryAndAMovingWindow) {
  FakeClock clock(kT0);
  server::Activity a(clock);
  for (int i = 0; i < 70; ++i) a.delivery({0, "send", "a", "b", 1, 1});
  clock.advance(3);
  a.delivery({0, "send_room", "a", "#r", 1, 4});
  auto s = a.snapshot();
  EXPECT_EQ(s.deliveries.size(), server::Activity::kDeliveries);
  EXPECT_EQ(s.messages_sent, 74u);
  EXPECT_EQ(s.per_second.back(), 4u);
  EXPECT_EQ(s.per_second[server::Activity::kSeconds - 4], 70u);
  clock.advance(static_cast<double>(server::Activity::kSeconds) + 5);
  s = a.snapshot();
  for (auto v : s.per_second) EXPECT_EQ(v, 0u);
}

}  // namespace
}  // namespace c2c::relay::testing
