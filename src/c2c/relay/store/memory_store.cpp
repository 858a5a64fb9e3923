// MemoryStore: leases, bindings, the dedup window, nonce caches and dead letters.
// Inboxes, rooms and history live in memory_inbox.cpp.
#include "c2c/relay/store/memory_store.hpp"

#include <algorithm>

#include "c2c/core/text.hpp"

namespace c2c::relay {

namespace {

// The dedup set's key of (folded sender, id); 0x1F cannot occur in an alias.
std::string dedup_key(std::string_view folded_sender, std::string_view message_id) {
  std::string key;
  key.reserve(folded_sender.size() + 1 + message_id.size());
  key.append(folded_sender).push_back('\x1f');
  key.append(message_id);
  return key;
}

}  // namespace

void MemoryStore::attach_sink(redo::Sink* sink) {
  std::lock_guard lock(mu_);
  sink_ = sink;
}

// --- leases ---

void MemoryStore::index_lease(const Lease& lease) {
  lease_by_key_[InboxKey{lease.node_id, lease.session_id}].push_back(casefold(lease.alias));
  auto node = aliases_by_node_.find(lease.node_id);
  if (node == aliases_by_node_.end()) node = aliases_by_node_.try_emplace(lease.node_id).first;
  node->second.push_back(casefold(lease.alias));
}

void MemoryStore::unindex_lease(const Lease& lease) {
  if (auto node = aliases_by_node_.find(lease.node_id); node != aliases_by_node_.end()) {
    std::erase(node->second, casefold(lease.alias));
    if (node->second.empty()) aliases_by_node_.erase(node);
  }
  auto it = lease_by_key_.find(InboxKey{lease.node_id, lease.session_id});
  if (it == lease_by_key_.end()) return;
  std::erase(it->second, casefold(lease.alias));
  if (it->second.empty()) lease_by_key_.erase(it);
}

std::vector<Lease> MemoryStore::leases_on_node(std::string_view node_id) {
  std::lock_guard lock(mu_);
  std::vector<Lease> out;
  auto node = aliases_by_node_.find(node_id);
  if (node == aliases_by_node_.end()) return out;
  out.reserve(node->second.size());
  for (const auto& key : node->second) out.push_back(leases_.find(key)->second);
  return out;
}

std::optional<Lease> MemoryStore::get_lease(std::string_view alias) {
  const std::string key = casefold(alias);
  std::lock_guard lock(mu_);
  auto it = leases_.find(key);
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

std::optional<Lease> MemoryStore::find_lease(const InboxKey& key) {
  std::lock_guard lock(mu_);
  auto it = lease_by_key_.find(key);
  if (it == lease_by_key_.end()) return std::nullopt;
  // Several aliases may share a session; the most recently (re)registered one answers.
  return leases_.find(it->second.back())->second;
}

std::vector<Lease> MemoryStore::list_leases() {
  std::lock_guard lock(mu_);
  return copy_out(leases_, kValue);
}

Result<void> MemoryStore::put_lease(const Lease& lease) {
  std::string key = casefold(lease.alias);
  std::lock_guard lock(mu_);
  auto [it, inserted] = leases_.try_emplace(std::move(key), lease);
  if (!inserted) {
    unindex_lease(it->second);
    it->second = lease;
  }
  index_lease(lease);
  emit(redo::PutLease{lease});
  return {};
}

Result<void> MemoryStore::remove_lease(std::string_view alias) {
  const std::string key = casefold(alias);
  std::lock_guard lock(mu_);
  auto it = leases_.find(key);
  if (it == leases_.end()) return {};
  unindex_lease(it->second);
  leases_.erase(it);
  emit(redo::RemoveLease{std::string(alias)});
  return {};
}

// --- bindings ---

std::optional<std::string> MemoryStore::get_binding(std::string_view alias) {
  const std::string key = casefold(alias);
  std::lock_guard lock(mu_);
  auto it = bindings_.find(key);
  if (it == bindings_.end()) return std::nullopt;
  return it->second;
}

Result<void> MemoryStore::put_binding(std::string_view alias, std::string_view pk_b64u) {
  std::string key = casefold(alias);
  std::lock_guard lock(mu_);
  auto [it, inserted] = bindings_.try_emplace(std::move(key), pk_b64u);
  if (!inserted) it->second = pk_b64u;
  emit(redo::PutBinding{std::string(alias), std::string(pk_b64u)});
  return {};
}

Result<bool> MemoryStore::remove_binding(std::string_view alias) {
  const std::string key = casefold(alias);
  std::lock_guard lock(mu_);
  auto it = bindings_.find(key);
  if (it == bindings_.end()) return false;
  bindings_.erase(it);
  emit(redo::RemoveBinding{std::string(alias)});
  return true;
}

// --- dedup window ---

bool MemoryStore::seen_message_id(std::string_view sender, std::string_view message_id) {
  const std::string key = dedup_key(casefold(sender), message_id);
  // Schema-1 entries (no sender) still count for every sender until they age out.
  const std::string legacy = dedup_key("", message_id);
  std::lock_guard lock(mu_);
  return seen_.contains(key) || seen_.contains(legacy);
}

Result<void> MemoryStore::remember_message_id(std::string_view sender, std::string_view message_id,
                                              size_t window) {
  redo::SenderId id{casefold(sender), std::string(message_id)};
  std::string key = dedup_key(id.sender, id.message_id);
  std::lock_guard lock(mu_);
  if (seen_.contains(key)) return {};
  seen_.insert(std::move(key));
  seen_fifo_.push_back(id);
  redo::RememberId rec{std::move(id), {}};
  while (seen_fifo_.size() > window) {
    seen_.erase(dedup_key(seen_fifo_.front().sender, seen_fifo_.front().message_id));
    if (sink_ != nullptr) rec.evicted.push_back(std::move(seen_fifo_.front()));
    seen_fifo_.pop_front();
  }
  emit(std::move(rec));
  return {};
}

// --- nonce caches ---

Result<bool> MemoryStore::remember_nonce(std::string_view cache, std::string_view nonce, double ts,
                                         double ttl_seconds) {
  std::lock_guard lock(mu_);
  auto cit = nonce_caches_.find(cache);
  if (cit == nonce_caches_.end()) cit = nonce_caches_.try_emplace(std::string(cache)).first;
  NonceCache& c = cit->second;
  if (c.nonces.contains(nonce)) return false;
  c.nonces.emplace(nonce);
  c.by_ts.emplace(ts, nonce);
  const double prune_before = ts - ttl_seconds;
  while (!c.by_ts.empty() && c.by_ts.begin()->first < prune_before) {
    c.nonces.erase(c.by_ts.begin()->second);
    c.by_ts.erase(c.by_ts.begin());
  }
  emit(redo::RememberNonce{std::string(cache), std::string(nonce), ts, prune_before});
  return true;
}

// --- dead letters ---

Result<void> MemoryStore::add_dead_letter(const DeadLetter& dl) {
  std::lock_guard lock(mu_);
  dead_letters_.push_back(dl);
  emit(redo::AddDeadLetter{dl});
  return {};
}

std::vector<DeadLetter> MemoryStore::dead_letters() {
  std::lock_guard lock(mu_);
  return dead_letters_;
}

}  // namespace c2c::relay
