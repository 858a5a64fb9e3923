#pragma once
// PgStore: the relay's state in PostgreSQL, shared by every relay of a cluster
// (docs/deploying.md, docs/decisions.md D20). Nothing is cached: every read asks the database,
// so a relay holds no state another relay needs.
//
// How the rules hold across relays (docs/decisions.md D20):
// - transact() is one database transaction on one pooled connection, which the body's thread
//   uses for every statement of this store until the body returns (so the body's reads run in
//   it too). TxScope::kWhole first takes a cluster-wide advisory lock (pg_advisory_xact_lock),
//   so check-then-write operations (register, rooms, GC) run one at a time across all relays,
//   exactly as they do under one relay's lock. A body that returns an error is rolled back.
// - Direct messages (TxScope::kMessages) take that lock shared, so they run side by side (and
//   their commits share WAL flushes), and keep apart only where they meet: the sender's dedup
//   check takes a per-sender lock before it reads, an append a per-inbox lock before it inserts
//   (inboxes in sorted order, after the sender: no lock cycles).
// - TxScope::kOneWrite runs its one write as that write's own statement, or its own transaction
//   when it needs several (appends and inbox moves also take the lock: sequence numbers are
//   handed out in commit order, so a cumulative acknowledgement never skips a message committed
//   late): no BEGIN/COMMIT round trips for a nonce or an acknowledged drain.
// - Uniqueness is enforced by the schema too: one lease per case-folded alias, one nonce per
//   cache, one member per room and case-folded alias.
//
// Failures: PostgreSQL down or restarting makes calls fail with kStorageUnavailable. Reads that
// return no Result record the failure for the calling thread; take_failure() (the router, after
// every request) turns it into 503 + Retry-After, and the failed transaction is rolled
// back, so nothing unsaved is ever acknowledged. Connections are reopened on demand: the relay
// recovers by itself when the database returns.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "c2c/relay/store/backend_tx.hpp"
#include "c2c/relay/store/pg_conn.hpp"
#include "c2c/relay/store/store.hpp"

namespace c2c::relay {

class PgStore : public Store {
 public:
  // Connects, applies the schema migrations under an advisory lock (two relays starting together
  // do not race) and refuses a database whose schema is newer than this c2c.
  static Result<std::unique_ptr<PgStore>> open(const std::string& url);
  ~PgStore() override;

  std::string_view kind() const override { return "postgres"; }

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
  // Transactions commit before transact() returns: this only reports this thread's failure.
  Result<void> wait_durable() override;
  std::optional<Error> take_failure() override;
  // The last round trip's outcome: requests' statements, and the wake-up listener's
  // reconnects, which keep it current while no request comes.
  std::optional<Error> unreachable() override;

  void publish_wake(const std::vector<std::string>& node_ids) override;
  void listen_wake(WakeListener listener) override;

  // The cluster write lock a transaction holds (pg_store.cpp, begin_on).
  enum class WriteLock { kNone, kShared, kExclusive };

 private:
  friend class BackendTx<PgStore>;
  explicit PgStore(std::string url) : pool_(std::move(url)) {}

  // The writes, called only by BackendTx<PgStore>.
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

  // Runs `sql` on this thread's transaction connection, or on a pooled one (autocommit). A failure
  // is recorded for take_failure().
  Result<pg::Rows> query(std::string_view sql, const pg::Params& params = {});
  // Runs `body` in one transaction: the running one, or a new one (holding the cluster write lock
  // when `write_lock`).
  Result<void> transaction(bool write_lock, const std::function<Result<void>()>& body);
  // Runs `body` in a new transaction holding `lock`, as this thread's transaction on this store
  // (another store's, if any, is this thread's again afterwards). A failed statement or COMMIT is
  // recorded for take_failure() and returned; the body's own error rolls back without blaming the
  // database; a body that throws is rolled back and the exception goes on.
  Result<void> run_transaction(WriteLock lock, const std::function<Result<void>()>& body);
  // Whether this thread runs a kMessages transaction on this store (it holds the shared cluster
  // write lock, so it takes finer locks of its own).
  bool in_shared_transaction() const;
  // In a kMessages transaction: takes the transaction-scoped lock of recipient inbox `key`
  // (no-op elsewhere: a kWhole transaction's exclusive lock already covers everything).
  Result<void> lock_inbox(std::string_view key);
  void record(const Error& e);                 // also notes the failed round trip
  void note_round_trip(const Error* failure);  // nullptr: it succeeded
  // Rooms with their members and invites; `where` filters by room_id = $1 when not empty.
  std::vector<Room> list_rooms_where(std::string_view where, std::string_view room_id);
  void listen_loop();

  pg::Pool pool_;
  WakeListener listener_;
  std::atomic<bool> stop_{false};
  std::thread listen_thread_;
  std::atomic<bool> unreachable_flag_{false};  // a success reads only this
  std::mutex unreachable_mu_;
  std::optional<Error> unreachable_;  // under unreachable_mu_
};

}  // namespace c2c::relay
