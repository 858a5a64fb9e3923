#pragma once
// MemoryStore: the whole relay state in memory behind one mutex. Also the working set of the
// SQLite backend, which attaches a redo::Sink to persist every mutation (see sqlite_store.hpp).
//
// A transaction holds the mutex for its whole body, so transactions run one at a time and
// readers outside never see half of one; the body's own reads (same thread) do not lock again.
// Each write records how to undo itself in the undo log; a body that returns an error gets its
// writes undone, newest first, and the sink drops their redo records. Reads outside a
// transaction take the mutex per call and only move ready-made objects where they can.

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "c2c/relay/store/backend_tx.hpp"
#include "c2c/relay/store/packed_message.hpp"
#include "c2c/relay/store/redo.hpp"
#include "c2c/relay/store/store.hpp"

namespace c2c::relay {

class MemoryStore;
namespace sql {
class Db;
// Fills a MemoryStore from the database before it is shared (sqlite_schema.hpp).
Result<void> load(Db& db, MemoryStore& store);
}  // namespace sql

struct InboxKeyHash {
  size_t operator()(const InboxKey& k) const {
    const size_t h = std::hash<std::string>{}(k.node_id);
    return h ^
           (std::hash<std::string>{}(k.session_id) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};

// Lets unordered containers of std::string be searched with a std::string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

// A copy of what `pick` takes from each entry of a map (its key, kKey, or value, kValue): what
// the list_* calls hand out from under the lock.
template <typename Map, typename Pick>
auto copy_out(const Map& m, Pick pick) {
  std::vector<std::decay_t<decltype(pick(*m.begin()))>> out;
  out.reserve(m.size());
  for (const auto& kv : m) out.push_back(pick(kv));
  return out;
}
inline constexpr auto kKey = [](const auto& kv) { return kv.first; };
inline constexpr auto kValue = [](const auto& kv) { return kv.second; };

class MemoryStore : public Store {
 public:
  MemoryStore() = default;

  std::string_view kind() const override { return "memory"; }

  std::optional<Lease> get_lease(std::string_view alias) override;
  std::optional<Lease> find_lease(const InboxKey& key) override;
  std::vector<Lease> list_leases() override;
  std::vector<Lease> leases_on_node(std::string_view node_id) override;
  std::optional<std::string> get_binding(std::string_view alias) override;
  std::vector<StoredMessage> peek(const InboxKey& key) override;
  std::vector<StoredMessage> peek_page(const InboxKey& key, const PageLimit& limit,
                                       bool* more) override;
  std::vector<InboxKey> inbox_keys() override;
  size_t queued_messages() override;
  std::optional<Room> get_room(std::string_view room_id) override;
  std::vector<Room> list_rooms() override;
  std::vector<StoredMessage> history(std::string_view room_id, size_t limit) override;
  bool seen_message_id(std::string_view sender, std::string_view message_id) override;
  std::vector<DeadLetter> dead_letters() override;
  Result<std::optional<std::string>> get_setting(std::string_view name) override;

  Result<void> transact(TxScope scope, const Body& body) override;
  Result<void> wait_durable() override { return {}; }

  // Loading persisted state only (before the store is shared): appends keeping each message's
  // seq, and makes later appends number above `floor`, the highest seq ever handed out.
  void restore_inbox(const std::vector<Delivery>& deliveries);
  void restore_seq_floor(uint64_t floor);

 protected:
  // From now on every mutation is also reported to `sink`, under the store's lock.
  void attach_sink(redo::Sink* sink);

 private:
  friend class BackendTx<MemoryStore>;
  friend Result<void> sql::load(sql::Db& db, MemoryStore& store);
  using Queue = std::deque<PackedMessage>;
  struct NonceCache {
    StringSet nonces;
    std::multimap<double, std::string> by_ts;  // for pruning by age
  };

  // Locks mu_ unless the calling thread runs a transaction on this store (and so holds it).
  class Guard {
   public:
    explicit Guard(MemoryStore& s);
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    std::mutex* mu_;
  };

  // The writes, called only by BackendTx<MemoryStore> (inside a transaction, mu_ held).
  Result<void> put_lease(const Lease& lease);
  Result<void> remove_lease(std::string_view alias);
  Result<void> put_binding(std::string_view alias, std::string_view pk_b64u);
  Result<bool> remove_binding(std::string_view alias);
  Result<void> append(const std::vector<Delivery>& deliveries);
  Result<std::vector<StoredMessage>> drain(const InboxKey& key);
  Result<std::vector<StoredMessage>> drain_ids(const InboxKey& key,
                                               const std::vector<std::string>& ids);
  Result<std::vector<StoredMessage>> drain_page(const InboxKey& key, const PageLimit& limit,
                                                bool* more);
  Result<size_t> drop_through(const InboxKey& key, uint64_t through);
  Result<void> move_inbox(const InboxKey& from, const InboxKey& to);
  Result<size_t> remove_inbox(const InboxKey& key);
  Result<void> put_room(const Room& room_without_members);
  Result<bool> add_member(std::string_view room_id, std::string_view alias);
  Result<bool> remove_member(std::string_view room_id, std::string_view alias);
  Result<void> append_history(std::string_view room_id, const StoredMessage& entry);
  Result<bool> remember_message_id(std::string_view sender, std::string_view message_id,
                                   size_t window);
  Result<bool> remember_nonce(std::string_view cache, std::string_view nonce, double ts,
                              double ttl_seconds);
  Result<void> add_dead_letter(const DeadLetter& dl);
  Result<std::string> adopt_setting(std::string_view name, std::string_view proposed);

  // --- the undo log: what each write of the running transaction changed, oldest first ---
  struct LeaseWas {  // casefold(alias) held `old` (nullopt: no lease)
    std::string key;
    std::optional<Lease> old;
  };
  struct BindingWas {
    std::string key;
    std::optional<std::string> old;
  };
  struct Appended {  // the messages numbered first_seq and above, at the back of their inboxes
    uint64_t first_seq = 0;
  };
  struct Taken {  // messages removed from `key` (they go back by seq: queues are in seq order)
    InboxKey key;
    std::unique_ptr<Queue> messages;  // a pointer keeps Undo nothrow-movable
  };
  struct Moved {  // the last old_seqs.size() messages of `to` came from `from`, with these seqs
    InboxKey from;
    InboxKey to;
    std::vector<uint64_t> old_seqs;
  };
  struct RoomWas {  // nullopt: the room did not exist
    std::string room_id;
    std::optional<Room> old;
  };
  struct MemberAdded {  // appended last to the members of `room_id`
    std::string room_id;
  };
  struct MemberRemoved {
    std::string room_id;
    size_t index = 0;
    std::string alias;
  };
  struct HistoryAppended {
    std::string room_id;
  };
  struct IdRemembered {  // pushed last onto the window; `evicted` left its front, oldest first
    std::vector<redo::SenderId> evicted;
  };
  struct NonceRemembered {  // `pruned` left the cache (ts, nonce)
    std::string cache;
    std::string nonce;
    double ts = 0;
    std::vector<std::pair<double, std::string>> pruned;
  };
  struct DeadLetterAdded {};
  struct SettingAdded {  // `name` had no value before
    std::string name;
  };
  using Undo = std::variant<LeaseWas, BindingWas, Appended, Taken, Moved, RoomWas, MemberAdded,
                            MemberRemoved, HistoryAppended, IdRemembered, NonceRemembered,
                            DeadLetterAdded, SettingAdded>;
  void undo(Undo& u);
  // Whether the dedup window holds `key` (dedup_key of the folded sender and the id), or the id
  // without a sender (mu_ held).
  bool holds_id(const std::string& key, std::string_view message_id) const;
  void put_lease_raw(const std::string& key, const Lease& lease);
  void erase_lease_raw(const std::string& key);
  // Puts `messages` back into the queue of `key` in seq order.
  void put_back(const InboxKey& key, Queue messages);

  void emit(redo::Op op) {
    if (sink_ != nullptr) sink_->record(std::move(op));
  }
  void index_lease(const Lease& lease);
  void unindex_lease(const Lease& lease);

  std::mutex mu_;
  // The thread running a transaction on this store (and so holding mu_), else none: only that
  // thread ever finds its own id here, which lets its reads skip the lock.
  std::atomic<std::thread::id> owner_{};
  redo::Sink* sink_ = nullptr;
  // While a transaction runs (mu_ held): whether its writes log their undo (not kOneWrite), and
  // the log.
  bool logging_ = false;
  std::vector<Undo> undo_;

  // Keyed by casefold(alias): aliases are unique case-insensitively (store.hpp).
  std::map<std::string, Lease, std::less<>> leases_;
  // (node, session) -> casefold(alias) of the leases holding it, most recently put last.
  std::unordered_map<InboxKey, std::vector<std::string>, InboxKeyHash> lease_by_key_;
  // node_id -> casefold(alias) of the leases registered from it.
  std::unordered_map<std::string, std::vector<std::string>, StringHash, std::equal_to<>>
      aliases_by_node_;
  std::map<std::string, std::string, std::less<>> bindings_;  // casefold(alias) -> pk

  // Only non-empty queues are kept, so inbox_keys() lists keys with something queued.
  std::unordered_map<InboxKey, Queue, InboxKeyHash> inboxes_;
  size_t queued_ = 0;
  uint64_t next_seq_ = 1;

  std::map<std::string, Room, std::less<>> rooms_;
  std::map<std::string, Queue, std::less<>> history_;

  std::deque<redo::SenderId> seen_fifo_;  // senders case-folded
  StringSet seen_;                        // dedup_key() of every entry of seen_fifo_

  std::map<std::string, NonceCache, std::less<>> nonce_caches_;
  std::vector<DeadLetter> dead_letters_;
  std::map<std::string, std::string, std::less<>> settings_;
};

}  // namespace c2c::relay
