#include "c2c/connector/connector.hpp"

#include <map>
#include <utility>

#include "c2c/core/text.hpp"

namespace c2c::connector {

std::string SyncReport::summary_line(size_t max_error) const {
  std::string line = "[relay-connector] sync: registered=" + std::to_string(registered) +
                     " heartbeated=" + std::to_string(heartbeated) +
                     " fwd=" + std::to_string(forwarded) + " failed=" + std::to_string(failed) +
                     " dlqed=" + std::to_string(dlqed) + " inbound=" + std::to_string(inbound);
  if (!last_error.empty()) {
    std::string err = last_error;
    if (max_error > 3 && err.size() > max_error) err = err.substr(0, max_error - 3) + "...";
    line += " [" + err + "]";
  }
  return line;
}

broker::Message inbound_message(const relay::protocol::Message& m, std::string_view alias,
                                std::string_view own_node, double now) {
  broker::Message lm;
  lm.message_id = m.message_id;
  lm.from_alias = m.from_alias;
  if (!m.from_node.empty() && m.from_node != own_node &&
      m.from_alias.find('@') == std::string::npos) {
    lm.from_alias += "@" + m.from_node;
  }
  lm.content = m.content;
  lm.ts = m.ts > 0 ? m.ts : now;
  if (!m.room_id.empty()) lm.room_id = m.room_id;
  if (!m.to_alias.empty()) {
    lm.to_alias = m.to_alias;
  } else if (!m.room_id.empty()) {
    lm.to_alias = std::string(alias) + "#" + m.room_id;
  } else {
    lm.to_alias = alias;
  }
  return lm;
}

std::vector<StreamSession> Connector::stream_sessions() const {
  std::lock_guard lock(shared_mu_);
  return stream_sessions_;
}

Connector::Connector(broker::Broker& broker, relay::RelayClient& client, ConnectorOptions options)
    : broker_(broker), client_(client), options_(std::move(options)) {}

void Connector::note_error(SyncReport& report, const std::string& op, const std::string& detail) {
  report.last_error = op + ": " + detail;
  report.details.push_back("error: " + report.last_error);
}

namespace {
bool stopping(const std::atomic<bool>* stop) {
  return stop != nullptr && stop->load();
}

// Refusals that concern one alias, not this connector's credentials or the relay's health.
bool is_alias_refusal(const std::string& code) {
  return code == "alias_conflict" || code == "alias_identity_mismatch" ||
         code == "alias_not_allowed" || code == "reserved_alias" || code == "invalid_alias";
}

// The second `accepted` of an alias@host message: the relay stored it durably.
broker::ReceiptEvent relay_accepted_event(const broker::OutboxEntry& e, double now) {
  broker::ReceiptEvent ev;
  ev.message_id = e.message_id;
  ev.state = broker::ReceiptState::kAccepted;
  ev.recipient = e.to_alias;
  ev.ts = now;
  ev.via = "relay";
  // Who sent it, as the outbox's `accepted` says too: a receipt check that reads the log back
  // only to the newest `accepted` finds the sender here (Broker::sent_statuses).
  ev.from_alias = e.from_alias;
  return ev;
}
}  // namespace

bool Connector::alias_refused(const std::string& alias) const {
  return alias_refusals_.count(casefold(alias)) != 0;
}

Result<SyncReport> Connector::sync_once(const std::atomic<bool>* stop) {
  SyncReport report;
  std::error_code ec;
  if (!std::filesystem::is_directory(broker_.root(), ec)) {
    return fail(ErrorCode::kNotFound,
                "broker root " + broker_.root().string() +
                    " does not exist (create it, or pass --broker-root / set C2C_MCP_BROKER_ROOT)");
  }
  auto regs = broker_.registrations();
  if (!regs) return Unexpected{regs.error()};

  // One relay session per alias: when registry.json holds several rows for an alias (a stale
  // one and its successor), the relay gets the live, most recently registered one; registering
  // both would make the relay move the inbox back and forth every round.
  std::vector<Session> sessions;
  std::map<std::string, std::pair<const broker::Registration*, size_t>> by_alias;
  const auto& rows = regs.value();
  auto better = [&](const broker::Registration& a, const broker::Registration& b) {
    const bool a_alive = broker_.liveness(a) != broker::Liveness::kDead;
    const bool b_alive = broker_.liveness(b) != broker::Liveness::kDead;
    if (a_alive != b_alive) return a_alive;
    return a.registered_at.value_or(0) >= b.registered_at.value_or(0);
  };
  for (const auto& r : rows) {
    if (r.session_id.empty() || r.alias.empty()) continue;
    const std::string key = casefold(r.alias);
    auto it = by_alias.find(key);
    if (it == by_alias.end()) {
      by_alias.emplace(key, std::make_pair(&r, sessions.size()));
      sessions.push_back(
          {r.session_id, r.alias, r.client_type.empty() ? "unknown" : r.client_type});
    } else if (better(r, *it->second.first)) {
      it->second.first = &r;
      sessions[it->second.second] = {r.session_id, r.alias,
                                     r.client_type.empty() ? "unknown" : r.client_type};
    }
  }

  // 1. Registrations. An unreachable relay ends the round: every later request would wait for
  // the same timeout. Known sessions are heartbeated when due (ConnectorOptions::heartbeat_every).
  const double now = broker_.clock().now();
  const bool heartbeats_due = options_.heartbeat_every <= 0 || !last_heartbeats_ ||
                              now - *last_heartbeats_ >= options_.heartbeat_every;
  for (const auto& s : sessions) {
    if (stopping(stop) || report.unreachable) break;
    if (!heartbeats_due && registered_.count(s.session_id) != 0) continue;
    sync_registration(s, report);
  }
  if (heartbeats_due && !report.unreachable && !stopping(stop)) last_heartbeats_ = now;
  // 2. Outbox.
  if (!stopping(stop) && !report.unreachable) forward_outbox(report, stop, !heartbeats_due);
  {
    std::vector<StreamSession> known;
    for (const auto& s : sessions) {
      if (registered_.count(s.session_id) != 0) known.push_back({s.session_id, s.alias});
    }
    std::lock_guard lock(shared_mu_);
    stream_sessions_ = std::move(known);
  }
  // 3. Inbound, for every session the relay knows (unless the receive stream delivers).
  for (const auto& s : sessions) {
    if (stopping(stop) || report.unreachable || stream_delivers()) break;
    if (registered_.count(s.session_id) != 0) pull_inbox(s, report);
  }
  // 4. Delivery receipts, both ways (the receive stream carries ours while it works).
  if (!stopping(stop) && !report.unreachable) forward_receipts(sessions, report);
  for (const auto& s : sessions) {
    if (stopping(stop) || report.unreachable || stream_delivers()) break;
    if (registered_.count(s.session_id) != 0) fetch_receipts(s, report);
  }
  // Nothing to sync (no sessions, empty outbox): still tell whether the relay is there, so
  // `--once` and the loop's backoff reflect reality.
  if (!report.contacted_relay && !stopping(stop)) {
    report.contacted_relay = true;
    auto h = client_.health();
    if (!h) {
      report.unreachable = h.error().code == ErrorCode::kUnavailable;
      note_error(report, "health", h.error().message);
    } else if (!h->ok()) {
      report.refused = true;
      note_error(report, "health", h->describe());
    }
  }
  return report;
}

bool Connector::register_session(const Session& s, SyncReport& report, const char* why) {
  relay::RegisterParams p;
  p.node_id = options_.node_id;
  p.session_id = s.session_id;
  p.alias = s.alias;
  p.client_type = s.client_type;
  p.ttl = options_.lease_ttl;
  report.contacted_relay = true;
  auto r = client_.register_session(p);
  if (!r) {
    report.unreachable = r.error().code == ErrorCode::kUnavailable;
    note_error(report, "register", r.error().message);
    return false;
  }
  if (!r->ok()) {
    if (is_alias_refusal(r->error_code())) {
      // One alias is unavailable (e.g. held by another node): say so once, keep trying it
      // quietly every round (the other lease may expire), and sync the rest as usual.
      report.refused_aliases.push_back(s.alias);
      const std::string reason = r->describe();
      auto& last = alias_refusals_[casefold(s.alias)];
      if (last != reason) {
        last = reason;
        report.notices.push_back("alias " + s.alias + " not synced: " + reason +
                                 " (retried every round; its outbox entries stay queued)");
        note_error(report, "register", s.alias + ": " + reason);
      } else {
        report.details.push_back("alias " + s.alias + " still refused (" + reason + ")");
      }
      return false;
    }
    // 401 and the like: the relay refused this connector's credentials.
    report.refused = true;
    note_error(report, "register", s.alias + ": " + r->describe());
    return false;
  }
  if (alias_refusals_.erase(casefold(s.alias)) != 0) {
    report.notices.push_back("alias " + s.alias + " is registered on the relay again");
  }
  registered_.insert(s.session_id);
  ++report.registered;
  report.details.push_back(std::string(why) + " " + s.alias + " (" + s.session_id + ")");
  return true;
}

void Connector::sync_registration(const Session& s, SyncReport& report) {
  if (registered_.count(s.session_id) == 0) {
    register_session(s, report, "registered");
    return;
  }
  report.contacted_relay = true;
  auto r = client_.heartbeat(options_.node_id, s.session_id, s.alias);
  if (!r) {
    report.unreachable = r.error().code == ErrorCode::kUnavailable;
    note_error(report, "heartbeat", r.error().message);
    return;
  }
  if (r->ok()) {
    ++report.heartbeated;
    return;
  }
  if (r->rate_limited()) {
    report.throttled = true;
    note_error(report, "heartbeat", s.alias + ": " + r->describe());
    return;
  }
  // The relay no longer knows this session (restart without persistence, GC after a long
  // outage, lease taken over): register it again rather than failing every round (D9).
  report.details.push_back("heartbeat " + s.alias + " refused (" + r->describe() +
                           "), registering again");
  registered_.erase(s.session_id);
  if (register_session(s, report, "re-registered")) {
    relay_restart_seen_at_ = broker_.clock().now();
  }
}

namespace {

// A batch's body stays well under the relay's default 1 MiB limit (and a proxy's, nginx's
// default client_max_body_size is 1 MiB) even with JSON escaping; a larger message goes alone.
constexpr size_t kBatchContentBytes = 256 * 1024;
// How long a relay that answered 404 to /send_batch (an older relay) gets single /sends before
// the batch route is tried again (as the receive stream asks such a relay again).
constexpr double kBatchReprobeSeconds = 300;

relay::SendParams send_params(const broker::OutboxEntry& e) {
  return {e.message_id, e.from_alias, e.to_alias, e.content};
}

}  // namespace

bool Connector::batch_usable(double now) const {
  return !batch_unsupported_at_ || now - *batch_unsupported_at_ >= kBatchReprobeSeconds;
}

std::vector<Result<relay::RelayReply>> Connector::send_batch(
    std::span<const broker::OutboxEntry> entries, SyncReport& report) {
  std::vector<relay::SendParams> params;
  params.reserve(entries.size());
  for (const auto& e : entries) params.push_back(send_params(e));
  report.contacted_relay = true;
  const auto sent = client_.send_batch(entries.front().from_alias, params);
  std::vector<Result<relay::RelayReply>> replies;
  if (sent && sent->http_status == 404) {
    // A relay from before /send_batch: one /send per message, as before, for a while.
    batch_unsupported_at_ = broker_.clock().now();
    report.details.push_back("the relay has no /send_batch (" + sent->describe() +
                             "); forwarding one /send per message");
    return replies;
  }
  // The relay (or a proxy) refused the batch as a whole for its form or size: the messages go
  // one by one, each then decided on its own answer.
  if ((sent && (sent->http_status == 400 || sent->http_status == 413)) ||
      (!sent && sent.error().code == ErrorCode::kBadRequest)) {
    report.details.push_back("batch of " + std::to_string(entries.size()) + " refused (" +
                             (sent ? sent->describe() : sent.error().message) +
                             "); forwarding one /send per message");
    return replies;
  }
  if (!sent || !sent->ok()) {
    // No per-message answer (relay unreachable, credentials refused, throttled, 5xx): each
    // message gets that answer, as its own /send would have.
    replies.assign(entries.size(), sent);
    return replies;
  }
  const auto it = sent->body.find("results");
  bool whole = it != sent->body.end() && it->is_array() && it->size() == entries.size();
  for (size_t i = 0; whole && i < entries.size(); ++i) {
    const auto& r = (*it)[i];
    whole = r.is_object() && r.value("message_id", std::string()) == entries[i].message_id;
  }
  if (!whole) {
    replies.assign(entries.size(),
                   fail(ErrorCode::kBadRequest,
                        "relay answered /send_batch without one result per message in order"));
    return replies;
  }
  // Each message's result stands for the /send answer it replaces.
  replies.reserve(entries.size());
  for (const auto& r : *it) replies.emplace_back(relay::RelayReply{sent->http_status, r});
  return replies;
}

bool Connector::settle_sent(const broker::OutboxEntry& e, const Result<relay::RelayReply>& sent,
                            bool heartbeats_skipped, SyncReport& report, ForwardResults& out) {
  const double now = broker_.clock().now();
  const bool grace = relay_restart_seen_at_.has_value() &&
                     now - *relay_restart_seen_at_ < options_.outbox.restart_grace_seconds;
  if (heartbeats_skipped && !grace && sent && is_unknown_recipient(sent->error_code())) {
    // A relay that lost its leases (a restart) says so to heartbeats, and this round skipped
    // them: heartbeat first, then decide. The entry and the rest stay untried, so the loop
    // runs the next round at once, with heartbeats (entries a batch already delivered are sent
    // again then, and the relay's dedup answers "duplicate").
    last_heartbeats_.reset();
    report.details.push_back("send " + e.message_id + " -> " + e.to_alias + ": " +
                             sent->describe() + "; heartbeating before deciding");
    return false;
  }
  const auto d = decide_outbox(e, sent, now, options_.outbox, grace);
  if (!sent) report.unreachable = sent.error().code == ErrorCode::kUnavailable;
  if (d.delivered()) {
    ++report.forwarded;
    report.details.push_back("forwarded " + e.message_id + " -> " + e.to_alias);
    out.relay_accepted.push_back(relay_accepted_event(e, now));
  } else {
    ++report.failed;
    const std::string why = sent ? sent->describe() : sent.error().message;
    if (d.dead_lettered()) {
      ++report.dlqed;
      // `why` usually starts with the reason already (unknown_host: unknown host ...).
      note_error(report, "send",
                 e.to_alias + ": " + why +
                     (starts_with(why, d.outcome.reason) ? "" : " (" + d.outcome.reason + ")") +
                     "; dead-lettered");
      report.details.push_back("dead-lettered " + e.message_id + " -> " + e.to_alias + " (" +
                               d.outcome.reason + ")");
    } else {
      note_error(report, "send", e.to_alias + ": " + why);
    }
    if (sent && sent->auth_refused()) report.refused = true;
  }
  out.outcomes.push_back(d.outcome);
  if (sent && sent->rate_limited()) report.throttled = true;
  return !d.stop_round;
}

void Connector::forward_outbox(SyncReport& report, const std::atomic<bool>* stop,
                               bool heartbeats_skipped) {
  auto read = broker_.read_outbox();
  if (!read) {
    report.local_error = true;
    note_error(report, "outbox", read.error().message);
    return;
  }
  const auto& entries = read.value();
  ForwardResults out;
  out.outcomes.reserve(entries.size());
  // Consecutive entries from one sender go as one /send_batch, in outbox order (the relay
  // applies a batch in order, so each recipient gets them in the order they were queued);
  // each message's result is decided as its own /send's answer would be (docs/relay-client.md,
  // "Outbox forwarding throughput").
  size_t i = 0;
  bool go_on = true;
  while (go_on && i < entries.size() && !stopping(stop)) {
    // The relay would refuse to take mail from an alias it refuses to register for us; leave
    // those entries queued until the alias is ours again.
    if (alias_refused(entries[i].from_alias)) {
      ++i;
      continue;
    }
    size_t end = i + 1;
    if (batch_usable(broker_.clock().now())) {
      size_t bytes = entries[i].content.size();
      while (end < entries.size() && end - i < relay::protocol::kMaxBatchMessages &&
             entries[end].from_alias == entries[i].from_alias) {
        bytes += entries[end].content.size();
        if (bytes > kBatchContentBytes) break;
        ++end;
      }
    }
    std::vector<Result<relay::RelayReply>> replies;
    if (end - i > 1) {
      replies = send_batch(std::span(entries).subspan(i, end - i), report);
    }
    for (size_t k = i; go_on && k < end; ++k) {
      if (!replies.empty()) {
        go_on = settle_sent(entries[k], replies[k - i], heartbeats_skipped, report, out);
        continue;
      }
      if (k > i && stopping(stop)) {
        go_on = false;
        break;
      }
      report.contacted_relay = true;
      go_on = settle_sent(entries[k], client_.send(send_params(entries[k])), heartbeats_skipped,
                          report, out);
    }
    i = end;
  }
  // Best effort, like every receipt: the message itself is on the relay.
  (void)broker_.record_receipts(out.relay_accepted);
  if (out.outcomes.empty()) return;
  // Entries not tried this round have no outcome and stay as they are.
  auto settled = broker_.settle_outbox(out.outcomes);
  if (!settled) {
    report.local_error = true;
    note_error(report, "outbox", settled.error().message);
  }
}

bool Connector::has_untried_outbox() {
  auto entries = broker_.read_outbox();
  if (!entries) return false;
  for (const auto& e : entries.value()) {
    if (e.attempts <= 1 && !alias_refused(e.from_alias)) return true;
  }
  return false;
}

void Connector::pull_inbox(const Session& s, SyncReport& report) {
  // The relay answers a backlog in pages (docs/relay-server.md, "Inbox pages"): one page in
  // memory at a time, acknowledged before the next is read. The cap keeps one round bounded
  // (about 100,000 messages at the relay's default page); the rest comes next round.
  constexpr int kMaxPagesPerRound = 1000;
  for (int page = 0; page < kMaxPagesPerRound; ++page) {
    if (!pull_page(s, report)) return;
  }
}

bool Connector::pull_page(const Session& s, SyncReport& report) {
  report.contacted_relay = true;
  auto peeked = client_.peek_inbox(options_.node_id, s.session_id, s.alias);
  if (!peeked) {
    report.unreachable = peeked.error().code == ErrorCode::kUnavailable;
    note_error(report, "poll_inbox", peeked.error().message);
    return false;
  }
  if (!peeked->ok()) {
    if (peeked->auth_refused()) report.refused = true;
    note_error(report, "poll_inbox", s.alias + ": " + peeked->describe());
    return false;
  }
  // Older relays never say "more": they answer the whole inbox at once.
  const auto more_it = peeked->body.find("more");
  const bool more = more_it != peeked->body.end() && more_it->is_boolean() && more_it->get<bool>();
  size_t malformed = 0;
  const auto messages = relay::parse_messages(peeked.value(), &malformed);
  if (malformed > 0) {
    note_error(report, "poll_inbox",
               s.alias + ": skipped " + std::to_string(malformed) + " malformed relay message(s)");
  }
  if (messages.empty()) return false;

  std::vector<broker::Message> local;
  std::vector<std::string> ids;
  local.reserve(messages.size());
  ids.reserve(messages.size());
  for (const auto& m : messages) {
    local.push_back(inbound_message(m, s.alias, options_.node_id, broker_.clock().now()));
    ids.push_back(m.message_id);
  }
  // Write locally first; acknowledge only what is safely in the local inbox.
  auto delivered = broker_.deliver(s.session_id, local);
  if (!delivered) {
    report.local_error = true;
    note_error(report, "deliver", s.alias + ": " + delivered.error().message);
    return false;
  }
  report.inbound += static_cast<int>(delivered.value());
  if (delivered.value() > 0) {
    report.details.push_back("delivered " + std::to_string(delivered.value()) + " inbound -> " +
                             s.alias);
  }
  auto acked = client_.poll_inbox(options_.node_id, s.session_id, s.alias, ids);
  if (!acked) {
    report.unreachable = acked.error().code == ErrorCode::kUnavailable;
    note_error(report, "ack", acked.error().message);
    return false;
  }
  if (!acked->ok()) {
    note_error(report, "ack", s.alias + ": " + acked->describe());
    return false;
  }
  return more;
}

}  // namespace c2c::connector
