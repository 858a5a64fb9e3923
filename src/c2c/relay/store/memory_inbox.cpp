// MemoryStore: inboxes (FIFO per key), rooms and room history.
#include <algorithm>
#include <iterator>

#include "c2c/core/text.hpp"
#include "c2c/relay/store/memory_store.hpp"

namespace c2c::relay {
namespace {

// Members are aliases: one member per alias whatever its case (store.hpp).
auto find_member(std::vector<std::string>& members, std::string_view alias) {
  return std::find_if(members.begin(), members.end(),
                      [&](const std::string& m) { return iequals(m, alias); });
}

std::vector<StoredMessage> unpack_all(const std::deque<PackedMessage>& q) {
  std::vector<StoredMessage> out;
  out.reserve(q.size());
  for (const auto& p : q) out.push_back(p.unpack());
  return out;
}

}  // namespace

// --- inboxes ---

Result<void> MemoryStore::append(const std::vector<Delivery>& deliveries) {
  if (deliveries.empty()) return {};
  std::vector<PackedMessage> packed;
  packed.reserve(deliveries.size());
  for (const auto& d : deliveries) packed.emplace_back(d.message);
  // sink_ is attached once, before the store is shared, so reading it unlocked is safe.
  std::optional<redo::Append> rec;
  if (sink_ != nullptr) rec.emplace(redo::Append{deliveries});

  const Guard lock(*this);
  for (size_t i = 0; i < deliveries.size(); ++i) {
    const uint64_t seq = next_seq_++;
    packed[i].set_seq(seq);
    if (rec) rec->deliveries[i].message.seq = seq;
    inboxes_[deliveries[i].key].push_back(std::move(packed[i]));
  }
  queued_ += deliveries.size();
  // Undone by seq (no copy of the keys): nothing numbered later exists when it is undone.
  if (logging_) undo_.emplace_back(Appended{next_seq_ - deliveries.size()});
  if (rec) emit(std::move(*rec));
  return {};
}

void MemoryStore::restore_inbox(const std::vector<Delivery>& deliveries) {
  const Guard lock(*this);
  for (const auto& d : deliveries) {
    next_seq_ = std::max(next_seq_, d.message.seq + 1);
    inboxes_[d.key].emplace_back(d.message);
  }
  queued_ += deliveries.size();
}

void MemoryStore::restore_seq_floor(uint64_t floor) {
  const Guard lock(*this);
  next_seq_ = std::max(next_seq_, floor + 1);
}

void MemoryStore::put_back(const InboxKey& key, Queue messages) {
  if (messages.empty()) return;
  queued_ += messages.size();
  auto [it, inserted] = inboxes_.try_emplace(key);
  if (inserted) {
    it->second = std::move(messages);
    return;
  }
  Queue merged;
  std::merge(std::make_move_iterator(it->second.begin()), std::make_move_iterator(it->second.end()),
             std::make_move_iterator(messages.begin()), std::make_move_iterator(messages.end()),
             std::back_inserter(merged),
             [](const PackedMessage& a, const PackedMessage& b) { return a.seq() < b.seq(); });
  it->second = std::move(merged);
}

Result<size_t> MemoryStore::drop_through(const InboxKey& key, uint64_t through) {
  Queue taken;  // freed after the lock is released (or kept by the undo log)
  const Guard lock(*this);
  auto it = inboxes_.find(key);
  if (it == inboxes_.end() || it->second.front().seq() > through) return size_t{0};
  Queue& q = it->second;
  while (!q.empty() && q.front().seq() <= through) {
    taken.push_back(std::move(q.front()));
    q.pop_front();
  }
  queued_ -= taken.size();
  if (q.empty()) inboxes_.erase(it);
  emit(redo::RemoveThrough{key, through});
  const size_t n = taken.size();
  if (logging_) undo_.emplace_back(Taken{key, std::make_unique<Queue>(std::move(taken))});
  return n;
}

std::vector<StoredMessage> MemoryStore::peek(const InboxKey& key) {
  const Guard lock(*this);
  auto it = inboxes_.find(key);
  if (it == inboxes_.end()) return {};
  return unpack_all(it->second);
}

Result<std::vector<StoredMessage>> MemoryStore::drain(const InboxKey& key) {
  Queue taken;
  {
    const Guard lock(*this);
    auto it = inboxes_.find(key);
    if (it == inboxes_.end()) return std::vector<StoredMessage>{};
    taken = std::move(it->second);
    inboxes_.erase(it);
    queued_ -= taken.size();
    emit(redo::RemoveInbox{key});
    if (logging_) {
      auto out = unpack_all(taken);
      undo_.emplace_back(Taken{key, std::make_unique<Queue>(std::move(taken))});
      return out;
    }
  }
  return unpack_all(taken);
}

// How many messages of a queue, from the front, make the page `limit` allows.
static size_t page_length(const std::deque<PackedMessage>& q, const PageLimit& limit) {
  size_t n = 0;
  size_t bytes = 0;
  while (n < q.size() && n < limit.max_messages) {
    bytes += q[n].page_bytes();
    if (n > 0 && bytes > limit.max_bytes) break;
    ++n;
  }
  return n;
}

std::vector<StoredMessage> MemoryStore::peek_page(const InboxKey& key, const PageLimit& limit,
                                                  bool* more) {
  std::vector<StoredMessage> out;
  const Guard lock(*this);
  auto it = inboxes_.find(key);
  if (more != nullptr) *more = false;
  if (it == inboxes_.end()) return out;
  const size_t n = page_length(it->second, limit);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(it->second[i].unpack());
  if (more != nullptr) *more = n < it->second.size();
  return out;
}

Result<std::vector<StoredMessage>> MemoryStore::drain_page(const InboxKey& key,
                                                           const PageLimit& limit, bool* more) {
  Queue taken;
  {
    const Guard lock(*this);
    auto it = inboxes_.find(key);
    if (more != nullptr) *more = false;
    if (it == inboxes_.end()) return std::vector<StoredMessage>{};
    Queue& q = it->second;
    const size_t n = page_length(q, limit);
    std::vector<uint64_t> seqs;
    seqs.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      seqs.push_back(q.front().seq());
      taken.push_back(std::move(q.front()));
      q.pop_front();
    }
    queued_ -= n;
    if (more != nullptr) *more = !q.empty();
    if (q.empty()) {
      inboxes_.erase(it);
      emit(redo::RemoveInbox{key});
    } else {
      emit(redo::RemoveSeqs{key, std::move(seqs)});
    }
    if (logging_) {
      auto out = unpack_all(taken);
      undo_.emplace_back(Taken{key, std::make_unique<Queue>(std::move(taken))});
      return out;
    }
  }
  return unpack_all(taken);
}

Result<std::vector<StoredMessage>> MemoryStore::drain_ids(const InboxKey& key,
                                                          const std::vector<std::string>& ids) {
  if (ids.empty()) return std::vector<StoredMessage>{};
  // Each listed id takes the oldest queued message with that id (store.hpp).
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> wanted;
  for (const auto& id : ids) ++wanted[id];
  Queue taken;
  std::vector<uint64_t> taken_seqs;
  {
    const Guard lock(*this);
    auto it = inboxes_.find(key);
    if (it == inboxes_.end()) return std::vector<StoredMessage>{};
    Queue kept;
    for (auto& p : it->second) {
      auto w = wanted.find(p.message_id());
      if (w != wanted.end() && w->second > 0) {
        --w->second;
        taken_seqs.push_back(p.seq());
        taken.push_back(std::move(p));
      } else {
        kept.push_back(std::move(p));
      }
    }
    if (taken.empty()) {
      it->second = std::move(kept);  // every element was moved out and back, order unchanged
      return std::vector<StoredMessage>{};
    }
    queued_ -= taken.size();
    if (kept.empty()) {
      inboxes_.erase(it);
    } else {
      it->second = std::move(kept);
    }
    emit(redo::RemoveSeqs{key, std::move(taken_seqs)});
    if (logging_) {
      auto out = unpack_all(taken);
      undo_.emplace_back(Taken{key, std::make_unique<Queue>(std::move(taken))});
      return out;
    }
  }
  return unpack_all(taken);
}

Result<void> MemoryStore::move_inbox(const InboxKey& from, const InboxKey& to) {
  if (from == to) return {};
  const Guard lock(*this);
  auto it = inboxes_.find(from);
  if (it == inboxes_.end()) return {};
  Queue moved = std::move(it->second);
  inboxes_.erase(it);
  const uint64_t first_seq = next_seq_;
  if (logging_) {
    std::vector<uint64_t> old_seqs;
    old_seqs.reserve(moved.size());
    for (const auto& p : moved) old_seqs.push_back(p.seq());
    undo_.emplace_back(Moved{from, to, std::move(old_seqs)});
  }
  for (auto& p : moved) p.set_seq(next_seq_++);
  Queue& dst = inboxes_[to];
  std::move(moved.begin(), moved.end(), std::back_inserter(dst));
  emit(redo::MoveInbox{from, to, first_seq});
  return {};
}

std::vector<InboxKey> MemoryStore::inbox_keys() {
  const Guard lock(*this);
  return copy_out(inboxes_, kKey);
}

Result<size_t> MemoryStore::remove_inbox(const InboxKey& key) {
  Queue taken;  // freed after the lock is released
  const Guard lock(*this);
  auto it = inboxes_.find(key);
  if (it == inboxes_.end()) return size_t{0};
  taken = std::move(it->second);
  inboxes_.erase(it);
  queued_ -= taken.size();
  emit(redo::RemoveInbox{key});
  const size_t n = taken.size();
  if (logging_) undo_.emplace_back(Taken{key, std::make_unique<Queue>(std::move(taken))});
  return n;
}

size_t MemoryStore::queued_messages() {
  const Guard lock(*this);
  return queued_;
}

// --- rooms ---

std::optional<Room> MemoryStore::get_room(std::string_view room_id) {
  const Guard lock(*this);
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return std::nullopt;
  return it->second;
}

std::vector<Room> MemoryStore::list_rooms() {
  const Guard lock(*this);
  return copy_out(rooms_, kValue);
}

Result<void> MemoryStore::put_room(const Room& room_without_members) {
  const Guard lock(*this);
  auto [it, inserted] = rooms_.try_emplace(room_without_members.room_id);
  Room& room = it->second;
  if (logging_) {
    undo_.emplace_back(
        RoomWas{room_without_members.room_id, inserted ? std::nullopt : std::optional<Room>(room)});
  }
  if (inserted) room.room_id = room_without_members.room_id;
  room.visibility = room_without_members.visibility;
  room.invited = room_without_members.invited;
  emit(redo::PutRoom{room.room_id, room.visibility, room.invited});
  return {};
}

Result<bool> MemoryStore::add_member(std::string_view room_id, std::string_view alias) {
  const Guard lock(*this);
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) {
    it = rooms_.try_emplace(std::string(room_id)).first;
    it->second.room_id = room_id;
    if (logging_) undo_.emplace_back(RoomWas{std::string(room_id), std::nullopt});
  }
  auto& members = it->second.members;
  if (find_member(members, alias) != members.end()) return false;
  members.emplace_back(alias);
  if (logging_) undo_.emplace_back(MemberAdded{std::string(room_id)});
  emit(redo::AddMember{std::string(room_id), std::string(alias)});
  return true;
}

Result<bool> MemoryStore::remove_member(std::string_view room_id, std::string_view alias) {
  const Guard lock(*this);
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return false;
  auto& members = it->second.members;
  auto m = find_member(members, alias);
  if (m == members.end()) return false;
  emit(redo::RemoveMember{std::string(room_id), *m});
  if (logging_) {
    undo_.emplace_back(
        MemberRemoved{std::string(room_id), static_cast<size_t>(m - members.begin()), *m});
  }
  members.erase(m);
  return true;
}

Result<void> MemoryStore::append_history(std::string_view room_id, const StoredMessage& entry) {
  PackedMessage packed(entry);
  const Guard lock(*this);
  auto it = history_.find(room_id);
  if (it == history_.end()) it = history_.try_emplace(std::string(room_id)).first;
  it->second.push_back(std::move(packed));
  if (logging_) undo_.emplace_back(HistoryAppended{std::string(room_id)});
  emit(redo::AppendHistory{std::string(room_id), entry});
  return {};
}

std::vector<StoredMessage> MemoryStore::history(std::string_view room_id, size_t limit) {
  const Guard lock(*this);
  auto it = history_.find(room_id);
  if (it == history_.end() || limit == 0) return {};
  const Queue& q = it->second;
  const size_t n = std::min(limit, q.size());
  std::vector<StoredMessage> out;
  out.reserve(n);
  for (auto p = q.end() - static_cast<std::ptrdiff_t>(n); p != q.end(); ++p) {
    out.push_back(p->unpack());
  }
  return out;
}

}  // namespace c2c::relay
