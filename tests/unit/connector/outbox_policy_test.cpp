// The outbox settle rules: delivered / retry / dead letter, attempt and age limits.
#include "c2c/connector/outbox_policy.hpp"

#include <gtest/gtest.h>

namespace c2c::connector {
namespace {

using Kind = broker::OutboxOutcome::Kind;

constexpr double kNow = 1'776'730'000.0;

broker::OutboxEntry entry(int attempts = 1, double age = 0) {
  broker::OutboxEntry e;
  e.from_alias = "alice";
  e.to_alias = "bob@machine-b";
  e.content = "hi";
  e.message_id = "m-1";
  e.attempts = attempts;
  e.enqueued_at = kNow - age;
  return e;
}

Result<relay::RelayReply> reply(int status, nlohmann::json body) {
  relay::RelayReply r;
  r.http_status = status;
  r.body = std::move(body);
  return r;
}

Result<relay::RelayReply> relay_error(int status, const std::string& code) {
  return reply(status, {{"ok", false}, {"error_code", code}, {"error", "x"}});
}

TEST(OutboxPolicy, OkAndDuplicateAreDelivered) {
  const OutboxLimits limits;
  auto d = decide_outbox(entry(), reply(200, {{"ok", true}, {"result", "ok"}}), kNow, limits);
  EXPECT_EQ(d.outcome.kind, Kind::kDelivered);
  EXPECT_EQ(d.outcome.message_id, "m-1");
  // A retry after a lost answer: the relay already has it, which is success, not a failure.
  d = decide_outbox(entry(5), reply(200, {{"ok", true}, {"result", "duplicate"}}), kNow, limits);
  EXPECT_EQ(d.outcome.kind, Kind::kDelivered);
  EXPECT_FALSE(d.stop_round);
}

TEST(OutboxPolicy, HopelessErrorsAreDeadLetteredAtOnceWithTheRelayCode) {
  for (const std::string code :
       {"unknown_alias", "recipient_dead", "unknown_host", "cross_host_not_implemented",
        "bad_request", "payload_too_large"}) {
    const int status = code == "unknown_host" ? 404 : (code == "bad_request" ? 400 : 200);
    const auto d = decide_outbox(entry(), relay_error(status, code), kNow, OutboxLimits{});
    EXPECT_EQ(d.outcome.kind, Kind::kDeadLetter) << code;
    EXPECT_EQ(d.outcome.reason, code);
  }
}

TEST(OutboxPolicy, UnknownRecipientsAreRetriedJustAfterARelayRestart) {
  for (const std::string code : {"unknown_alias", "recipient_dead", "unknown_host"}) {
    const auto d = decide_outbox(entry(), relay_error(200, code), kNow, OutboxLimits{}, true);
    EXPECT_EQ(d.outcome.kind, Kind::kRetry) << code;
    EXPECT_EQ(d.outcome.reason, code);
  }
  // A malformed entry stays hopeless, restart or not.
  EXPECT_EQ(decide_outbox(entry(), relay_error(400, "bad_request"), kNow, OutboxLimits{}, true)
                .outcome.kind,
            Kind::kDeadLetter);
  // The limits still apply during the grace window.
  EXPECT_EQ(decide_outbox(entry(60), relay_error(200, "unknown_host"), kNow, OutboxLimits{}, true)
                .outcome.reason,
            "max_attempts");
}

TEST(OutboxPolicy, TransientErrorsAreRetriedWithTheirReason) {
  const OutboxLimits limits;
  auto d = decide_outbox(entry(), relay_error(401, "unauthorized"), kNow, limits);
  EXPECT_EQ(d.outcome.kind, Kind::kRetry);
  EXPECT_EQ(d.outcome.reason, "unauthorized");
  EXPECT_FALSE(d.stop_round);

  d = decide_outbox(entry(), reply(500, {{"ok", false}}), kNow, limits);
  EXPECT_EQ(d.outcome.kind, Kind::kRetry);
  EXPECT_EQ(d.outcome.reason, "http_500");

  Result<relay::RelayReply> down = fail(ErrorCode::kUnavailable, "connection refused");
  d = decide_outbox(entry(), down, kNow, limits);
  EXPECT_EQ(d.outcome.kind, Kind::kRetry);
  EXPECT_EQ(d.outcome.reason, "connection_error");
  EXPECT_TRUE(d.stop_round);  // the rest of the outbox keeps its attempts

  d = decide_outbox(entry(), relay_error(429, "rate_limit_exceeded"), kNow, limits);
  EXPECT_EQ(d.outcome.kind, Kind::kRetry);
  EXPECT_TRUE(d.stop_round);
}

TEST(OutboxPolicy, AttemptLimitDeadLetters) {
  const OutboxLimits limits{3, 3600};
  Result<relay::RelayReply> down = fail(ErrorCode::kUnavailable, "refused");
  EXPECT_EQ(decide_outbox(entry(2), down, kNow, limits).outcome.kind, Kind::kRetry);
  const auto d = decide_outbox(entry(3), down, kNow, limits);
  EXPECT_EQ(d.outcome.kind, Kind::kDeadLetter);
  EXPECT_EQ(d.outcome.reason, "max_attempts");
}

TEST(OutboxPolicy, AgeLimitDeadLetters) {
  const OutboxLimits limits{60, 100};
  const auto fresh = decide_outbox(entry(1, 99), relay_error(401, "unauthorized"), kNow, limits);
  EXPECT_EQ(fresh.outcome.kind, Kind::kRetry);
  const auto old = decide_outbox(entry(1, 101), relay_error(401, "unauthorized"), kNow, limits);
  EXPECT_EQ(old.outcome.kind, Kind::kDeadLetter);
  EXPECT_EQ(old.outcome.reason, "max_age");
}

TEST(OutboxPolicy, LimitsNeverOverrideSuccess) {
  const OutboxLimits limits{1, 1};
  const auto d = decide_outbox(entry(100, 10'000), reply(200, {{"ok", true}}), kNow, limits);
  EXPECT_EQ(d.outcome.kind, Kind::kDelivered);
}

}  // namespace
}  // namespace c2c::connector
