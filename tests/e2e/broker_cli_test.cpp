// CLI transcripts of the peer and inbox commands: register, whoami, list, send, send-all,
// poll-inbox, peek-inbox, history, sweep, dead-letter, health.
#include <fstream>

#include "broker_cli_fixture.hpp"

namespace c2c::test {
namespace {

namespace fs = std::filesystem;

TEST_F(BrokerCli, RegisterWhoamiListHumanAndJson) {
  auto r = c2c({"register", "--alias", "alice", "--session-id", "ses-a", "--pid",
                std::to_string(::getpid())});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "registered alice (session ses-a)\n");
  EXPECT_TRUE(fs::exists(root() / "registry.json"));

  // Defaults from the environment; --json.
  auto j = json_of(c2c({"register", "--json", "--pid", "0"},
                       {{"C2C_MCP_AUTO_REGISTER_ALIAS", "bob"}, {"C2C_MCP_SESSION_ID", "ses-b"}}));
  EXPECT_EQ(j["alias"], "bob");
  EXPECT_EQ(j["session_id"], "ses-b");
  EXPECT_FALSE(j.contains("pid"));

  auto who = c2c({"whoami"}, {{"C2C_MCP_SESSION_ID", "ses-a"}});
  ASSERT_EQ(who.exit_code, 0) << who.err;
  EXPECT_EQ(who.out, "alias:      alice\nsession_id: ses-a\n");
  auto who_claude = json_of(c2c({"whoami", "--json"}, {{"CLAUDE_SESSION_ID", "ses-b"}}));
  EXPECT_EQ(who_claude, (nlohmann::json{{"alias", "bob"}, {"session_id", "ses-b"}}));
  auto who_codex = c2c({"whoami"}, {{"CODEX_THREAD_ID", "nobody"}});
  EXPECT_TRUE(has(who_codex.out, "alias:      (not registered)")) << who_codex.out;
  auto no_sid = c2c({"whoami"});
  EXPECT_EQ(no_sid.exit_code, 1);
  expect_one_error_line(no_sid, "cannot determine session ID");

  auto list = c2c({"list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(has(list.out, "  bob                  unknown\n")) << list.out;
  EXPECT_TRUE(has(list.out, "  alice                alive   pid=" + std::to_string(::getpid())))
      << list.out;
  auto all = c2c({"list", "--all"});
  EXPECT_TRUE(has(all.out, "ses-a")) << all.out;
  auto lj = json_of(c2c({"list", "--json"}));
  ASSERT_EQ(lj.size(), 2u);
  EXPECT_EQ(lj[0]["alias"], "bob");  // most recently registered first
  EXPECT_TRUE(lj[0]["alive"].is_null());
  EXPECT_EQ(lj[1]["alive"], true);
  EXPECT_EQ(lj[1]["pid"], ::getpid());
}

TEST_F(BrokerCli, EmptyBrokerAndRegisterErrors) {
  EXPECT_EQ(c2c({"list"}).out, "No registered peers.\n");
  EXPECT_EQ(json_of(c2c({"list", "--json"})), nlohmann::json::array());
  auto no_alias = c2c({"register", "--session-id", "s1"});
  EXPECT_EQ(no_alias.exit_code, 1);
  expect_one_error_line(no_alias, "no alias: pass --alias NAME or set C2C_MCP_AUTO_REGISTER_ALIAS");
  auto no_sid = c2c({"register", "--alias", "a"});
  EXPECT_EQ(no_sid.exit_code, 1);
  expect_one_error_line(no_sid, "no session id");
  auto bad = c2c({"register", "--alias", ".hidden", "--session-id", "s1"});
  EXPECT_EQ(bad.exit_code, 1);
  expect_one_error_line(bad, "invalid alias '.hidden'");
  auto reserved = c2c({"register", "--alias", "c2c-system", "--session-id", "s1"});
  EXPECT_EQ(reserved.exit_code, 1);
  expect_one_error_line(reserved, "reserved");
  auto usage = c2c({"register", "--pid", "notanumber"});
  EXPECT_EQ(usage.exit_code, 2);
}

TEST_F(BrokerCli, LiveAliasConflictSuggestsAFreeAlias) {
  reg("alice", "ses-a");
  auto r = c2c({"register", "--alias", "Alice", "--session-id", "ses-x", "--pid",
                std::to_string(::getpid())});
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "alias 'Alice' is currently held by an alive session 'ses-a'");
  EXPECT_TRUE(has(r.err, "Suggested free alias: 'alice-2'")) << r.err;
  auto forced = c2c({"register", "--alias", "Alice", "--session-id", "ses-x", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
}

TEST_F(BrokerCli, SendPollPeekHistoryTranscript) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  auto s = c2c({"send", "bob", "hello", "there", "--from", "alice"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const std::string prefix = "ok -> bob (from alice), message_id ";
  ASSERT_EQ(s.out.rfind(prefix, 0), 0u) << s.out;
  const std::string first_id = s.out.substr(prefix.size(), s.out.size() - prefix.size() - 1);
  EXPECT_EQ(first_id.size(), 36u) << s.out;
  auto st = c2c({"delivery-status", first_id});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_EQ(st.out.rfind("message " + first_id + " from alice\n  bob: delivered (accepted ", 0), 0u)
      << st.out;
  auto sj = json_of(c2c({"send", "bob", "second", "--json"}, {{"C2C_MCP_SESSION_ID", "ses-a"}}));
  EXPECT_EQ(sj["queued"], true);
  EXPECT_EQ(sj["remote"], false);
  EXPECT_EQ(sj["from_alias"], "alice");
  EXPECT_EQ(sj["to_alias"], "bob");
  EXPECT_EQ(sj["message_id"].get<std::string>().size(), 36u);

  auto peek = c2c({"peek-inbox", "--session-id", "ses-b"});
  ASSERT_EQ(peek.exit_code, 0) << peek.err;
  EXPECT_EQ(peek.out, "[alice] hello there\n[alice] second\n");
  auto pj = json_of(c2c({"poll-inbox", "--peek", "--json"}, {{"C2C_MCP_SESSION_ID", "ses-b"}}));
  ASSERT_EQ(pj.size(), 2u);
  EXPECT_EQ(pj[1]["message_id"], sj["message_id"]);
  EXPECT_EQ(pj[0]["content"], "hello there");

  auto poll = c2c({"poll-inbox", "--json"}, {{"C2C_MCP_SESSION_ID", "ses-b"}});
  auto polled = json_of(poll);
  ASSERT_EQ(polled.size(), 2u);
  EXPECT_TRUE(polled[0].contains("ts"));
  EXPECT_EQ(c2c({"poll-inbox", "-s", "ses-b"}).out, "(no messages)\n");
  EXPECT_EQ(c2c({"peek-inbox", "-s", "ses-b", "--json"}).out, "[]\n");

  auto hist = c2c({"history", "--session-id", "ses-b"});
  ASSERT_EQ(hist.exit_code, 0) << hist.err;
  EXPECT_TRUE(has(hist.out, "alice -> bob: second\n")) << hist.out;
  auto hj = json_of(c2c({"history", "-s", "ses-b", "--limit", "1", "--json"}));
  ASSERT_EQ(hj.size(), 1u);
  EXPECT_EQ(hj[0]["content"], "second");
  EXPECT_EQ(hj[0]["drained_by"], "cli_poll");

  // Both messages went accepted -> delivered -> read.
  auto dj = json_of(c2c({"delivery-status", sj["message_id"].get<std::string>(), "--json"}));
  EXPECT_EQ(dj["state"], "read");
  EXPECT_EQ(dj["from_alias"], "alice");
  EXPECT_EQ(dj["recipients"][0]["recipient"], "bob");
  EXPECT_TRUE(dj["recipients"][0]["read_at"].is_number());
  EXPECT_EQ(dj["events"].back()["via"], "cli_poll");
  EXPECT_TRUE(has(c2c({"delivery-status", first_id}).out, "  bob: read (")) << first_id;
  auto unknown_id = c2c({"delivery-status", "00000000-0000-4000-8000-000000000000"});
  EXPECT_EQ(unknown_id.exit_code, 1);
  expect_one_error_line(unknown_id, "no receipts for message_id");

  auto no_session = c2c({"poll-inbox"});
  EXPECT_EQ(no_session.exit_code, 1);
  expect_one_error_line(no_session, "cannot determine session ID");
}

TEST_F(BrokerCli, SendErrorsAndExitCodes) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  auto unknown = c2c({"send", "nobody", "hi", "--from", "alice"});
  EXPECT_EQ(unknown.exit_code, 1);
  expect_one_error_line(unknown, "unknown alias 'nobody'");
  EXPECT_FALSE(fs::exists(root() / "remote-outbox.jsonl"));  // never silently queued (D7)

  auto self = c2c({"send", "alice", "hi", "--from", "alice"});
  EXPECT_EQ(self.exit_code, 1);
  expect_one_error_line(self, "cannot send a message to yourself (alice)");

  auto two_tags = c2c({"send", "bob", "x", "--from", "alice", "--fail", "--urgent"});
  EXPECT_EQ(two_tags.exit_code, 2);
  EXPECT_TRUE(has(two_tags.err, "error: ")) << two_tags.err;
  auto missing_msg = c2c({"send", "bob"});
  EXPECT_EQ(missing_msg.exit_code, 2);

  // Two aliases registered and no hint who "I" am: the error names --from (D14).
  auto who = c2c({"send", "bob", "x"});
  EXPECT_EQ(who.exit_code, 1);
  expect_one_error_line(who, "cannot determine your alias");
  EXPECT_TRUE(has(who.err, "--from")) << who.err;

  // The env alias is used when the env session is not registered.
  auto by_alias = c2c({"send", "bob", "x"}, {{"C2C_MCP_SESSION_ID", "unknown-ses"},
                                             {"C2C_MCP_AUTO_REGISTER_ALIAS", "alice"}});
  EXPECT_EQ(by_alias.out.rfind("ok -> bob (from alice), message_id ", 0), 0u) << by_alias.err;

  // A room name given as the alias gets a hint.
  ASSERT_EQ(c2c({"rooms", "join", "lounge", "-s", "ses-a"}).exit_code, 0);
  auto room = c2c({"send", "lounge", "hi", "--from", "alice"});
  EXPECT_EQ(room.exit_code, 1);
  expect_one_error_line(room, "'lounge' is a room, not a peer alias.");
  EXPECT_TRUE(has(room.err, "hint: use `c2c room send lounge <message>`")) << room.err;

  auto urgent = c2c({"send", "bob", "fire", "--from", "alice", "--urgent"});
  ASSERT_EQ(urgent.exit_code, 0) << urgent.err;
  auto msgs = json_of(c2c({"peek-inbox", "-s", "ses-b", "--json"}));
  EXPECT_EQ(msgs.back()["content"], "\xE2\x9A\xA0\xEF\xB8\x8F URGENT: fire");
}

// The relay quickstart (docs/quickstart.md), local half: hand-written registries, a send to
// alias@host with no --from, and peek-inbox on the other broker.
TEST_F(BrokerCli, SeedQuickstartSendToRemoteAlias) {
  const fs::path a = dir / "broker-a", b = dir / "broker-b";
  fs::create_directories(a);
  fs::create_directories(b);
  std::ofstream(a / "registry.json")
      << R"([{"session_id":"ses-a","alias":"relay-peer-a","pid":1,"pid_start_time":1}])"
      << "\n";
  std::ofstream(b / "registry.json")
      << R"([{"session_id":"ses-b","alias":"relay-peer-b","pid":1,"pid_start_time":1}])"
      << "\n";
  auto s = c2c({"send", "relay-peer-b@machine-b", "hello from A"},
               {{"C2C_MCP_BROKER_ROOT", a.string()}});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out.rfind("ok -> relay-peer-b@machine-b (from relay-peer-a) queued for the relay, "
                        "message_id ",
                        0),
            0u)
      << s.out;
  std::ifstream outbox(a / "remote-outbox.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(outbox, line));
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["from_alias"], "relay-peer-a");
  EXPECT_EQ(j["to_alias"], "relay-peer-b@machine-b");
  EXPECT_EQ(j["content"], "hello from A");
  EXPECT_EQ(j["attempts"], 1);
  auto peek = c2c({"peek-inbox", "--session-id", "ses-b"}, {{"C2C_MCP_BROKER_ROOT", b.string()}});
  ASSERT_EQ(peek.exit_code, 0) << peek.err;
  EXPECT_EQ(peek.out, "(no messages)\n");
  // The hand-written registry is still intact (the send never rewrote it).
  auto list = json_of(c2c({"list", "--json"}, {{"C2C_MCP_BROKER_ROOT", a.string()}}));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["alias"], "relay-peer-a");
  EXPECT_EQ(list[0]["alive"], false);
}

TEST_F(BrokerCli, SendAllHumanAndJson) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  reg("carol", "ses-c");
  ASSERT_EQ(
      c2c({"register", "--alias", "ghost", "--session-id", "ses-g", "--pid", "99999999"}).exit_code,
      0);
  auto r = c2c({"send-all", "standup", "in", "5", "--from", "alice", "--exclude", "carol"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Sent to: bob\n  skipped ghost (not_alive)\n");
  auto j = json_of(c2c({"send-all", "again", "--from", "alice", "--json"}));
  EXPECT_EQ(j["sent_to"], (nlohmann::json{"carol", "bob"}));
  EXPECT_EQ(j["skipped"][0]["alias"], "ghost");
  EXPECT_EQ(j["skipped"][0]["reason"], "not_alive");
  auto none = c2c({"send-all", "x", "--from", "alice", "-x", "bob,carol"});
  EXPECT_EQ(none.out, "Sent to: (none)\n  skipped ghost (not_alive)\n");
}

TEST_F(BrokerCli, SweepDeadLetterAndRedelivery) {
  reg("alice", "ses-a");
  ASSERT_EQ(c2c({"register", "--alias", "gone", "--session-id", "ses-g", "--pid", "0"}).exit_code,
            0);
  ASSERT_EQ(c2c({"send", "gone", "are you there", "--from", "alice"}).exit_code, 0);
  EXPECT_EQ(c2c({"dead-letter"}).out, "No dead letters.\n");
  // Its process dies (re-register the same session with a pid that does not exist).
  ASSERT_EQ(
      c2c({"register", "--alias", "gone", "--session-id", "ses-g", "--pid", "99999999"}).exit_code,
      0);
  auto sweep = c2c({"sweep"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_EQ(sweep.out,
            "Dropped 1 registrations, 1 inboxes, 1 messages preserved.\n"
            "  dropped gone (session ses-g)\n");
  auto again = json_of(c2c({"sweep", "--json"}));
  EXPECT_EQ(again["dropped_regs"], nlohmann::json::array());
  EXPECT_EQ(again["preserved_messages"], 0);

  auto dl = c2c({"dead-letter"});
  EXPECT_TRUE(has(dl.out, "alice -> gone (session ses-g): are you there")) << dl.out;
  auto dlj = json_of(c2c({"dead-letter", "--json"}));
  ASSERT_EQ(dlj.size(), 1u);
  EXPECT_EQ(dlj[0]["from_session_id"], "ses-g");
  EXPECT_EQ(dlj[0]["message"]["content"], "are you there");

  auto back = c2c({"register", "--alias", "gone", "--session-id", "ses-new", "--pid",
                   std::to_string(::getpid())});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(back.out, "registered gone (session ses-new)\nredelivered 1 dead-letter message(s)\n");
  EXPECT_EQ(c2c({"poll-inbox", "-s", "ses-new"}).out, "[alice] are you there\n");
  EXPECT_EQ(c2c({"dead-letter", "--json"}).out, "[]\n");
}

TEST_F(BrokerCli, HealthReportsBrokerThenRelay) {
  reg("alice", "ses-a");
  ASSERT_EQ(
      c2c({"register", "--alias", "ghost", "--session-id", "ses-g", "--pid", "99999999"}).exit_code,
      0);
  auto h = c2c({"health"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_TRUE(has(h.out, "broker root:   " + root().string() + "\n")) << h.out;
  EXPECT_TRUE(has(h.out, "registrations: 2 (1 alive, 0 unknown, 1 dead)\n")) << h.out;
  EXPECT_TRUE(has(h.out, "Relay")) << h.out;  // the relay line comes last
  EXPECT_TRUE(h.out.rfind("Relay") > h.out.find("rooms:")) << h.out;
  auto j = json_of(c2c({"health", "--json"}));
  EXPECT_EQ(j["broker_root"], root().string());
  EXPECT_EQ(j["registrations"], 2);
  EXPECT_EQ(j["alive"], 1);
  EXPECT_EQ(j["dead"], 1);
  EXPECT_EQ(j["root_exists"], true);
  EXPECT_TRUE(j["relay"].contains("status"));
}

TEST_F(BrokerCli, CorruptRegistryIsAClearErrorAndLeftAlone) {
  fs::create_directories(root());
  std::ofstream(root() / "registry.json") << "[{\"session_id\":";
  auto r = c2c({"list"});
  EXPECT_EQ(r.exit_code, 1);
  expect_one_error_line(r, "registry.json is not valid");
  auto reg_r = c2c({"register", "--alias", "a", "--session-id", "s"});
  EXPECT_EQ(reg_r.exit_code, 1);
  std::ifstream in(root() / "registry.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "[{\"session_id\":");
}

}  // namespace
}  // namespace c2c::test
