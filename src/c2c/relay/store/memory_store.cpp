// MemoryStore: transactions and their undo log, leases, bindings, the dedup window, nonce caches
// and dead letters. Inboxes, rooms and history live in memory_inbox.cpp.
#include "c2c/relay/store/memory_store.hpp"

#include <algorithm>
#include <thread>

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

// --- transactions ---

MemoryStore::Guard::Guard(MemoryStore& s)
    : mu_(s.owner_.load(std::memory_order_relaxed) == std::this_thread::get_id() ? nullptr
                                                                                 : &s.mu_) {
  if (mu_ != nullptr) mu_->lock();
}

MemoryStore::Guard::~Guard() {
  if (mu_ != nullptr) mu_->unlock();
}

Result<void> MemoryStore::transact(TxScope scope, const Body& body) {
  BackendTx<MemoryStore> tx(*this, scope);
  // Joins the transaction this thread runs on this store.
  if (owner_.load(std::memory_order_relaxed) == std::this_thread::get_id()) return body(tx);
  std::lock_guard lock(mu_);
  owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  logging_ = scope != TxScope::kOneWrite;  // a kOneWrite's one write is final (store.hpp)
  if (sink_ != nullptr) sink_->begin();
  // Ends the transaction: keeps its writes, or undoes them newest first.
  auto end = [&](bool ok) {
    const bool keep = ok || !logging_;
    if (!keep) {
      std::for_each(undo_.rbegin(), undo_.rend(), [this](auto& u) { undo(u); });
    }
    if (sink_ != nullptr) sink_->end(keep);
    logging_ = false;
    undo_.clear();  // keeps its capacity for the next transaction
    owner_.store(std::thread::id(), std::memory_order_relaxed);
  };
  Result<void> result;
  try {
    result = body(tx);
  } catch (...) {
    end(false);  // a body that throws (the router answers 500) leaves nothing either
    throw;
  }
  end(result.has_value());
  return result;
}

void MemoryStore::put_lease_raw(const std::string& key, const Lease& lease) {
  auto [it, inserted] = leases_.try_emplace(key, lease);
  if (!inserted) {
    unindex_lease(it->second);
    it->second = lease;
  }
  index_lease(lease);
}

void MemoryStore::erase_lease_raw(const std::string& key) {
  auto it = leases_.find(key);
  if (it == leases_.end()) return;
  unindex_lease(it->second);
  leases_.erase(it);
}

void MemoryStore::undo(Undo& u) {
  std::visit(
      [this](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, LeaseWas>) {
          if (e.old) {
            put_lease_raw(e.key, *e.old);
          } else {
            erase_lease_raw(e.key);
          }
        } else if constexpr (std::is_same_v<T, BindingWas>) {
          if (e.old) {
            bindings_[e.key] = std::move(*e.old);
          } else {
            bindings_.erase(e.key);
          }
        } else if constexpr (std::is_same_v<T, Appended>) {
          // Rare (a failed body), so a walk over every inbox is fine.
          for (auto it = inboxes_.begin(); it != inboxes_.end();) {
            Queue& q = it->second;
            while (!q.empty() && q.back().seq() >= e.first_seq) {
              q.pop_back();
              --queued_;
            }
            it = q.empty() ? inboxes_.erase(it) : std::next(it);
          }
        } else if constexpr (std::is_same_v<T, Taken>) {
          put_back(e.key, std::move(*e.messages));
        } else if constexpr (std::is_same_v<T, Moved>) {
          auto to = inboxes_.find(e.to);
          Queue back;
          const size_t n = e.old_seqs.size();
          for (size_t i = 0; i < n; ++i) {
            back.push_front(std::move(to->second.back()));
            to->second.pop_back();
          }
          for (size_t i = 0; i < n; ++i) back[i].set_seq(e.old_seqs[i]);
          if (to->second.empty()) inboxes_.erase(to);
          queued_ -= n;
          put_back(e.from, std::move(back));
        } else if constexpr (std::is_same_v<T, RoomWas>) {
          if (!e.old) {
            rooms_.erase(e.room_id);
          } else {
            auto& room = rooms_[e.room_id];
            room.visibility = std::move(e.old->visibility);
            room.invited = std::move(e.old->invited);
          }
        } else if constexpr (std::is_same_v<T, MemberAdded>) {
          auto it = rooms_.find(e.room_id);
          it->second.members.pop_back();
        } else if constexpr (std::is_same_v<T, MemberRemoved>) {
          auto& members = rooms_[e.room_id].members;
          members.insert(members.begin() + static_cast<std::ptrdiff_t>(e.index),
                         std::move(e.alias));
        } else if constexpr (std::is_same_v<T, HistoryAppended>) {
          auto it = history_.find(e.room_id);
          it->second.pop_back();
          if (it->second.empty()) history_.erase(it);
        } else if constexpr (std::is_same_v<T, IdRemembered>) {
          seen_.erase(dedup_key(seen_fifo_.back().sender, seen_fifo_.back().message_id));
          seen_fifo_.pop_back();
          for (auto ev = e.evicted.rbegin(); ev != e.evicted.rend(); ++ev) {
            seen_.insert(dedup_key(ev->sender, ev->message_id));
            seen_fifo_.push_front(std::move(*ev));
          }
        } else if constexpr (std::is_same_v<T, NonceRemembered>) {
          NonceCache& c = nonce_caches_.find(e.cache)->second;
          c.nonces.erase(e.nonce);
          for (auto [b, end] = c.by_ts.equal_range(e.ts); b != end; ++b) {
            if (b->second == e.nonce) {
              c.by_ts.erase(b);
              break;
            }
          }
          for (auto& [ts, nonce] : e.pruned) {
            c.nonces.insert(nonce);
            c.by_ts.emplace(ts, std::move(nonce));
          }
        } else if constexpr (std::is_same_v<T, DeadLetterAdded>) {
          dead_letters_.pop_back();
        } else if constexpr (std::is_same_v<T, SettingAdded>) {
          settings_.erase(e.name);
        }
      },
      u);
}

void MemoryStore::attach_sink(redo::Sink* sink) {
  const Guard lock(*this);
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
  const Guard lock(*this);
  std::vector<Lease> out;
  auto node = aliases_by_node_.find(node_id);
  if (node == aliases_by_node_.end()) return out;
  out.reserve(node->second.size());
  for (const auto& key : node->second) out.push_back(leases_.find(key)->second);
  return out;
}

std::optional<Lease> MemoryStore::get_lease(std::string_view alias) {
  const std::string key = casefold(alias);
  const Guard lock(*this);
  auto it = leases_.find(key);
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

std::optional<Lease> MemoryStore::find_lease(const InboxKey& key) {
  const Guard lock(*this);
  auto it = lease_by_key_.find(key);
  if (it == lease_by_key_.end()) return std::nullopt;
  // Several aliases may share a session; the most recently (re)registered one answers.
  return leases_.find(it->second.back())->second;
}

std::vector<Lease> MemoryStore::list_leases() {
  const Guard lock(*this);
  return copy_out(leases_, kValue);
}

Result<void> MemoryStore::put_lease(const Lease& lease) {
  std::string key = casefold(lease.alias);
  const Guard lock(*this);
  if (logging_) {
    auto old = leases_.find(key);
    undo_.emplace_back(
        LeaseWas{key, old == leases_.end() ? std::nullopt : std::optional<Lease>(old->second)});
  }
  put_lease_raw(key, lease);
  emit(redo::PutLease{lease});
  return {};
}

Result<void> MemoryStore::remove_lease(std::string_view alias) {
  const std::string key = casefold(alias);
  const Guard lock(*this);
  auto it = leases_.find(key);
  if (it == leases_.end()) return {};
  if (logging_) undo_.emplace_back(LeaseWas{key, it->second});
  unindex_lease(it->second);
  leases_.erase(it);
  emit(redo::RemoveLease{std::string(alias)});
  return {};
}

// --- bindings ---

std::optional<std::string> MemoryStore::get_binding(std::string_view alias) {
  const std::string key = casefold(alias);
  const Guard lock(*this);
  auto it = bindings_.find(key);
  if (it == bindings_.end()) return std::nullopt;
  return it->second;
}

Result<void> MemoryStore::put_binding(std::string_view alias, std::string_view pk_b64u) {
  std::string key = casefold(alias);
  const Guard lock(*this);
  auto [it, inserted] = bindings_.try_emplace(key, pk_b64u);
  if (logging_) {
    undo_.emplace_back(BindingWas{
        std::move(key), inserted ? std::nullopt : std::optional<std::string>(it->second)});
  }
  if (!inserted) it->second = pk_b64u;
  emit(redo::PutBinding{std::string(alias), std::string(pk_b64u)});
  return {};
}

Result<bool> MemoryStore::remove_binding(std::string_view alias) {
  const std::string key = casefold(alias);
  const Guard lock(*this);
  auto it = bindings_.find(key);
  if (it == bindings_.end()) return false;
  if (logging_) undo_.emplace_back(BindingWas{key, std::move(it->second)});
  bindings_.erase(it);
  emit(redo::RemoveBinding{std::string(alias)});
  return true;
}

// --- dedup window ---

bool MemoryStore::holds_id(const std::string& key, std::string_view message_id) const {
  // Schema-1 entries (no sender) still count for every sender until they age out.
  return seen_.contains(key) || seen_.contains(dedup_key("", message_id));
}

bool MemoryStore::seen_message_id(std::string_view sender, std::string_view message_id) {
  const std::string key = dedup_key(casefold(sender), message_id);
  const Guard lock(*this);
  return holds_id(key, message_id);
}

Result<bool> MemoryStore::remember_message_id(std::string_view sender, std::string_view message_id,
                                              size_t window) {
  redo::SenderId id{casefold(sender), std::string(message_id)};
  std::string key = dedup_key(id.sender, id.message_id);
  const Guard lock(*this);
  if (holds_id(key, message_id)) return false;
  seen_.insert(std::move(key));
  seen_fifo_.push_back(id);
  redo::RememberId rec{std::move(id), 0};
  std::vector<redo::SenderId> evicted;  // kept only for the undo log
  while (seen_fifo_.size() > window) {
    seen_.erase(dedup_key(seen_fifo_.front().sender, seen_fifo_.front().message_id));
    if (logging_) evicted.push_back(std::move(seen_fifo_.front()));
    seen_fifo_.pop_front();
    ++rec.evicted;
  }
  if (logging_) undo_.emplace_back(IdRemembered{std::move(evicted)});
  emit(std::move(rec));
  return true;
}

// --- nonce caches ---

Result<bool> MemoryStore::remember_nonce(std::string_view cache, std::string_view nonce, double ts,
                                         double ttl_seconds) {
  const Guard lock(*this);
  auto cit = nonce_caches_.find(cache);
  if (cit == nonce_caches_.end()) cit = nonce_caches_.try_emplace(std::string(cache)).first;
  NonceCache& c = cit->second;
  if (c.nonces.contains(nonce)) return false;
  c.nonces.emplace(nonce);
  c.by_ts.emplace(ts, nonce);
  const double prune_before = ts - ttl_seconds;
  std::vector<std::pair<double, std::string>> pruned;
  while (!c.by_ts.empty() && c.by_ts.begin()->first < prune_before) {
    c.nonces.erase(c.by_ts.begin()->second);
    if (logging_) pruned.emplace_back(c.by_ts.begin()->first, std::move(c.by_ts.begin()->second));
    c.by_ts.erase(c.by_ts.begin());
  }
  if (logging_) {
    undo_.emplace_back(
        NonceRemembered{std::string(cache), std::string(nonce), ts, std::move(pruned)});
  }
  emit(redo::RememberNonce{std::string(cache), std::string(nonce), ts, prune_before});
  return true;
}

// --- dead letters ---

Result<void> MemoryStore::add_dead_letter(const DeadLetter& dl) {
  const Guard lock(*this);
  dead_letters_.push_back(dl);
  if (logging_) undo_.emplace_back(DeadLetterAdded{});
  emit(redo::AddDeadLetter{dl});
  return {};
}

std::vector<DeadLetter> MemoryStore::dead_letters() {
  const Guard lock(*this);
  return dead_letters_;
}

// --- settings ---

Result<std::optional<std::string>> MemoryStore::get_setting(std::string_view name) {
  const Guard lock(*this);
  auto it = settings_.find(name);
  if (it == settings_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<std::string> MemoryStore::adopt_setting(std::string_view name, std::string_view proposed) {
  const Guard lock(*this);
  auto [it, inserted] = settings_.try_emplace(std::string(name), proposed);
  if (!inserted) return it->second;
  if (logging_) undo_.emplace_back(SettingAdded{it->first});
  emit(redo::PutSetting{it->first, it->second});
  return it->second;
}

}  // namespace c2c::relay
