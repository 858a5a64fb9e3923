// The quickstart's two-machine localhost test (docs/quickstart.md), automated: one relay process,
// two "machines" (own HOME, own broker root, own node id), `c2c relay connect --once` on each, in
// dev and prod mode.
#include <gtest/gtest.h>

#include "connector_util.hpp"

namespace c2c::test::connector {
namespace {

struct Mode {
  const char* name;
  std::string token;  // "" = dev mode
};
void PrintTo(const Mode& m, std::ostream* os) {
  *os << m.name;
}

class TwoMachines : public ::testing::TestWithParam<Mode> {
 protected:
  RelayProcess relay;
  Machine a{"machine-a"};
  Machine b{"machine-b"};

  void SetUp() override {
    std::vector<std::string> args;
    if (!token().empty()) args = {"--token", token()};
    relay = start_relay(args);
    ASSERT_FALSE(relay.url.empty());
    a.add_session("alice", "ses-a");
    b.add_session("bob", "ses-b");
    // First round on each machine: registration.
    for (Machine* m : {&a, &b}) {
      const auto r = m->connect_once(relay.url, token());
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      EXPECT_TRUE(contains(r.out, "relay=" + relay.url)) << r.out;
      EXPECT_TRUE(contains(r.out, "registered=1")) << r.out;
    }
  }
  const std::string& token() const { return GetParam().token; }

  std::vector<nlohmann::json> poll(const Machine& m, const std::string& session) {
    const auto r = m.c2c({"poll-inbox", "--session-id", session, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::vector<nlohmann::json> out;
    try {
      for (auto& j : nlohmann::json::parse(r.out)) out.push_back(j);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "poll-inbox --json: " << e.what() << ": " << r.out;
    }
    return out;
  }
};

TEST_P(TwoMachines, DirectMessageArrivesExactlyOnce) {
  auto sent = a.c2c({"send", "bob@machine-b", "hello from A", "--from", "alice"});
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;

  auto r = a.connect_once(relay.url, token());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "fwd=1")) << r.out;
  EXPECT_TRUE(contains(r.out, "heartbeated=1") || contains(r.out, "registered=1")) << r.out;
  r = b.connect_once(relay.url, token());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "inbound=1")) << r.out;

  auto msgs = poll(b, "ses-b");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["content"], "hello from A");
  // The sender's address routes back as is (docs/relay-client.md, "Replies route back").
  EXPECT_EQ(msgs[0]["from_alias"], "alice@machine-a");
  const std::string reply_to = msgs[0]["from_alias"].get<std::string>();
  EXPECT_TRUE(poll(b, "ses-b").empty());

  // Later rounds never bring it back, and A never sees B's mail.
  r = b.connect_once(relay.url, token());
  EXPECT_TRUE(contains(r.out, "inbound=0")) << r.out;
  EXPECT_TRUE(poll(b, "ses-b").empty());
  EXPECT_TRUE(poll(a, "ses-a").empty());

  // And back: B answers the from_alias it received.
  sent = b.c2c({"send", reply_to, "hi back from B", "--from", "bob"});
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  ASSERT_EQ(b.connect_once(relay.url, token()).exit_code, 0);
  r = a.connect_once(relay.url, token());
  EXPECT_TRUE(contains(r.out, "inbound=1")) << r.out;
  msgs = poll(a, "ses-a");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["content"], "hi back from B");
}

// The quickstart's step 5 through MCP: mcp__c2c__send(to_alias="bob@machine-b") on A, the two
// connectors, then mcp__c2c__poll_inbox on B returns it once.
TEST_P(TwoMachines, McpSendToAliasAtHostReachesMcpPollOnTheOtherMachine) {
  McpSession alice(a, "ses-a", "alice");
  const auto receipt = nlohmann::json::parse(
      alice.tool("send", {{"to_alias", "bob@machine-b"}, {"content", "Hello from machine A!"}}));
  EXPECT_EQ(receipt.value("queued", false), true) << receipt.dump();
  ASSERT_TRUE(receipt.contains("message_id")) << receipt.dump();

  auto r = a.connect_once(relay.url, token());
  EXPECT_TRUE(contains(r.out, "fwd=1")) << r.out << r.err;
  r = b.connect_once(relay.url, token());
  EXPECT_TRUE(contains(r.out, "inbound=1")) << r.out << r.err;

  McpSession bob(b, "ses-b", "bob");
  const auto polled = nlohmann::json::parse(bob.tool("poll_inbox", nlohmann::json::object()));
  ASSERT_EQ(polled.size(), 1u) << polled.dump();
  EXPECT_EQ(polled[0]["content"], "Hello from machine A!");
  EXPECT_EQ(polled[0]["from_alias"], "alice@machine-a");
  EXPECT_TRUE(nlohmann::json::parse(bob.tool("poll_inbox", nlohmann::json::object())).empty());
}

// Delivery receipts end to end (issue 9 item 5): A's MCP send to bob@machine-b goes accepted
// (queued) -> accepted by the relay -> delivered (B's connector wrote it into bob's inbox; the
// signed receipt came back through the relay) -> read (bob's wait_for_message drained it), one
// connector round of each side per step; A sees it through MCP delivery_status and the CLI.
TEST_P(TwoMachines, SenderSeesAcceptedDeliveredRead) {
  McpSession alice(a, "ses-a", "alice");
  const auto sent = nlohmann::json::parse(
      alice.tool("send", {{"to_alias", "bob@machine-b"}, {"content", "are you there?"}}));
  const std::string id = sent.value("message_id", "");
  ASSERT_FALSE(id.empty()) << sent.dump();
  auto status = [&] {
    return nlohmann::json::parse(alice.tool("delivery_status", {{"message_id", id}}));
  };
  auto st = status();
  EXPECT_EQ(st["state"], "accepted") << st.dump();
  EXPECT_EQ(st["recipients"][0]["recipient"], "bob@machine-b");

  ASSERT_EQ(a.connect_once(relay.url, token()).exit_code, 0);
  st = status();
  EXPECT_EQ(st["state"], "accepted") << st.dump();
  EXPECT_EQ(st["events"].back()["via"], "relay") << st.dump();

  auto r = b.connect_once(relay.url, token());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "inbound=1")) << r.out;
  r = a.connect_once(relay.url, token());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  st = status();
  EXPECT_EQ(st["state"], "delivered") << st.dump() << r.out;
  EXPECT_EQ(st["events"].back()["via"], "remote") << st.dump();
  EXPECT_EQ(st["events"].back()["node"], "machine-b") << st.dump();
  if (!token().empty()) {
    EXPECT_EQ(st["events"].back()["verified"], "ed25519") << st.dump();
  }

  McpSession bob(b, "ses-b", "bob");
  const auto got = nlohmann::json::parse(bob.tool("wait_for_message", {{"timeout_s", 10}}));
  ASSERT_EQ(got.size(), 1u) << got.dump();
  EXPECT_EQ(got[0]["content"], "are you there?");
  ASSERT_EQ(b.connect_once(relay.url, token()).exit_code, 0);
  ASSERT_EQ(a.connect_once(relay.url, token()).exit_code, 0);
  st = status();
  EXPECT_EQ(st["state"], "read") << st.dump();
  EXPECT_TRUE(st["recipients"][0]["read_at"].is_number()) << st.dump();
  const auto cli = a.c2c({"delivery-status", id});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_TRUE(contains(cli.out, "  bob@machine-b: read (accepted ")) << cli.out;
}

TEST_P(TwoMachines, RoomSharedAcrossHosts) {
  auto r =
      a.c2c({"relay", "rooms", "join", "lounge", "--alias", "alice", "--relay-url", relay.url});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "joined room lounge as alice")) << r.out;
  r = b.c2c({"relay", "rooms", "join", "lounge", "--alias", "bob", "--relay-url", relay.url});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = a.c2c({"relay", "rooms", "send", "lounge", "hello", "room", "--alias", "alice", "--relay-url",
             relay.url});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "sent to room lounge: 1 delivered, 0 skipped")) << r.out;

  r = b.connect_once(relay.url, token());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto inbox = b.inbox("ses-b");
  bool found = false;
  for (const auto& m : inbox) {
    if (m.content == "hello room") {
      found = true;
      EXPECT_EQ(m.from_alias, "alice@machine-a");
      EXPECT_EQ(m.room_id.value_or(""), "lounge");
      EXPECT_EQ(m.to_alias, "bob#lounge");
    }
  }
  EXPECT_TRUE(found) << "bob's local inbox lacks the room message";
  // The sender does not get its own room message back.
  ASSERT_EQ(a.connect_once(relay.url, token()).exit_code, 0);
  for (const auto& m : a.inbox("ses-a")) EXPECT_NE(m.content, "hello room");

  r = a.c2c({"relay", "rooms", "list", "--relay-url", relay.url});
  EXPECT_TRUE(contains(r.out, "lounge")) << r.out;
  EXPECT_TRUE(contains(r.out, "2 member(s): alice, bob") ||
              contains(r.out, "2 member(s): bob, alice"))
      << r.out;
  r = a.c2c({"relay", "rooms", "history", "lounge", "--relay-url", relay.url});
  EXPECT_TRUE(contains(r.out, "alice: hello room")) << r.out;
}

TEST_P(TwoMachines, StatusAndListShowBothPeers) {
  std::vector<std::string> args = {"relay",   "status",    "--relay-url",
                                   relay.url, "--node-id", "machine-a"};
  if (!token().empty()) args.insert(args.end(), {"--token", token()});
  auto r = a.c2c(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "relay: " + relay.url + "\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "status: OK\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "node_id: machine-a\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "peers: 2 alive / 2 total\n")) << r.out;

  args = {"relay", "list", "--relay-url", relay.url, "--json"};
  if (!token().empty()) args.insert(args.end(), {"--token", token()});
  r = a.c2c(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["peers"].size(), 2u);
  EXPECT_EQ(j["peers"][0]["alias"], "alice");
  EXPECT_EQ(j["peers"][0]["node_id"], "machine-a");
  EXPECT_EQ(j["peers"][1]["node_id"], "machine-b");
}

TEST_P(TwoMachines, SecondNodeCannotTakeALiveAlias) {
  // Same machine identity, another node id: the relay keeps the live lease (alias_conflict).
  auto r = b.c2c(
      {"relay", "register", "--alias", "bob", "--relay-url", relay.url, "--node-id", "machine-z"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.err, "alias_conflict")) << r.err;
  EXPECT_TRUE(contains(r.err, "unique alias")) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Modes, TwoMachines,
                         ::testing::Values(Mode{"dev", ""}, Mode{"prod", "dev-token"}),
                         [](const auto& p) { return std::string(p.param.name); });

// Prod mode with no identity and no token: the troubleshooting table's message.
TEST(ProdModeWithoutIdentity, PeerRouteNamesTheMissingEd25519Auth) {
  auto relay = start_relay({"--token", "secret"});
  Machine m{"machine-c"};
  const auto r = m.c2c({"relay", "list", "--relay-url", relay.url});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "unauthorized: peer route requires Ed25519 auth")) << r.err;
  EXPECT_TRUE(contains(r.err, "c2c relay identity init")) << r.err;
}

}  // namespace
}  // namespace c2c::test::connector
