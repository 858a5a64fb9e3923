// Step 4 of a connector round: delivery receipts (docs/relay-client.md "Delivery receipts").
//
// Recipient side: Broker::deliver and the drains queue `delivered` / `read` for messages that
// came through the relay in receipts-outbox.jsonl; here they are signed with this machine's
// identity and posted to the relay as the recipient's alias, then settled. Consecutive ones of
// one sender, state and millisecond (a delivered frame, a drain) go as one batched receipt
// under one signature (crypto::delivery_receipts_blob: state, "alias@node", ms, the ids), so
// signing and verifying cost per batch, not per message; a lone one is a single receipt
// (crypto::delivery_receipt_blob). A relay that refuses batches (400: older than them) gets
// single receipts for 5 minutes.
//
// Sender side: the receipts the relay queued for a local alias are fetched; a message of a
// receipt is kept only when this broker sent it to that alias, and when the receipt's signature
// verifies against the key pinned for the recipient's alias (pinned from the relay's /pubkey on
// first use; a later different key does not replace it). Recorded ones are acknowledged with
// the next fetch.
#include <algorithm>
#include <cmath>
#include <map>
#include <span>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "c2c/connector/connector.hpp"
#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"

namespace c2c::connector {

namespace {

std::string bare(const std::string& address, char sep) {
  return address.substr(0, address.find(sep));
}

// How this broker recorded the recipient of a message (its alias@host as typed), if it sent
// that message as `sender` to the relay alias `alias`; `sent` holds the statuses of the
// messages in question (Broker::sent_statuses).
std::optional<std::string> sent_to(
    const std::unordered_map<std::string, broker::DeliveryStatus>& sent,
    const std::string& message_id, const std::string& sender, const std::string& alias) {
  const auto status = sent.find(message_id);
  if (status == sent.end()) return std::nullopt;
  if (!status->second.from_alias.empty() && !iequals(status->second.from_alias, sender)) {
    return std::nullopt;
  }
  for (const auto& r : status->second.recipients) {
    if (r.recipient.find('@') != std::string::npos && iequals(bare(r.recipient, '@'), alias)) {
      return r.recipient;
    }
  }
  return std::nullopt;
}

}  // namespace

namespace {

constexpr double kReceiptBatchReprobeSeconds = 300;

// One receipt to post and how many queued entries it settles.
struct Outgoing {
  relay::protocol::DeliveryReceipt receipt;
  size_t entries = 0;
};

// The receipts of one owner's queued entries, in queue order. With `batched`, consecutive
// entries of one sender, state and millisecond share one receipt (one signature); a run of one
// stays a single receipt, which every relay reads.
std::vector<Outgoing> receipts_to_post(std::span<const broker::ReceiptOutboxEntry> entries,
                                       const std::string& recipient,
                                       const std::optional<crypto::Identity>& identity,
                                       bool batched) {
  std::vector<Outgoing> out;
  for (size_t i = 0; i < entries.size();) {
    const auto& e = entries[i];
    const int64_t ts_ms = std::max<int64_t>(1, std::llround(e.ts * 1000));
    size_t end = i + 1;
    while (batched && end < entries.size() && end - i < relay::protocol::kMaxIdsPerReceipt &&
           entries[end].sender == e.sender && entries[end].state == e.state &&
           std::max<int64_t>(1, std::llround(entries[end].ts * 1000)) == ts_ms) {
      ++end;
    }
    Outgoing o;
    auto& r = o.receipt;
    if (end - i == 1) {
      r.message_id = e.message_id;
    } else {
      for (size_t k = i; k < end; ++k) r.message_ids.push_back(entries[k].message_id);
    }
    r.state = std::string(broker::receipt_state_name(e.state));
    r.recipient = recipient;
    r.to_alias = e.sender;
    r.ts_ms = ts_ms;
    if (identity) r.sig = crypto::sign_b64u(identity->keys, r.signed_blob());
    o.entries = end - i;
    out.push_back(std::move(o));
    i = end;
  }
  return out;
}

}  // namespace

bool Connector::receipt_batches_usable(double now) const {
  return !receipt_batches_refused_at_ ||
         now - *receipt_batches_refused_at_ >= kReceiptBatchReprobeSeconds;
}

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
    // Runs of one sender and state batch best: a frame interleaves senders. (Receipts carry
    // their own times, so their order does not matter to the sender.)
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return std::tie(a.sender, a.state) < std::tie(b.sender, b.state);
    });
    const std::string recipient = owner->alias + "@" + options_.node_id;
    auto outgoing = receipts_to_post(entries, recipient, client_.identity(),
                                     receipt_batches_usable(broker_.clock().now()));
    size_t done = 0;  // entries settled so far
    for (size_t from = 0; from < outgoing.size();) {
      // One request: at most kMaxReceiptsPerRequest receipts naming at most
      // kMaxReceiptIdsPerRequest message ids.
      std::vector<relay::protocol::DeliveryReceipt> post;
      size_t ids = 0, covered = 0, to = from;
      bool any_batch = false;
      while (to < outgoing.size() && post.size() < relay::protocol::kMaxReceiptsPerRequest &&
             ids + outgoing[to].entries <= relay::protocol::kMaxReceiptIdsPerRequest) {
        ids += outgoing[to].entries;
        covered += outgoing[to].entries;
        any_batch = any_batch || outgoing[to].receipt.batched();
        post.push_back(std::move(outgoing[to].receipt));
        ++to;
      }
      report.contacted_relay = true;
      auto posted = client_.post_receipts(owner->alias, std::move(post));
      if (!posted) {
        report.unreachable = posted.error().code == ErrorCode::kUnavailable;
        note_error(report, "receipts", posted.error().message);
        break;
      }
      if (any_batch && posted->http_status == 400) {
        // A relay older than batched receipts refuses the form: post single receipts for a
        // while, starting with these (nothing was settled for them).
        receipt_batches_refused_at_ = broker_.clock().now();
        report.details.push_back("the relay refuses batched receipts (" + posted->describe() +
                                 "); posting them one by one");
        outgoing = receipts_to_post(std::span(entries).subspan(done), recipient, client_.identity(),
                                    /*batched=*/false);
        from = 0;
        continue;
      }
      // Refused for good (bad request, not ours): dropped rather than retried forever.
      const bool retry = !posted->ok() && (posted->http_status >= 500 || posted->rate_limited() ||
                                           posted->http_status == 401);
      if (!posted->ok()) note_error(report, "receipts", owner->alias + ": " + posted->describe());
      if (retry) break;
      settled.insert(settled.end(), entries.begin() + static_cast<long>(done),
                     entries.begin() + static_cast<long>(done + covered));
      done += covered;
      report.details.push_back("sent " + std::to_string(covered) + " receipt(s) for " +
                               owner->alias);
      from = to;
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
  // Who sent the messages named, read in one pass over the receipt log.
  std::unordered_set<std::string> named;
  for (const auto& r : receipts) {
    named.insert(r.ids().begin(), r.ids().end());
  }
  auto sent = broker_.sent_statuses(named);
  if (!sent) {
    report.local_error = true;
    note_error(report, "receipts", sent.error().message);
    return {};  // none acknowledged: they come again
  }
  // The pinned key of each recipient alias, looked up once per call (a batch of receipts
  // usually comes from one or two recipients).
  std::map<std::string, Result<std::string>> keys;
  for (const auto& r : receipts) {
    const std::string alias = bare(r.recipient, '@');
    // The messages of this receipt that this broker sent there, as it recorded their recipient.
    std::vector<std::pair<std::string, std::string>> ours;  // message id, recorded recipient
    for (const auto& id : r.ids()) {
      if (auto recorded_as = sent_to(*sent, id, sender, alias)) {
        ours.emplace_back(id, std::move(*recorded_as));
      }
    }
    const std::string what = "the " + r.describe();
    if (ours.empty()) {
      acks.push_back(r.receipt_id);  // no message this broker sent there: drop it
      report.details.push_back("dropped " + what + ": not sent from here");
      continue;
    }
    auto key = keys.find(casefold(alias));
    if (key == keys.end()) {
      key = keys.emplace(casefold(alias), recipient_key(alias, sender, client)).first;
    }
    if (!key->second) {
      note_error(report, "receipts", key->second.error().message);
      continue;  // not acknowledged: tried again next round
    }
    std::string verified;
    if (!key->second->empty()) {
      // One verification per receipt, however many messages it names.
      const auto pk = crypto::b64u_decode_fixed<32>(*key->second);
      if (!pk || !crypto::verify_b64u(*pk, r.signed_blob(), r.sig)) {
        acks.push_back(r.receipt_id);
        note_error(report, "receipts",
                   what + " from " + r.recipient + " does not verify against the key pinned for " +
                       alias + "; dropped");
        continue;
      }
      verified = "ed25519";
    } else {
      verified = "unsigned";  // the relay knows no key for the alias (dev mode)
    }
    for (auto& [id, recorded_as] : ours) {
      broker::ReceiptEvent e;
      e.message_id = std::move(id);
      e.state = *broker::parse_receipt_state(r.state);
      e.recipient = std::move(recorded_as);
      e.ts = static_cast<double>(r.ts_ms) / 1000.0;
      e.via = "remote";
      e.node = r.recipient.substr(r.recipient.find('@') + 1);
      e.verified = verified;
      events.push_back(std::move(e));
    }
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
