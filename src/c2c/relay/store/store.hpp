#pragma once
// The relay's storage: a narrow, storage-shaped interface (no JSON, no HTTP, no policy).
// RelayService owns every rule; the Store owns consistency and durability.
//
// A Store is reads plus exactly one way to write (docs/decisions.md D20):
//   transact(scope, body)  runs `body` as one transaction. Its writes, made on the Tx it gets,
//                          land all together or not at all: when the body returns an error every
//                          write it made is undone (memory and SQLite: an undo log; PostgreSQL:
//                          ROLLBACK). The body's reads (on the Tx, or on the Store from the
//                          body's thread) are inside the transaction. Transactions are serialised
//                          by the backend: memory and SQLite hold their one lock for the body,
//                          PostgreSQL takes cluster advisory locks as `scope` says. A transact()
//                          called from inside a body joins the running transaction.
//   wait_durable() / when_durable(done)
//                          the durability barrier: every transaction that returned before the
//                          call is durable when it returns / when `done` runs. Concurrent callers
//                          share one fsync (SQLite group commit). The router calls it after the
//                          service returned and before answering.
//   write_blocked(), take_failure(), unreachable()
//                          health: refuse writes while the disk fails (SQLite), answer 503 after a
//                          failed database round trip (PostgreSQL).
// Reads outside a transaction are each consistent on their own. Writes exist only on Tx, so
// nothing writes outside a transaction.

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "c2c/core/result.hpp"

namespace c2c::relay {

struct Lease {
  std::string alias;
  std::string node_id;
  std::string session_id;
  std::string client_type = "unknown";
  double registered_at = 0;
  double last_seen = 0;
  double ttl = 300;
  std::string identity_pk;  // b64u of the bound Ed25519 key, "" if none
  std::string enc_pubkey;   // opaque, as registered
  double signed_at = 0;
  std::string sig_b64;

  bool alive(double now) const { return last_seen + ttl >= now; }
};

struct InboxKey {
  std::string node_id;
  std::string session_id;
  bool operator==(const InboxKey&) const = default;
};

// A queued message, a room history entry or a dead letter's payload.
struct StoredMessage {
  std::string message_id;
  std::string from_alias;
  std::string to_alias;  // bare alias for DMs, "<member>#<room>" for room deliveries, "" in history
  std::string content;
  double ts = 0;
  std::string room_id;   // "" for DMs
  std::string envelope;  // opaque serialized envelope ("" if none); the store never parses it
  // The inbox sequence number append() assigned (0 outside inboxes). Sequences are store-wide,
  // so they increase along every inbox (FIFO order = seq order) and are never reused, even
  // after a message is dropped and the store reopened: a stale acknowledgement can only name
  // messages that were already handed out (docs/relay-server.md, "Receive stream";
  // docs/decisions.md D16).
  uint64_t seq = 0;
};

struct DeadLetter {
  StoredMessage message;
  std::string reason;  // unknown_alias, recipient_dead, unknown_host, ...
  double ts = 0;       // when it was dead-lettered
};

struct Room {
  std::string room_id;
  std::string visibility = "public";  // "public" | "invite"
  std::vector<std::string> members;   // aliases in join order
  std::vector<std::string> invited;   // identity pks (b64u) allowed to join an invite room
};

// What a transaction may touch, so that a backend shared by several relays can run transactions
// that cannot conflict side by side.
enum class TxScope {
  kWhole,  // anything: the transaction runs alone
  // Reads anything; writes only inbox appends, dead letters and the dedup window (a direct
  // message). Two of them meet only on the same recipient inbox (sequence numbers must follow
  // commit order) or the same sender (the dedup check and its write).
  kMessages,
  // At most one write call, whose result is final: it lands whole or not at all, whatever the
  // body returns after it, and a second write call fails (kInternal). Reads see no isolation.
  // For requests that write one thing and check nothing first (a nonce, an acknowledged drain):
  // PostgreSQL runs the write as its own statement(s), with no BEGIN, lock or COMMIT round trip.
  kOneWrite,
};

struct Delivery {
  InboxKey key;
  StoredMessage message;
};

// The bounds of one page of an inbox read (docs/relay-server.md, "Inbox pages").
struct PageLimit {
  size_t max_messages = std::numeric_limits<size_t>::max();
  size_t max_bytes = std::numeric_limits<size_t>::max();  // of page_bytes()
};

// What a message counts for against PageLimit::max_bytes: the bytes of its fields.
inline size_t page_bytes(size_t id, size_t from, size_t to, size_t content, size_t room,
                         size_t envelope) {
  return id + from + to + content + room + envelope;
}
inline size_t page_bytes(const StoredMessage& m) {
  return page_bytes(m.message_id.size(), m.from_alias.size(), m.to_alias.size(), m.content.size(),
                    m.room_id.size(), m.envelope.size());
}

// The writes of one compound operation, gathered by the service and applied by apply_batch() inside
// its transaction, in this order:
// binding put / removed, inbox move, lease put / removed, room, member added / removed, inboxes
// removed, dead letters, deliveries, room history. (A message's dedup id is not in it: the service
// remembers the id when it routes the message, Tx::remember_message_id.)
struct WriteBatch {
  std::optional<std::pair<std::string, std::string>> binding;  // alias -> identity pk
  std::optional<std::string> remove_binding;                   // alias
  std::optional<std::pair<InboxKey, InboxKey>> move_inbox;     // from -> to
  std::optional<Lease> lease;
  std::vector<std::string> remove_leases;                           // aliases
  std::optional<Room> room;                                         // put_room (members ignored)
  std::optional<std::pair<std::string, std::string>> add_member;    // room id, alias
  std::vector<std::pair<std::string, std::string>> remove_members;  // room id, alias
  std::vector<InboxKey> remove_inboxes;
  std::vector<DeadLetter> dead_letters;
  std::vector<Delivery> deliveries;                            // one append call
  std::vector<std::pair<std::string, StoredMessage>> history;  // room id -> entry

  bool empty() const {
    return !binding && !remove_binding && !move_inbox && !lease && remove_leases.empty() && !room &&
           !add_member && remove_members.empty() && remove_inboxes.empty() &&
           dead_letters.empty() && deliveries.empty() && history.empty();
  }
};

class Tx;

class Store {
 public:
  virtual ~Store() = default;

  virtual std::string_view kind() const = 0;  // "memory" | "sqlite" | "postgres"

  // Aliases are unique case-insensitively (ASCII; the alias rule allows only [A-Za-z0-9._-]):
  // every alias argument matches its stored spelling whatever its case, and what is stored keeps
  // the case it was first written with (docs/security.md, finding 8.6).

  // ------------------------------------------------------------------------------------------
  // Reads. The writes that change what they return are on Tx, below.

  // --- leases (one per alias) ---
  virtual std::optional<Lease> get_lease(std::string_view alias) = 0;
  // The lease holding this (node, session); if several aliases share it, the one put last.
  virtual std::optional<Lease> find_lease(const InboxKey& key) = 0;
  virtual std::vector<Lease> list_leases() = 0;
  // The leases registered from `node_id` (a receive stream's sessions), in no particular order.
  virtual std::vector<Lease> leases_on_node(std::string_view node_id) = 0;

  // --- key bindings (alias -> identity pk b64u); survive lease GC ---
  virtual std::optional<std::string> get_binding(std::string_view alias) = 0;

  // --- inboxes (FIFO per key) ---
  virtual std::vector<StoredMessage> peek(const InboxKey& key) = 0;
  // The oldest messages that fit `limit`: at most max_messages, and while their page_bytes()
  // total stays within max_bytes — but always the first one, whatever its size, so a message
  // larger than the budget still goes out, alone. *more: messages remain after the page.
  // The default goes through peek(); backends override it to read only the page.
  virtual std::vector<StoredMessage> peek_page(const InboxKey& key, const PageLimit& limit,
                                               bool* more);
  virtual std::vector<InboxKey> inbox_keys() = 0;  // keys with at least one queued message
  virtual size_t queued_messages() = 0;

  // --- rooms ---
  virtual std::optional<Room> get_room(std::string_view room_id) = 0;
  virtual std::vector<Room> list_rooms() = 0;
  // The last `limit` entries, oldest first (limit 0 -> none).
  virtual std::vector<StoredMessage> history(std::string_view room_id, size_t limit) = 0;

  // --- dedup window of (sender, message id) pairs (FIFO, bounded) ---
  // True if `sender` already sent `message_id` (sender compared case-insensitively). Entries
  // written before the window was keyed by sender (schema version 1) have no sender and match
  // any sender until they age out.
  virtual bool seen_message_id(std::string_view sender, std::string_view message_id) = 0;

  // --- dead letters (append-only, oldest first) ---
  virtual std::vector<DeadLetter> dead_letters() = 0;

  // --- named settings (name -> text; the store never interprets a value) ---
  // The value stored under `name`, nullopt if none; an error if the backend could not read it.
  virtual Result<std::optional<std::string>> get_setting(std::string_view name) = 0;

  // ------------------------------------------------------------------------------------------
  // The one write path: see the header comment.
  using Body = std::function<Result<void>(Tx&)>;
  virtual Result<void> transact(TxScope scope, const Body& body) = 0;

  // ------------------------------------------------------------------------------------------
  // Durability: a barrier, not a write path.
  // Returns when every transaction that returned before the call (on any thread) is durable,
  // or the error that kept it from being so. The memory backend has nothing to wait for.
  virtual Result<void> wait_durable() = 0;
  // wait_durable() without blocking the caller: `done` runs once every transaction that
  // returned before this call is durable, with wait_durable()'s outcome, either inline (nothing
  // pending) or on a store thread. `done` must not call back into the store.
  using Durable = std::function<void(const Result<void>&)>;
  // By value: backends with a writer thread keep `done` until the commit lands.
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  virtual void when_durable(Durable done) { done(wait_durable()); }

  // ------------------------------------------------------------------------------------------
  // Health.
  // Set while the backend cannot make writes durable (its last database transaction failed,
  // e.g. a full disk, and is being retried): the error to answer a new write with, instead of
  // applying it in memory and piling it onto the failing retry. Reads keep working. nullopt when
  // healthy.
  virtual std::optional<Error> write_blocked() { return std::nullopt; }
  // A backend whose reads can fail (PostgreSQL: the server is down) returns nothing or empty from
  // a failed read that has no Result, and reports the failure here: the first one the calling
  // thread met since its last call, or nullopt. The router asks after every request and answers
  // 503 instead of what was built from the failed reads.
  virtual std::optional<Error> take_failure() { return std::nullopt; }
  // Set while the storage cannot be reached (PostgreSQL down or restarting: its last round trip
  // failed and none has succeeded since), for GET /health. Costs no I/O: /health must answer
  // at once even when the database does not. In-process backends are always reachable.
  virtual std::optional<Error> unreachable() { return std::nullopt; }

  // Stream wake-ups across relays sharing one database (docs/relay-server.md, "Receive stream"):
  // publish_wake() tells the other relays that messages for these nodes are durable;
  // listen_wake() calls `listener` (on a store thread) when another relay did, and with an empty
  // list after the backend may have missed some (a reconnect): wake every stream then;
  // listen_wake(nullptr) stops listening. The memory and SQLite backends serve one relay and do
  // nothing. publish_wake() may be called from a when_durable() callback.
  using WakeListener = std::function<void(const std::vector<std::string>& node_ids)>;
  virtual void publish_wake(const std::vector<std::string>& /*node_ids*/) {}
  // By value: a backend that listens keeps the listener (see when_durable).
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  virtual void listen_wake(WakeListener /*listener*/) {}
};

// One transaction's view of the store: the Store's reads (inside the transaction) and every
// write. Only Store::transact() makes one; it lives until the body returns.
class Tx {
 public:
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;

  // --- reads: the Store's, inside this transaction ---
  std::optional<Lease> get_lease(std::string_view alias) { return store_.get_lease(alias); }
  std::optional<Lease> find_lease(const InboxKey& key) { return store_.find_lease(key); }
  std::vector<Lease> list_leases() { return store_.list_leases(); }
  std::vector<Lease> leases_on_node(std::string_view node_id) {
    return store_.leases_on_node(node_id);
  }
  std::optional<std::string> get_binding(std::string_view alias) {
    return store_.get_binding(alias);
  }
  std::vector<StoredMessage> peek(const InboxKey& key) { return store_.peek(key); }
  std::vector<StoredMessage> peek_page(const InboxKey& key, const PageLimit& limit, bool* more) {
    return store_.peek_page(key, limit, more);
  }
  std::vector<InboxKey> inbox_keys() { return store_.inbox_keys(); }
  std::optional<Room> get_room(std::string_view room_id) { return store_.get_room(room_id); }
  std::vector<Room> list_rooms() { return store_.list_rooms(); }
  bool seen_message_id(std::string_view sender, std::string_view message_id) {
    return store_.seen_message_id(sender, message_id);
  }
  Result<std::optional<std::string>> get_setting(std::string_view name) {
    return store_.get_setting(name);
  }

  // --- writes ---
  // Insert or replace by alias; a replaced lease takes the new spelling.
  virtual Result<void> put_lease(const Lease& lease) = 0;
  virtual Result<void> remove_lease(std::string_view alias) = 0;
  virtual Result<void> put_binding(std::string_view alias, std::string_view pk_b64u) = 0;
  virtual Result<bool> remove_binding(std::string_view alias) = 0;  // true if one existed

  // Appends every delivery in order (a fan-out is one call).
  virtual Result<void> append(const std::vector<Delivery>& deliveries) = 0;
  // Removes and returns the whole queue, oldest first.
  virtual Result<std::vector<StoredMessage>> drain(const InboxKey& key) = 0;
  // Removes and returns only the listed messages (acknowledged delivery): each listed id removes
  // the oldest queued message with that id (listed twice, two of them), so acknowledging a page
  // removes exactly that page even when two senders used the same id.
  virtual Result<std::vector<StoredMessage>> drain_ids(const InboxKey& key,
                                                       const std::vector<std::string>& ids) = 0;
  // Removes and returns what peek_page() would return.
  virtual Result<std::vector<StoredMessage>> drain_page(const InboxKey& key, const PageLimit& limit,
                                                        bool* more) = 0;
  // Removes every queued message of `key` whose seq <= through (a cumulative acknowledgement);
  // returns how many.
  virtual Result<size_t> drop_through(const InboxKey& key, uint64_t through) = 0;
  // Moves every queued message of `from` to the end of `to` (inbox migration on re-register).
  // The moved messages get new sequence numbers, so seq keeps increasing along `to`.
  virtual Result<void> move_inbox(const InboxKey& from, const InboxKey& to) = 0;
  virtual Result<size_t> remove_inbox(const InboxKey& key) = 0;  // returns messages removed

  // Creates the room if missing; replaces visibility and invite list.
  virtual Result<void> put_room(const Room& room_without_members) = 0;
  // Appends to the member list (false if already a member, in any case); creates a missing room
  // as public.
  virtual Result<bool> add_member(std::string_view room_id, std::string_view alias) = 0;
  virtual Result<bool> remove_member(std::string_view room_id, std::string_view alias) = 0;
  virtual Result<void> append_history(std::string_view room_id, const StoredMessage& entry) = 0;

  // The dedup window's check and its write in one: records the (sender, id) pair and returns
  // true, or returns false when the window already holds it (seen_message_id(): a retry), so two
  // transactions sending the same pair at once (on PostgreSQL: through two relays) resolve to
  // exactly one true. The window keeps at least the newest `window` pairs: memory and SQLite
  // evict the oldest beyond it at once, PostgreSQL in rounds (docs/relay-server.md, "Semantics
  // worth knowing"). The window is keyed by (sender, message id), so one sender's ids never mark
  // another's messages as duplicates (docs/security.md, finding 8.7).
  virtual Result<bool> remember_message_id(std::string_view sender, std::string_view message_id,
                                           size_t window) = 0;
  // Nonce caches, `cache` "request" or "register": false if the nonce is already recorded
  // (replay); else records it with its ts and prunes entries older than ts - ttl_seconds.
  virtual Result<bool> remember_nonce(std::string_view cache, std::string_view nonce, double ts,
                                      double ttl_seconds) = 0;
  virtual Result<void> add_dead_letter(const DeadLetter& dl) = 0;
  // Stores `proposed` under `name` unless `name` already has a value, and returns the value now
  // stored: the first writer wins, a later call gets the earlier value back unchanged. On a
  // database shared by several relays, relays adopting at once all get the same one value.
  virtual Result<std::string> adopt_setting(std::string_view name, std::string_view proposed) = 0;

 protected:
  Tx(Store& store, TxScope scope) : store_(store), scope_(scope) {}
  ~Tx() = default;
  // Every write implementation calls this first: a kOneWrite transaction's second write fails.
  Result<void> admit_write() {
    if (scope_ == TxScope::kOneWrite && writes_++ > 0) return one_write_error();
    return {};
  }
  static Unexpected<> one_write_error();

 private:
  Store& store_;
  TxScope scope_;
  size_t writes_ = 0;
};

// Runs f(tx) as one transaction of `scope` and returns what it returned (a Result<T>), or the
// transaction's error: for a request whose transaction is one call that answers a value (a
// kOneWrite nonce or drain).
template <typename F>
auto transact_value(Store& store, TxScope scope, F&& f) -> decltype(f(std::declval<Tx&>())) {
  std::optional<decltype(f(std::declval<Tx&>()))> out;
  auto done = store.transact(scope, [&](Tx& tx) -> Result<void> {
    out.emplace(f(tx));
    if (!*out) return Unexpected{out->error()};
    return {};
  });
  if (!done) return Unexpected{done.error()};
  return std::move(*out);
}

// Applies `batch` on `tx` in WriteBatch's order: a service-side helper (a body returns its error,
// which undoes what the batch wrote so far).
Result<void> apply_batch(Tx& tx, const WriteBatch& batch);

// memory:                      -> in-memory store
// sqlite:<path>                -> SQLite (WAL) store at <path>, created if missing
// postgresql://... postgres://... or postgres:<libpq conninfo>
//                              -> PostgreSQL store (libpq loaded on first use), schema migrated
// Unknown scheme or unopenable file -> error with a readable message.
Result<std::unique_ptr<Store>> open_store(std::string_view url);

// A database URL fit to print: any password removed (postgresql://u:secret@h/db ->
// postgresql://u@h/db; password=... dropped).
std::string redact_db_url(std::string_view url);

}  // namespace c2c::relay
