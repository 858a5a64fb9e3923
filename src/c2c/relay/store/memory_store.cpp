// MemoryStore: leases, bindings, the dedup window, nonce caches and dead letters.
// Inboxes, rooms and history live in memory_inbox.cpp.
#include "c2c/relay/store/memory_store.hpp"

#include <algorithm>

namespace c2c::relay {

void MemoryStore::attach_sink(redo::Sink* sink) {
  std::lock_guard lock(mu_);
  sink_ = sink;
}

// --- leases ---

void MemoryStore::index_lease(const Lease& lease) {
  lease_by_key_[InboxKey{lease.node_id, lease.session_id}].push_back(lease.alias);
}

void MemoryStore::unindex_lease(const Lease& lease) {
  auto it = lease_by_key_.find(InboxKey{lease.node_id, lease.session_id});
  if (it == lease_by_key_.end()) return;
  std::erase(it->second, lease.alias);
  if (it->second.empty()) lease_by_key_.erase(it);
}

std::optional<Lease> MemoryStore::get_lease(std::string_view alias) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(alias);
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
  std::vector<Lease> out;
  out.reserve(leases_.size());
  for (const auto& [alias, lease] : leases_) out.push_back(lease);
  return out;
}

Result<void> MemoryStore::put_lease(const Lease& lease) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = leases_.try_emplace(lease.alias, lease);
  if (!inserted) {
    unindex_lease(it->second);
    it->second = lease;
  }
  index_lease(lease);
  emit(redo::PutLease{lease});
  return {};
}

Result<void> MemoryStore::remove_lease(std::string_view alias) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(alias);
  if (it == leases_.end()) return {};
  unindex_lease(it->second);
  leases_.erase(it);
  emit(redo::RemoveLease{std::string(alias)});
  return {};
}

// --- bindings ---

std::optional<std::string> MemoryStore::get_binding(std::string_view alias) {
  std::lock_guard lock(mu_);
  auto it = bindings_.find(alias);
  if (it == bindings_.end()) return std::nullopt;
  return it->second;
}

Result<void> MemoryStore::put_binding(std::string_view alias, std::string_view pk_b64u) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = bindings_.try_emplace(std::string(alias), pk_b64u);
  if (!inserted) it->second = pk_b64u;
  emit(redo::PutBinding{std::string(alias), std::string(pk_b64u)});
  return {};
}

Result<bool> MemoryStore::remove_binding(std::string_view alias) {
  std::lock_guard lock(mu_);
  auto it = bindings_.find(alias);
  if (it == bindings_.end()) return false;
  bindings_.erase(it);
  emit(redo::RemoveBinding{std::string(alias)});
  return true;
}

// --- dedup window ---

bool MemoryStore::seen_message_id(std::string_view message_id) {
  std::lock_guard lock(mu_);
  return seen_.contains(message_id);
}

Result<void> MemoryStore::remember_message_id(std::string_view message_id, size_t window) {
  std::lock_guard lock(mu_);
  if (seen_.contains(message_id)) return {};
  seen_.emplace(message_id);
  seen_fifo_.emplace_back(message_id);
  redo::RememberId rec{std::string(message_id), {}};
  while (seen_fifo_.size() > window) {
    seen_.erase(seen_fifo_.front());
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
