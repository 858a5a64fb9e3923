// RelayService: the receive stream (POST /stream). See docs/relay-server.md, "Receive stream".
#include <algorithm>
#include <map>
#include <unordered_map>

#include "c2c/core/text.hpp"
#include "c2c/relay/server/convert.hpp"
#include "c2c/relay/server/relay_service.hpp"

namespace c2c::relay::server {

namespace {

// Frame bounds: the client may ask for less, never for more.
constexpr size_t kDefaultFrameMessages = 256;
constexpr size_t kMaxFrameMessages = 4096;
constexpr size_t kDefaultFrameBytes = 1 << 20;
constexpr size_t kMaxFrameBytes = 8 << 20;

size_t bounded(const std::optional<int64_t>& asked, size_t dflt, size_t cap) {
  if (!asked) return dflt;
  return std::min(static_cast<size_t>(*asked), cap);
}

// The calling thread's woken nodes, by service (a process may hold several, e.g. in tests).
thread_local std::vector<std::pair<const RelayService*, std::vector<std::string>>> t_woken;

}  // namespace

void RelayService::record_woken(std::vector<std::string> nodes) {
  for (auto& [service, list] : t_woken) {
    if (service == this) {
      list.insert(list.end(), std::make_move_iterator(nodes.begin()),
                  std::make_move_iterator(nodes.end()));
      return;
    }
  }
  t_woken.emplace_back(this, std::move(nodes));
}

std::vector<std::string> RelayService::take_woken_nodes() {
  std::vector<std::string> out;
  for (auto it = t_woken.begin(); it != t_woken.end(); ++it) {
    if (it->first == this) {
      out = std::move(it->second);
      t_woken.erase(it);
      break;
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void RelayService::add_sender_nodes(std::vector<protocol::Message>& messages) {
  std::unordered_map<std::string, std::string> node_of;
  for (auto& m : messages) {
    auto [it, fresh] = node_of.try_emplace(m.from_alias);
    if (fresh) {
      if (auto l = store_.get_lease(m.from_alias)) it->second = l->node_id;
    }
    m.from_node = it->second;
  }
}

std::vector<Lease> RelayService::stream_leases(const StreamPlan& plan) {
  std::vector<Lease> out;
  for (auto& l : store_.leases_on_node(plan.node_id)) {
    // docs/decisions.md D3: a signed stream reads only sessions whose alias is bound to the
    // signer's key.
    if (!plan.owner_pk.empty()) {
      const auto bound = store_.get_binding(l.alias);
      if (!bound || *bound != plan.owner_pk) continue;
    }
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<InboxKey> RelayService::stream_keys(const std::vector<Lease>& leases) {
  std::vector<InboxKey> keys;
  for (const auto& l : leases) {
    InboxKey key{l.node_id, l.session_id};
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  }
  return keys;
}

Reply<RelayService::StreamPlan> RelayService::open_stream(const protocol::StreamRequest& req,
                                                          const std::string& signer) {
  StreamPlan plan;
  plan.node_id = req.node_id;
  plan.max_messages = bounded(req.max_messages, kDefaultFrameMessages, kMaxFrameMessages);
  plan.max_bytes = bounded(req.max_bytes, kDefaultFrameBytes, kMaxFrameBytes);
  plan.receipt_batches = req.receipt_batches;
  if (!signer.empty()) {
    const auto pk = store_.get_binding(signer);
    if (!pk) {
      return failure(FailureKind::kForbidden, ErrorCode::kSignatureInvalid,
                     "verified signer \"" + signer + "\" has no bound identity");
    }
    plan.owner_pk = *pk;
  }
  if (req.acks.empty() && req.receipt_acks.empty()) return plan;
  return in_transaction<StreamPlan>(TxScope::kWhole, [&](Tx& tx) -> Reply<StreamPlan> {
    const auto leases = stream_leases(plan);
    const auto keys = stream_keys(leases);
    // Receipt acknowledgements count only for the senders this stream reads (the same rule as
    // message acknowledgements below).
    std::map<std::string, std::vector<std::string>> recorded;  // lease alias -> receipt ids
    for (const auto& ack : req.receipt_acks) {
      for (const auto& l : leases) {
        if (!iequals(l.alias, ack.alias)) continue;
        recorded[l.alias].push_back(ack.receipt_id);
        break;
      }
    }
    for (const auto& [alias, ids] : recorded) {
      if (auto r = tx.drain_ids(receipts_key(alias), ids); !r) return storage_failure(r.error());
    }
    for (const auto& ack : req.acks) {
      const InboxKey key{req.node_id, ack.session_id};
      // An acknowledgement for a session the caller does not own (any more) is ignored: it can
      // only come from a stale frame, and must not touch someone else's inbox.
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) continue;
      if (auto r = tx.drop_through(key, ack.seq); !r) return storage_failure(r.error());
    }
    return plan;
  });
}

protocol::StreamFrame RelayService::stream_frame(const StreamPlan& plan) {
  protocol::StreamFrame frame;
  size_t bytes = 0;
  const auto leases = stream_leases(plan);
  // Receipts for the node's senders first: they are small, and a backlog of messages must not
  // hold back the news that earlier messages arrived.
  std::vector<std::string> senders;
  for (const auto& l : leases) {
    if (std::none_of(senders.begin(), senders.end(),
                     [&](const std::string& s) { return iequals(s, l.alias); })) {
      senders.push_back(l.alias);
    }
  }
  ReceiptBudget budget;
  for (const auto& alias : senders) {
    for (auto& r : queued_receipts(alias, budget, plan.receipt_batches, &frame.more)) {
      frame.receipts.push_back(std::move(r));
    }
  }
  for (const auto& key : stream_keys(leases)) {
    if (frame.messages.size() >= plan.max_messages || bytes >= plan.max_bytes) {
      frame.more = true;
      break;
    }
    bool key_more = false;
    auto page = store_.peek_page(
        key, PageLimit{plan.max_messages - frame.messages.size(), plan.max_bytes - bytes},
        &key_more);
    if (key_more) frame.more = true;
    for (auto& m : page) {
      // A page always holds its first message; past the frame's first message, that one must
      // fit the frame's budget too.
      if (!frame.messages.empty() && bytes + page_bytes(m) > plan.max_bytes) {
        frame.more = true;
        break;
      }
      bytes += page_bytes(m);
      const uint64_t seq = m.seq;
      protocol::Message w = to_wire(std::move(m));
      w.session_id = key.session_id;
      w.seq = seq;
      frame.messages.push_back(std::move(w));
    }
  }
  if (frame.messages.size() >= plan.max_messages || bytes >= plan.max_bytes) frame.more = true;
  add_sender_nodes(frame.messages);
  return frame;
}

}  // namespace c2c::relay::server
