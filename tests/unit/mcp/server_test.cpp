// JSON-RPC methods and error codes of the MCP server, driven through handle_line.
#include <random>

#include "c2c/core/version.hpp"
#include "mcp_fixture.hpp"

namespace c2c::mcp::test {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  c2c::test::TempDir dir_{"c2c-mcp-server"};
  Agent agent_{dir_.path(), std::optional<std::string>("ses-a")};

  std::vector<std::string> raw(std::string_view line) { return agent_.server().handle_line(line); }
  json one(std::string_view line) {
    auto out = raw(line);
    EXPECT_EQ(out.size(), 1u) << line;
    return out.empty() ? json() : json::parse(out.front());
  }
  static void expect_error(const json& r, int code, const json& id) {
    ASSERT_TRUE(r.contains("error")) << r.dump();
    EXPECT_EQ(r["jsonrpc"], "2.0");
    EXPECT_EQ(r["error"]["code"], code) << r.dump();
    EXPECT_TRUE(r["error"]["message"].is_string());
    EXPECT_EQ(r["id"], id);
    EXPECT_FALSE(r.contains("result"));
  }
};

TEST_F(ServerTest, InitializeAnswersTheClientsSupportedVersion) {
  for (const char* v : {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}) {
    const json r =
        agent_.request("initialize", {{"protocolVersion", v}, {"capabilities", json::object()}});
    EXPECT_EQ(r["result"]["protocolVersion"], v);
  }
}

TEST_F(ServerTest, InitializeAnswersTheLatestVersionForUnknownOrMissingOnes) {
  EXPECT_EQ(agent_.request("initialize",
                           {{"protocolVersion", "1999-01-01"}})["result"]["protocolVersion"],
            "2025-11-25");
  EXPECT_EQ(agent_.request("initialize", json::object())["result"]["protocolVersion"],
            "2025-11-25");
  EXPECT_EQ(agent_.request("initialize", {{"protocolVersion", 42}})["result"]["protocolVersion"],
            "2025-11-25");
}

// Claude Code 2.1 opens with the stateless revision's probe, then falls back to initialize when
// the answer is an error other than the stateless ones (-32022 UnsupportedProtocolVersion).
TEST_F(ServerTest, DiscoverProbeIsDeclinedSoTheClientFallsBackToInitialize) {
  const json probe =
      one(R"({"jsonrpc":"2.0","id":"discover-1","method":"server/discover","params":{"_meta":)"
          R"({"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
          R"("io.modelcontextprotocol/clientCapabilities":{}}}})");
  expect_error(probe, kMethodNotFound, "discover-1");
  const std::string message = probe["error"]["message"];
  for (const char* v : kProtocolVersions) EXPECT_NE(message.find(v), std::string::npos) << v;
  EXPECT_NE(message.find("initialize"), std::string::npos);
  EXPECT_FALSE(probe["error"].contains("data"));
  // The handshake that follows is unaffected.
  const json init = agent_.request(
      "initialize", {{"protocolVersion", "2025-11-25"}, {"capabilities", json::object()}});
  EXPECT_EQ(init["result"]["protocolVersion"], "2025-11-25");
  // Still declined after initialize: the era does not change within one process.
  expect_error(one(R"({"jsonrpc":"2.0","id":7,"method":"server/discover"})"), kMethodNotFound, 7);
}

TEST_F(ServerTest, InitializeReportsServerInfoCapabilitiesAndInstructions) {
  const json r = agent_.initialize(false)["result"];
  EXPECT_EQ(r["serverInfo"]["name"], "c2c");
  EXPECT_EQ(r["serverInfo"]["title"], "c2c agent messaging");
  EXPECT_EQ(r["serverInfo"]["version"], kVersion);
  EXPECT_EQ(r["capabilities"]["tools"], json::object());
  EXPECT_EQ(r["capabilities"]["experimental"]["claude/channel"], json::object());
  const std::string instructions = r["instructions"];
  for (const char* tool : {"register", "poll_inbox", "send", "join_room", "whoami"}) {
    EXPECT_NE(instructions.find(tool), std::string::npos) << tool;
  }
}

TEST_F(ServerTest, PingReturnsAnEmptyResultWithTheSameId) {
  const json r = one(R"({"jsonrpc":"2.0","id":"abc","method":"ping"})");
  EXPECT_EQ(r["id"], "abc");
  EXPECT_EQ(r["result"], json::object());
}

TEST_F(ServerTest, ToolsListHasEveryToolWithAnObjectSchema) {
  const json tools = agent_.request("tools/list")["result"]["tools"];
  std::vector<std::string> names;
  for (const auto& t : tools) {
    names.push_back(t["name"]);
    EXPECT_FALSE(t["description"].get<std::string>().empty());
    const json& s = t["inputSchema"];
    EXPECT_EQ(s["type"], "object");
    ASSERT_TRUE(s["properties"].is_object());
    for (const auto& req : s["required"]) EXPECT_TRUE(s["properties"].contains(req)) << req;
    for (const auto& [k, p] : s["properties"].items()) {
      EXPECT_TRUE(p.contains("type")) << t["name"] << "." << k;
      EXPECT_FALSE(p.value("description", "").empty()) << t["name"] << "." << k;
    }
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "register", "whoami", "list", "send", "send_all", "poll_inbox", "wait_for_message",
                "delivery_status", "peek_inbox", "history", "join_room", "leave_room", "send_room",
                "list_rooms", "my_rooms", "room_history", "sweep"}));
}

TEST_F(ServerTest, NotificationsGetNoResponse) {
  EXPECT_TRUE(raw(R"({"jsonrpc":"2.0","method":"notifications/initialized"})").empty());
  EXPECT_TRUE(
      raw(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})")
          .empty());
  EXPECT_TRUE(raw(R"({"jsonrpc":"2.0","method":"no/such/thing"})").empty());
}

// Issue 8.25: "id": null makes a request, not a notification (JSON-RPC 2.0), and MCP forbids
// null ids, so it is an Invalid Request answered with id null (it used to get no answer).
TEST_F(ServerTest, NullIdIsAnInvalidRequestAnsweredWithNullId) {
  expect_error(one(R"({"jsonrpc":"2.0","id":null,"method":"ping"})"), -32600, nullptr);
  expect_error(one(R"({"jsonrpc":"2.0","id":null,"method":"tools/list"})"), -32600, nullptr);
  const json batch = one(R"([{"jsonrpc":"2.0","id":null,"method":"ping"},
                            {"jsonrpc":"2.0","id":1,"method":"ping"}])");
  ASSERT_EQ(batch.size(), 2u);
  expect_error(batch[0], -32600, nullptr);
  EXPECT_EQ(batch[1]["id"], 1);
  // An error response from the client (id null) is still a response: ignored.
  EXPECT_TRUE(raw(R"({"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"x"}})").empty());
}

// Issue 8.25: ids are echoed exactly as received, even those a double cannot hold.
TEST_F(ServerTest, HugeAndFractionalIdsAreEchoedDigitForDigit) {
  const std::string huge = "123456789012345678901234567890";
  auto out = raw(R"({"jsonrpc":"2.0","id":)" + huge + R"(,"method":"ping"})");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], R"({"id":)" + huge + R"(,"jsonrpc":"2.0","result":{}})");
  out = raw(R"({"jsonrpc":"2.0","id":-98765432109876543210987,"method":"nope"})");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rfind(R"({"id":-98765432109876543210987,)", 0), 0u) << out[0];
  out = raw(R"({"jsonrpc":"2.0","id":1.10,"method":"ping"})");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rfind(R"({"id":1.10,)", 0), 0u) << out[0];
  // In a batch each element keeps its own id; an "id" key nested deeper is not mistaken for it.
  out = raw(R"([{"jsonrpc":"2.0","id":7,"method":"ping"},
               {"jsonrpc":"2.0","params":{"id":1e2},"id":18446744073709551616,"method":"ping"}])");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], R"([{"id":7,"jsonrpc":"2.0","result":{}},)"
                    R"({"id":18446744073709551616,"jsonrpc":"2.0","result":{}}])");
  // Integers that fit 64 bits stay exact without any of this.
  EXPECT_EQ(one(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})")["id"],
            18446744073709551615ULL);
}

// Issue 8.25: MCP's lifecycle allows only ping before initialize.
TEST(ServerLifecycle, ToolsBeforeInitializeAreRefusedWithNotInitialized) {
  c2c::test::TempDir dir{"c2c-mcp-lifecycle"};
  broker::Broker broker(dir.path());
  SessionState session(std::string("ses-a"));
  Server server(broker, config_with(std::string("ses-a")), session);
  for (const char* line : {R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})",
                           R"({"jsonrpc":"2.0","id":2,"method":"tools/call",)"
                           R"("params":{"name":"list"}})"}) {
    const auto out = server.handle_line(line);
    ASSERT_EQ(out.size(), 1u);
    const json r = json::parse(out[0]);
    EXPECT_EQ(r["error"]["code"], -32002) << r.dump();
    EXPECT_NE(r["error"]["message"].get<std::string>().find("initialize"), std::string::npos);
  }
  EXPECT_EQ(
      json::parse(server.handle_line(R"({"jsonrpc":"2.0","id":3,"method":"ping"})")[0])["result"],
      json::object());
  ASSERT_EQ(server.handle_line(R"({"jsonrpc":"2.0","id":4,"method":"initialize"})").size(), 1u);
  const json r =
      json::parse(server.handle_line(R"({"jsonrpc":"2.0","id":5,"method":"tools/list"})")[0]);
  EXPECT_TRUE(r["result"]["tools"].is_array()) << r.dump();
}

TEST_F(ServerTest, ClientResponsesAreIgnored) {
  EXPECT_TRUE(raw(R"({"jsonrpc":"2.0","id":5,"result":{}})").empty());
  EXPECT_TRUE(raw(R"({"jsonrpc":"2.0","id":6,"error":{"code":1,"message":"x"}})").empty());
}

TEST_F(ServerTest, UnknownMethodIsMethodNotFound) {
  expect_error(one(R"({"jsonrpc":"2.0","id":3,"method":"resources/list"})"), -32601, 3);
}

TEST_F(ServerTest, UnparsableJsonIsParseErrorWithNullId) {
  for (const char* bad :
       {"{", "not json", "{\"id\":1,", "Content-Length: lots", "", "{\"a\":\"\xff\xfe\"}"}) {
    expect_error(one(bad), -32700, nullptr);
  }
}

TEST_F(ServerTest, InvalidRequests) {
  expect_error(one("42"), -32600, nullptr);
  expect_error(one(R"("ping")"), -32600, nullptr);
  expect_error(one(R"({"id":1,"method":"ping"})"), -32600, 1);                  // no jsonrpc
  expect_error(one(R"({"jsonrpc":"1.0","id":1,"method":"ping"})"), -32600, 1);  // wrong version
  expect_error(one(R"({"jsonrpc":"2.0","id":2,"method":7})"), -32600, 2);
  expect_error(one(R"({"jsonrpc":"2.0","id":{"x":1},"method":"ping"})"), -32600, nullptr);
  expect_error(one(R"({"jsonrpc":"2.0","id":[1],"method":"ping"})"), -32600, nullptr);
  expect_error(one(R"({"jsonrpc":"2.0","id":4})"), -32600, 4);  // neither request nor response
  expect_error(one("[]"), -32600, nullptr);
}

TEST_F(ServerTest, DeeplyNestedJsonIsRefusedWithoutRecursing) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  expect_error(one(deep), -32600, nullptr);
  const std::string deep_args =
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"send","arguments":{"to_alias":)" +
      std::string(100000, '[') + std::string(100000, ']') + "}}}";
  expect_error(one(deep_args), -32600, nullptr);
}

TEST_F(ServerTest, InvalidParams) {
  expect_error(one(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":[1]})"), -32602, 1);
  expect_error(one(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{}})"), -32602, 2);
  expect_error(one(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":5}})"), -32602,
               3);
  expect_error(
      one(R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list","arguments":[]}})"),
      -32602, 4);
  expect_error(one(R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"nope"}})"),
               -32602, 5);
  expect_error(one(R"({"jsonrpc":"2.0","id":6,"method":"tools/list","params":"x"})"), -32602, 6);
}

TEST_F(ServerTest, ToolArgumentErrorsAreToolResultsNotRpcErrors) {
  const ToolOut missing = agent_.call("send", {{"content", "hi"}});
  EXPECT_TRUE(missing.is_error);
  EXPECT_EQ(missing.text, "send: missing required string argument 'to_alias'");
  const ToolOut wrong = agent_.call("send", {{"to_alias", 5}, {"content", "hi"}});
  EXPECT_TRUE(wrong.is_error);
  EXPECT_EQ(wrong.text, "send: argument 'to_alias' must be a string, got integer");
  const ToolOut wrong_bool = agent_.call("list", {{"alive_only", "yes"}});
  EXPECT_EQ(wrong_bool.text, "list: argument 'alive_only' must be a boolean, got string");
  const ToolOut wrong_int = agent_.call("history", {{"limit", 1.5}});
  EXPECT_EQ(wrong_int.text, "history: argument 'limit' must be an integer, got float");
  const ToolOut bad_enum =
      agent_.call("send", {{"to_alias", "x"}, {"content", "c"}, {"tag", "loud"}});
  EXPECT_TRUE(bad_enum.is_error);
  EXPECT_NE(bad_enum.text.find("must be one of: fail, blocking, urgent"), std::string::npos);
  const ToolOut bad_items =
      agent_.call("send_all", {{"content", "c"}, {"exclude_aliases", {"a", 1}}});
  EXPECT_TRUE(bad_items.is_error);
  EXPECT_NE(bad_items.text.find("exclude_aliases"), std::string::npos);
}

TEST_F(ServerTest, ArgumentsMayBeOmittedOrNull) {
  EXPECT_EQ(
      one(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list"}})")["result"]
                                                                                       ["isError"],
      false);
  EXPECT_EQ(
      one(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list","arguments":null}})")
          ["result"]["isError"],
      false);
}

TEST_F(ServerTest, BatchGetsOneArrayOfResponsesWithoutNotifications) {
  const json r = one(R"([{"jsonrpc":"2.0","id":1,"method":"ping"},
                        {"jsonrpc":"2.0","method":"notifications/initialized"},
                        {"jsonrpc":"2.0","id":2,"method":"bogus"}])");
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["id"], 1);
  EXPECT_EQ(r[0]["result"], json::object());
  EXPECT_EQ(r[1]["error"]["code"], -32601);
  EXPECT_TRUE(raw(R"([{"jsonrpc":"2.0","method":"notifications/initialized"}])").empty());
}

TEST_F(ServerTest, OversizedFrameAnswer) {
  const json r = json::parse(agent_.server().oversized_response());
  EXPECT_EQ(r["error"]["code"], -32600);
  EXPECT_TRUE(r["id"].is_null());
}

TEST_F(ServerTest, OutputIsAlwaysOneCompactLine) {
  agent_.register_as("alice");
  for (const auto& line : raw(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})")) {
    EXPECT_EQ(line.find('\n'), std::string::npos);
  }
}

TEST_F(ServerTest, HostileInputNeverThrowsAndAlwaysAnswersWellFormedJson) {
  std::mt19937 rng(12345);
  const std::vector<std::string> seeds = {
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"send","arguments":{"to_alias":"x","content":"y"}}})",
      R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{"capabilities":{"experimental":{"claude/channel":{}}}}})",
      R"([{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"join_room","arguments":{"room_id":"r"}}}])"};
  for (int i = 0; i < 3000; ++i) {
    std::string s = seeds[static_cast<size_t>(i) % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[pos] = static_cast<char>(rng() % 256);
          break;
        case 1:
          s.erase(pos, 1 + rng() % 8);
          break;
        default:
          s.insert(pos, 1, "{}[]\",:0a\\"[rng() % 10]);
          break;
      }
    }
    std::vector<std::string> out;
    ASSERT_NO_THROW(out = raw(s)) << s;
    for (const auto& line : out) {
      const json r = json::parse(line, nullptr, false);
      ASSERT_FALSE(r.is_discarded()) << line;
      EXPECT_EQ(line.find('\n'), std::string::npos);
    }
  }
}

TEST(ProtocolVersion, Negotiation) {
  EXPECT_EQ(negotiate_protocol_version("2024-11-05"), "2024-11-05");
  EXPECT_EQ(negotiate_protocol_version("2025-03-26"), "2025-03-26");
  EXPECT_EQ(negotiate_protocol_version("2025-06-18"), "2025-06-18");
  EXPECT_EQ(negotiate_protocol_version("2025-11-25"), "2025-11-25");
  EXPECT_EQ(negotiate_protocol_version("2026-07-28"), "2025-11-25");
  EXPECT_EQ(negotiate_protocol_version("2099-01-01"), "2025-11-25");
  EXPECT_EQ(negotiate_protocol_version(nullptr), "2025-11-25");
}

}  // namespace
}  // namespace c2c::mcp::test
