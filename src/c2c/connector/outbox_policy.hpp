#pragma once
// What to do with one remote-outbox entry after trying to forward it: a pure function, so the
// retry / dead-letter rules are unit-tested without a relay or a broker.
//
//   relay said ok (including "duplicate": a retry of a message it already has)  -> delivered
//   unknown_alias, recipient_dead, unknown_host, cross_host_not_implemented     -> dead letter now,
//       except just after a relay restart (see in_restart_grace): then retry
//   bad_request, payload_too_large (the relay will never accept this entry)      -> dead letter now
//   anything else (unreachable, auth refused, rate limited, 5xx, ...)            -> retry, unless
//       the entry has used up max_attempts (dlq "max_attempts") or is older than max_age
//       (dlq "max_age")

#include <optional>
#include <string>

#include "c2c/broker/broker.hpp"
#include "c2c/core/result.hpp"
#include "c2c/relay/client/relay_client.hpp"

namespace c2c::connector {

struct OutboxLimits {
  int max_attempts = 60;
  double max_age_seconds = 3600;
  // After the connector saw the relay forget its sessions (a restart without persistence), the
  // other machines' connectors need up to their own backoff to register again; until then their
  // aliases and node ids look unknown. Recipient errors are retried for this long.
  double restart_grace_seconds = 300;
};

// The decision plus a one-line reason for logs and the DLQ.
struct OutboxDecision {
  broker::OutboxOutcome outcome;
  bool delivered() const { return outcome.kind == broker::OutboxOutcome::Kind::kDelivered; }
  bool dead_lettered() const { return outcome.kind == broker::OutboxOutcome::Kind::kDeadLetter; }
  // True when later entries should not be tried this round (relay unreachable or throttling):
  // they keep their attempt count instead of each burning one on the same outage.
  bool stop_round = false;
};

// The relay's answer says the recipient does not exist (or is gone) there.
bool is_unknown_recipient(const std::string& error_code);

// in_restart_grace: the relay restarted recently, so "unknown recipient" may be temporary.
OutboxDecision decide_outbox(const broker::OutboxEntry& entry,
                             const Result<relay::RelayReply>& sent, double now,
                             const OutboxLimits& limits, bool in_restart_grace = false);

}  // namespace c2c::connector
