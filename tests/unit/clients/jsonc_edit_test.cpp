// In-place JSON/JSONC edits: everything outside the edited member stays byte for byte.
#include "c2c/clients/jsonc_edit.hpp"

#include <gtest/gtest.h>

namespace c2c::clients {
namespace {

using nlohmann::ordered_json;

const ordered_json kEntry = {{"command", "c2c"}, {"args", {"mcp"}}};

TEST(JsoncEdit, ParsesCommentsAndTrailingCommas) {
  auto j =
      parse_jsonc("// top\n{\n  /* block */ \"a\": [1, 2,], // end\n  \"b\": {\"c\": true,},\n}\n");
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ(j->dump(), R"({"a":[1,2],"b":{"c":true}})");
}

TEST(JsoncEdit, ParseErrorsNameLineAndColumn) {
  auto j = parse_jsonc("{\n  \"a\" 1\n}");
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().message, "line 2, column 7: expected ':' after an object key");
  EXPECT_FALSE(parse_jsonc("{\"a\": 1, \"a\": 2}"));  // duplicate keys are refused
  EXPECT_FALSE(parse_jsonc("{\"a\": 1"));
  EXPECT_FALSE(parse_jsonc("[1] x"));
}

TEST(JsoncEdit, AddsAMemberAndKeepsCommentsOrderAndOtherServers) {
  const std::string before =
      "{\n"
      "  // my servers\n"
      "  \"zeta\": 1,\n"
      "  \"mcpServers\": {\n"
      "    \"other\": { \"command\": \"x\" } // keep me\n"
      "  },\n"
      "  \"alpha\": true\n"
      "}\n";
  auto after = jsonc_set(before, {"mcpServers", "c2c"}, kEntry);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(*after,
            "{\n"
            "  // my servers\n"
            "  \"zeta\": 1,\n"
            "  \"mcpServers\": {\n"
            "    \"other\": { \"command\": \"x\" },\n"
            "    \"c2c\": {\n"
            "      \"command\": \"c2c\",\n"
            "      \"args\": [\n"
            "        \"mcp\"\n"
            "      ]\n"
            "    } // keep me\n"
            "  },\n"
            "  \"alpha\": true\n"
            "}\n");
  // Setting it again is a no-op; removing it restores the original file exactly.
  EXPECT_EQ(*jsonc_set(*after, {"mcpServers", "c2c"}, kEntry), *after);
  auto removed = jsonc_remove(*after, {"mcpServers", "c2c"});
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, before);
}

TEST(JsoncEdit, CreatesMissingObjectsAndFiles) {
  EXPECT_EQ(*jsonc_set("", {"mcp", "c2c"}, 1), "{\n  \"mcp\": {\n    \"c2c\": 1\n  }\n}\n");
  EXPECT_EQ(*jsonc_set("{}", {"mcp", "c2c"}, 1), "{\n  \"mcp\": {\n    \"c2c\": 1\n  }\n}");
  EXPECT_EQ(*jsonc_set("{\"a\": 1}", {"b"}, 2), "{\"a\": 1, \"b\": 2}");
  EXPECT_EQ(*jsonc_set("{\n\t\"a\": 1\n}", {"b"}, 2), "{\n\t\"a\": 1,\n\t\"b\": 2\n}");
}

TEST(JsoncEdit, ReplacesAnExistingValueInPlace) {
  EXPECT_EQ(*jsonc_set("{\"x\": /*c*/ {\"old\": 1}, \"y\": 2}", {"x"}, 5),
            "{\"x\": /*c*/ 5, \"y\": 2}");
}

TEST(JsoncEdit, RemovesFirstMiddleLastAndOnlyMembers) {
  const std::string t = "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}";
  EXPECT_EQ(*jsonc_remove(t, {"a"}), "{\n  \"b\": 2,\n  \"c\": 3\n}");
  EXPECT_EQ(*jsonc_remove(t, {"b"}), "{\n  \"a\": 1,\n  \"c\": 3\n}");
  EXPECT_EQ(*jsonc_remove(t, {"c"}), "{\n  \"a\": 1,\n  \"b\": 2\n}");
  EXPECT_EQ(*jsonc_remove("{\"a\": {\"only\": 1}}", {"a", "only"}), "{\"a\": {}}");
  EXPECT_EQ(*jsonc_remove("{\"a\": 1,}", {"a"}), "{}");
  EXPECT_EQ(*jsonc_remove(t, {"zzz"}), t);  // absent: unchanged
  EXPECT_EQ(*jsonc_remove(t, {"a", "deeper"}), t);
}

TEST(JsoncEdit, RefusesWhenThePathIsNotAnObject) {
  EXPECT_FALSE(jsonc_set("{\"mcpServers\": []}", {"mcpServers", "c2c"}, 1));
  EXPECT_FALSE(jsonc_set("[]", {"a"}, 1));
}

}  // namespace
}  // namespace c2c::clients
