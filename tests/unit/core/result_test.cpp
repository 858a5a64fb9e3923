#include "c2c/core/result.hpp"

#include <gtest/gtest.h>

namespace c2c {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return fail(ErrorCode::kBadRequest, "must be positive");
  return v;
}

Result<int> doubled(int v) {
  C2C_TRY(parse_positive(v));
  return v * 2;
}

TEST(ResultTest, HoldsValueOrError) {
  auto ok = parse_positive(3);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(bad.error().message, "must be positive");
}

TEST(ResultTest, TryPropagatesErrors) {
  EXPECT_EQ(*doubled(4), 8);
  EXPECT_EQ(doubled(0).error().code, ErrorCode::kBadRequest);
}

TEST(ResultTest, VoidResult) {
  Result<void> ok;
  EXPECT_TRUE(ok.has_value());
  Result<void> bad = fail(ErrorCode::kIo, "disk");
  EXPECT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "disk");
}

TEST(ErrorTest, WireNames) {
  EXPECT_EQ(to_wire(ErrorCode::kAliasConflict), "alias_conflict");
  EXPECT_EQ(to_wire(ErrorCode::kNonceReplay), "nonce_replay");
  EXPECT_EQ(to_wire(ErrorCode::kUnavailable), "connection_error");
}

}  // namespace
}  // namespace c2c
