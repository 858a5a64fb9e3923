// Step 4 of a connector round: delivery receipts (docs/relay-client.md "Delivery receipts").
//
// Recipient side: Broker::deliver and the drains queue `delivered` / `read` for messages that
// came through the relay in receipts-outbox.jsonl; here each is signed with this machine's
// identity over crypto::delivery_receipt_blob (message id, state, "alias@node", ms) and posted
// to the relay as the recipient's alias, then settled.
//
// Sender side: the receipts the relay queued for a local alias are fetched; each is kept only
// when this broker sent that message to that alias, and when its signature verifies against
// the key pinned for the recipient's alias (pinned from the relay's /pubkey on first use; a
// later different key does not replace it). Recorded ones are acknowledged with the next fetch.
#include <cmath>
#include <map>

#include "c2c/connector/connector.hpp"
#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"

namespace c2c::connector {

namespace {

std::string bare(const std::string& address, char sep) {
  return address.substr(0, address.find(sep));
}

// How this broker recorded the recipient of message_id (its alias@host as typed), if it sent
// that message as `sender` to the relay alias `alias`.
std::optional<std::string> sent_to(broker::Broker& b, const std::string& message_id,
                                   const std::string& sender, const std::string& alias) {
  auto status = b.delivery_status(message_id);
  if (!status || !*status) return std::nullopt;
  if (!(*status)->from_alias.empty() && !iequals((*status)->from_alias, sender)) {
    return std::nullopt;
  }
  for (const auto& r : (*status)->recipients) {
    if (r.recipient.find('@') != std::string::npos && iequals(bare(r.recipient, '@'), alias)) {
      return r.recipient;
    }
  }
  return std::nullopt;
}

}  // namespace

void Connector::forward_receipts(const std::vector<Session>& sessions, SyncReport& report) {
  receipts_left_behind_ = true;  // until everything read below is settled
  auto queued = broker_.read_receipt_outbox();
  if (!queued) {
    report.local_error = true;
    note_error(report, "receipts", queued.error().message);
    return;
  }
  if (queued->empty()) {
    receipts_left_behind_ = false;
    return;
  }
  const size_t read = queued->size();
  // Grouped by the local alias that received the message: each post is signed as it.
  std::map<std::string, std::vector<broker::ReceiptOutboxEntry>> by_alias;
  for (auto& e : *queued) by_alias[casefold(bare(e.recipient, '#'))].push_back(std::move(e));
  std::vector<broker::ReceiptOutboxEntry> settled;
  for (auto& [key, entries] : by_alias) {
    const Session* owner = nullptr;
    for (const auto& s : sessions) {
      if (casefold(s.alias) == key && registered_.count(s.session_id) != 0) owner = &s;
    }
    if (owner == nullptr) continue;  // not registered on the relay (yet): try next round
    for (size_t from = 0; from < entries.size(); from += relay::protocol::kMaxReceiptsPerRequest) {
      const size_t to = std::min(entries.size(), from + relay::protocol::kMaxReceiptsPerRequest);
      std::vector<relay::protocol::DeliveryReceipt> batch;
      for (size_t i = from; i < to; ++i) {
        const auto& e = entries[i];
        relay::protocol::DeliveryReceipt r;
        r.message_id = e.message_id;
        r.state = std::string(broker::receipt_state_name(e.state));
        r.recipient = owner->alias + "@" + options_.node_id;
        r.to_alias = e.sender;
        r.ts_ms = std::max<int64_t>(1, std::llround(e.ts * 1000));
        if (client_.identity()) {
          r.sig = crypto::sign_b64u(
              client_.identity()->keys,
              crypto::delivery_receipt_blob(r.message_id, r.state, r.recipient, r.ts_ms));
        }
        batch.push_back(std::move(r));
      }
      report.contacted_relay = true;
      auto posted = client_.post_receipts(owner->alias, std::move(batch));
      if (!posted) {
        report.unreachable = posted.error().code == ErrorCode::kUnavailable;
        note_error(report, "receipts", posted.error().message);
        break;
      }
      // Refused for good (bad request, not ours): dropped rather than retried forever.
      const bool retry = !posted->ok() && (posted->http_status >= 500 || posted->rate_limited() ||
                                           posted->http_status == 401);
      if (!posted->ok()) note_error(report, "receipts", owner->alias + ": " + posted->describe());
      if (retry) break;
      settled.insert(settled.end(), entries.begin() + static_cast<long>(from),
                     entries.begin() + static_cast<long>(to));
      report.details.push_back("sent " + std::to_string(to - from) + " receipt(s) for " +
                               owner->alias);
    }
  }
  if (settled.empty()) return;
  if (auto s = broker_.settle_receipt_outbox(settled); !s) {
    report.local_error = true;
    note_error(report, "receipts", s.error().message);
    return;
  }
  receipts_left_behind_ = settled.size() < read;
}

bool Connector::has_new_receipts() {
  if (receipts_left_behind_) return false;
  auto queued = broker_.read_receipt_outbox();
  return queued.has_value() && !queued->empty();
}

Result<std::string> Connector::recipient_key(const std::string& alias, const std::string& sign_as,
                                             relay::RelayClient& client) {
  auto pinned = broker_.pinned_receipt_key(alias);
  if (!pinned) return fail(pinned.error());
  if (*pinned) return **pinned;
  auto reply = client.pubkey(alias, sign_as);
  if (!reply) return fail(reply.error());
  if (reply->http_status == 404) return std::string();  // no key bound: a dev relay
  if (!reply->ok())
    return fail(ErrorCode::kUnavailable, "pubkey " + alias + ": " + reply->describe());
  auto pk = relay::protocol::PubkeyResponse::from_json(reply->body);
  if (!pk || pk->ed25519_pubkey.empty()) {
    return fail(ErrorCode::kBadRequest, "pubkey " + alias + ": no ed25519_pubkey in the answer");
  }
  return broker_.pin_receipt_key(alias, pk->ed25519_pubkey);
}

void Connector::fetch_receipts(const Session& s, SyncReport& report) {
  auto& acks = receipt_acks_[s.alias];
  report.contacted_relay = true;
  auto reply = client_.fetch_receipts(s.alias, acks);
  if (!reply) {
    report.unreachable = reply.error().code == ErrorCode::kUnavailable;
    note_error(report, "receipts", reply.error().message);
    return;
  }
  if (!reply->ok()) {
    // An older relay without the route (404) is not an error worth reporting every round.
    if (reply->http_status != 404)
      note_error(report, "receipts", s.alias + ": " + reply->describe());
    return;
  }
  acks.clear();  // the relay dropped them
  auto parsed = relay::protocol::ReceiptsResponse::from_json(reply->body);
  if (!parsed) return;
  acks = take_receipts(s.alias, parsed->receipts, client_, report);
}

std::vector<std::string> Connector::take_receipts(
    const std::string& sender, const std::vector<relay::protocol::DeliveryReceipt>& receipts,
    relay::RelayClient& client, SyncReport& report) {
  std::vector<std::string> acks;
  std::vector<broker::ReceiptEvent> events;
  for (const auto& r : receipts) {
    const std::string alias = bare(r.recipient, '@');
    const auto recorded_as = sent_to(broker_, r.message_id, sender, alias);
    if (!recorded_as) {
      acks.push_back(r.receipt_id);  // not a message this broker sent there: drop it
      report.details.push_back("dropped receipt for unknown message " + r.message_id);
      continue;
    }
    auto key = recipient_key(alias, sender, client);
    if (!key) {
      note_error(report, "receipts", key.error().message);
      continue;  // not acknowledged: tried again next round
    }
    std::string verified;
    if (!key->empty()) {
      const auto pk = crypto::b64u_decode_fixed<32>(*key);
      if (!pk ||
          !crypto::verify_b64u(
              *pk, crypto::delivery_receipt_blob(r.message_id, r.state, r.recipient, r.ts_ms),
              r.sig)) {
        acks.push_back(r.receipt_id);
        note_error(report, "receipts",
                   "receipt for " + r.message_id + " from " + r.recipient +
                       " does not verify against the key pinned for " + alias + "; dropped");
        continue;
      }
      verified = "ed25519";
    } else {
      verified = "unsigned";  // the relay knows no key for the alias (dev mode)
    }
    broker::ReceiptEvent e;
    e.message_id = r.message_id;
    e.state = *broker::parse_receipt_state(r.state);
    e.recipient = *recorded_as;
    e.ts = static_cast<double>(r.ts_ms) / 1000.0;
    e.via = "remote";
    e.node = r.recipient.substr(r.recipient.find('@') + 1);
    e.verified = verified;
    events.push_back(std::move(e));
    acks.push_back(r.receipt_id);
  }
  if (events.empty()) return acks;
  if (auto w = broker_.record_receipts(events); !w) {
    // Not recorded: fetch them again rather than acknowledge.
    report.local_error = true;
    note_error(report, "receipts", w.error().message);
    return {};
  }
  report.details.push_back("recorded " + std::to_string(events.size()) + " receipt(s) for " +
                           sender);
  return acks;
}

}  // namespace c2c::connector
