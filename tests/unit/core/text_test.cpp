#include "c2c/core/text.hpp"

#include <gtest/gtest.h>

namespace c2c {
namespace {

TEST(TextTest, AliasRule) {
  EXPECT_TRUE(is_valid_alias("alice"));
  EXPECT_TRUE(is_valid_alias("relay-peer_a.1"));
  EXPECT_TRUE(is_valid_alias(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_alias(std::string(65, 'a')));
  EXPECT_FALSE(is_valid_alias(""));
  EXPECT_FALSE(is_valid_alias(".hidden"));
  EXPECT_FALSE(is_valid_alias("bob@host"));
  EXPECT_FALSE(is_valid_alias("a b"));
  EXPECT_FALSE(is_valid_alias("../x"));
}

TEST(TextTest, ReservedAliasesAreCaseInsensitive) {
  EXPECT_TRUE(is_reserved_alias("c2c"));
  EXPECT_TRUE(is_reserved_alias("C2C-System"));
  EXPECT_FALSE(is_reserved_alias("c2c-nudge"));
}

TEST(TextTest, RoomIdRule) {
  EXPECT_TRUE(is_valid_room_id("swarm-lounge"));
  EXPECT_FALSE(is_valid_room_id("a.b"));
  EXPECT_FALSE(is_valid_room_id("../etc"));
  EXPECT_FALSE(is_valid_room_id(""));
}

TEST(TextTest, SafeFileComponent) {
  EXPECT_TRUE(is_safe_file_component("ses-a"));
  EXPECT_FALSE(is_safe_file_component(".."));
  EXPECT_FALSE(is_safe_file_component("a/b"));
}

TEST(TextTest, CasefoldAndTrim) {
  EXPECT_EQ(casefold("AbC-1"), "abc-1");
  EXPECT_TRUE(iequals("Alice", "aLICE"));
  EXPECT_EQ(trim("  x y \n"), "x y");
  EXPECT_EQ(split("a,b,,c", ','), (std::vector<std::string>{"a", "b", "", "c"}));
}

TEST(TextTest, Rfc3339RoundTrip) {
  EXPECT_EQ(format_rfc3339_utc(1776730000.0), "2026-04-21T00:06:40Z");
  auto t = parse_rfc3339("2026-04-21T00:05:30Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_DOUBLE_EQ(*t, 1776729930.0);
  EXPECT_DOUBLE_EQ(*parse_rfc3339("2026-04-21T02:05:30+02:00"), 1776729930.0);
  EXPECT_DOUBLE_EQ(*parse_rfc3339("2026-04-21T00:05:30.5Z"), 1776729930.5);
  EXPECT_FALSE(parse_rfc3339("2026-04-21 nope").has_value());
  EXPECT_FALSE(parse_rfc3339("2026-04-21T00:05:30").has_value());
}

TEST(TextTest, FiniteDoubles) {
  EXPECT_DOUBLE_EQ(*parse_finite_double("1776730000.123456"), 1776730000.123456);
  EXPECT_FALSE(parse_finite_double("nan").has_value());
  EXPECT_FALSE(parse_finite_double("inf").has_value());
  EXPECT_FALSE(parse_finite_double("12x").has_value());
  EXPECT_FALSE(parse_finite_double("").has_value());
}

}  // namespace
}  // namespace c2c
