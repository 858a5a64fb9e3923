// Every tool's title, annotations and outputSchema, and the structuredContent of its results
// checked against that schema (the subset c2c's schemas use: type, properties, required, items).
#include "mcp_fixture.hpp"

namespace c2c::mcp::test {
namespace {

bool has_type(const json& v, const json& type) {
  if (type.is_array()) {
    for (const auto& t : type) {
      if (has_type(v, t)) return true;
    }
    return false;
  }
  const std::string t = type;
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "integer") return v.is_number_integer();
  if (t == "number") return v.is_number();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  return false;
}

// Empty when `v` matches `schema`, else the path of the first mismatch.
std::string mismatch(const json& schema, const json& v, const std::string& path = "$") {
  if (schema.contains("type") && !has_type(v, schema["type"])) {
    return path + ": " + v.dump() + " is not " + schema["type"].dump();
  }
  if (v.is_object()) {
    for (const auto& key : schema.value("required", json::array())) {
      if (!v.contains(key.get<std::string>())) return path + ": missing " + key.dump();
    }
    const json props = schema.value("properties", json::object());  // items() needs an lvalue
    for (const auto& [key, sub] : props.items()) {
      if (!v.contains(key)) continue;
      if (auto m = mismatch(sub, v[key], path + "." + key); !m.empty()) return m;
    }
  }
  if (v.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (auto m = mismatch(schema["items"], v[i], path + "[" + std::to_string(i) + "]");
          !m.empty()) {
        return m;
      }
    }
  }
  return "";
}

TEST(ToolOutput, EveryToolHasATitleAnnotationsAndAnObjectOutputSchema) {
  const json listed = default_tools().list_json()["tools"];
  ASSERT_FALSE(listed.empty());
  for (const auto& t : listed) {
    SCOPED_TRACE(t["name"].get<std::string>());
    ASSERT_TRUE(t.contains("title"));
    EXPECT_FALSE(t["title"].get<std::string>().empty());
    ASSERT_TRUE(t.contains("outputSchema"));
    EXPECT_EQ(t["outputSchema"]["type"], "object");  // MCP: structuredContent is an object
    const json& a = t["annotations"];
    for (const char* hint :
         {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}) {
      EXPECT_TRUE(a[hint].is_boolean()) << hint;
    }
    // A read-only tool cannot be destructive.
    if (a["readOnlyHint"] == true) {
      EXPECT_EQ(a["destructiveHint"], false);
    }
  }
}

TEST(ToolOutput, HintsMatchWhatTheToolsDo) {
  const auto hints = [](const char* name) { return default_tools().find(name)->hints; };
  for (const char* ro : {"whoami", "list", "peek_inbox", "history", "delivery_status", "list_rooms",
                         "my_rooms", "room_history"}) {
    EXPECT_TRUE(hints(ro).read_only) << ro;
  }
  // wait_for_message drains like poll_inbox.
  for (const char* rw : {"register", "send", "send_all", "poll_inbox", "wait_for_message",
                         "join_room", "leave_room", "send_room", "sweep"}) {
    EXPECT_FALSE(hints(rw).read_only) << rw;
  }
  EXPECT_TRUE(hints("sweep").destructive);
  EXPECT_FALSE(hints("send").idempotent);
  EXPECT_TRUE(hints("send").open_world);
  EXPECT_TRUE(hints("register").idempotent);
}

class ToolOutputCalls : public ::testing::Test {
 protected:
  c2c::test::TempDir dir_{"c2c-mcp-output"};
  Agent a_{dir_.path(), std::optional<std::string>("ses-a")};
  Agent b_{dir_.path(), std::optional<std::string>("ses-b")};

  // Calls a tool that must succeed; checks structuredContent against the outputSchema and the
  // text block against it (the payload as JSON, or the documented plain text). Returns it.
  json structured(Agent& agent, const std::string& name, json args = json::object()) {
    const json r = agent.request("tools/call", {{"name", name}, {"arguments", args}});
    const json& res = r["result"];
    EXPECT_EQ(res["isError"], false) << r.dump();
    EXPECT_TRUE(res.contains("structuredContent")) << r.dump();
    const json sc = res.value("structuredContent", json());
    const json& schema = default_tools().find(name)->output_schema;
    EXPECT_EQ(mismatch(schema, sc), "") << name << ": " << sc.dump();
    const std::string text = res["content"][0]["text"];
    const std::string& wrap = default_tools().find(name)->wrap_key;
    if (!wrap.empty()) {
      EXPECT_EQ(json::parse(text), sc[wrap]) << name;
    } else if (!default_tools().find(name)->text) {
      EXPECT_EQ(json::parse(text), sc) << name;
    }
    return sc;
  }
};

TEST_F(ToolOutputCalls, EveryToolsResultMatchesItsSchemaWithATextMirror) {
  EXPECT_EQ(structured(a_, "whoami")["registered"], false);
  const json reg = structured(a_, "register", {{"alias", "alice"}});
  EXPECT_EQ(reg["alias"], "alice");
  EXPECT_EQ(reg["redelivered_dead_letters"], 0);
  b_.register_as("bob");
  const json who = structured(a_, "whoami");
  EXPECT_EQ(who["alias"], "alice");
  EXPECT_EQ(a_.call("whoami").text, "alice");  // the text block stays the plain alias
  EXPECT_EQ(structured(a_, "list")["agents"].size(), 2u);
  const json sent = structured(a_, "send", {{"to_alias", "bob"}, {"content", "hi"}});
  EXPECT_EQ(sent["queued"], true);
  EXPECT_EQ(structured(a_, "send_all", {{"content", "all"}})["message_ids"].size(), 1u);
  EXPECT_EQ(structured(b_, "peek_inbox")["messages"].size(), 2u);
  EXPECT_EQ(structured(b_, "poll_inbox")["messages"].size(), 2u);
  EXPECT_EQ(structured(b_, "poll_inbox")["messages"], json::array());
  EXPECT_EQ(structured(b_, "history")["messages"].size(), 2u);
  const json st = structured(a_, "delivery_status", {{"message_id", sent["message_id"]}});
  EXPECT_EQ(st["state"], "read");
  EXPECT_FALSE(st["events"].empty());
  EXPECT_EQ(structured(b_, "wait_for_message", {{"timeout_s", 0}})["messages"], json::array());
  structured(a_, "send", {{"to_alias", "bob"}, {"content", "again"}});
  EXPECT_EQ(structured(b_, "wait_for_message", {{"timeout_s", 5}})["messages"].size(), 1u);
  structured(a_, "join_room", {{"room_id", "lounge"}});
  structured(b_, "join_room", {{"room_id", "lounge"}});
  structured(a_, "send_room", {{"room_id", "lounge"}, {"content", "standup"}});
  EXPECT_EQ(structured(a_, "list_rooms")["rooms"].size(), 1u);
  EXPECT_EQ(structured(a_, "my_rooms")["rooms"].size(), 1u);
  EXPECT_FALSE(structured(a_, "room_history", {{"room_id", "lounge"}})["messages"].empty());
  structured(b_, "leave_room", {{"room_id", "lounge"}});
  structured(a_, "sweep");
}

TEST_F(ToolOutputCalls, ErrorsCarryNoStructuredContent) {
  const json r = a_.request("tools/call", {{"name", "send"}, {"arguments", {{"content", "x"}}}});
  EXPECT_EQ(r["result"]["isError"], true);
  EXPECT_FALSE(r["result"].contains("structuredContent"));
}

}  // namespace
}  // namespace c2c::mcp::test
