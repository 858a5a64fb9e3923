#include "c2c/connector/outbox_policy.hpp"

namespace c2c::connector {

bool is_unknown_recipient(const std::string& code) {
  return code == "unknown_alias" || code == "recipient_dead" || code == "unknown_host" ||
         code == "cross_host_not_implemented";
}

namespace {

// The relay will never accept this entry as it is.
bool malformed_entry(const std::string& code) {
  return code == "bad_request" || code == "payload_too_large" || code == "invalid_alias";
}

}  // namespace

OutboxDecision decide_outbox(const broker::OutboxEntry& entry,
                             const Result<relay::RelayReply>& sent, double now,
                             const OutboxLimits& limits, bool in_restart_grace) {
  using Kind = broker::OutboxOutcome::Kind;
  OutboxDecision d;
  d.outcome.message_id = entry.message_id;

  std::string reason;
  if (sent.has_value()) {
    const relay::RelayReply& r = sent.value();
    if (r.ok()) {
      d.outcome.kind = Kind::kDelivered;
      return d;
    }
    const std::string code = r.error_code();
    if (malformed_entry(code) || (is_unknown_recipient(code) && !in_restart_grace)) {
      d.outcome.kind = Kind::kDeadLetter;
      d.outcome.reason = code;
      return d;
    }
    reason = code.empty() ? "http_" + std::to_string(r.http_status) : code;
    d.stop_round = r.rate_limited();
  } else {
    reason = sent.error().code == ErrorCode::kUnavailable ? "connection_error" : "bad_response";
    d.stop_round = sent.error().code == ErrorCode::kUnavailable;
  }

  // A retryable failure: give up once the entry is out of attempts or too old.
  if (entry.attempts >= limits.max_attempts) {
    d.outcome.kind = Kind::kDeadLetter;
    d.outcome.reason = "max_attempts";
  } else if (entry.enqueued_at > 0 && now - entry.enqueued_at > limits.max_age_seconds) {
    d.outcome.kind = Kind::kDeadLetter;
    d.outcome.reason = "max_age";
  } else {
    d.outcome.kind = Kind::kRetry;
    d.outcome.reason = reason;
  }
  return d;
}

}  // namespace c2c::connector
