#include "c2c/core/result.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

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

// A module whose failures carry more than an Error (the relay service's Failure) names its own
// error type; the accessors and C2C_TRY stay the same.
struct ParseFailure {
  int line = 0;
  Error error;
};

Result<int, ParseFailure> parse_line(int line, int v) {
  if (v < 0) return ParseFailure{line, Error{ErrorCode::kBadRequest, "negative"}};
  return v;
}

Result<void, ParseFailure> check_all(const std::vector<int>& values) {
  int line = 0;
  for (int v : values) C2C_TRY(parse_line(++line, v));
  return {};
}

Result<int, ParseFailure> sum_checked(const std::vector<int>& values) {
  C2C_TRY(check_all(values));
  int sum = 0;
  for (int v : values) sum += v;
  return sum;
}

TEST(ResultTest, CustomErrorTypeHoldsValueOrError) {
  auto ok = parse_line(1, 7);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 7);
  auto bad = parse_line(4, -1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().line, 4);
  EXPECT_EQ(bad.error().error.code, ErrorCode::kBadRequest);
  // The error of an rvalue Result is moved out, as std::expected's.
  ParseFailure taken = std::move(bad).error();
  EXPECT_EQ(taken.error.message, "negative");
  Result<int, ParseFailure> wrapped = Unexpected{ParseFailure{9, {}}};
  EXPECT_EQ(wrapped.error().line, 9);
}

TEST(ResultTest, TryPropagatesCustomErrors) {
  EXPECT_EQ(*sum_checked({1, 2, 3}), 6);
  auto bad = sum_checked({1, 2, -3, 4});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().line, 3);
  EXPECT_EQ(bad.error().error.message, "negative");
  EXPECT_TRUE(check_all({}).has_value());
}

TEST(ErrorTest, WireNames) {
  EXPECT_EQ(to_wire(ErrorCode::kAliasConflict), "alias_conflict");
  EXPECT_EQ(to_wire(ErrorCode::kNonceReplay), "nonce_replay");
  EXPECT_EQ(to_wire(ErrorCode::kUnavailable), "connection_error");
}

}  // namespace
}  // namespace c2c
