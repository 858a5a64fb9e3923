#pragma once
// SqliteStore (`sqlite:<path>`): the whole state lives in the embedded MemoryStore too (all reads
// are served from memory; transactions run there, one at a time, with its undo log); every write
// also becomes a redo record, and a single writer thread with its own connection replays the
// records into the database (WAL, synchronous=FULL), one BEGIN IMMEDIATE ... COMMIT per batch of
// everything queued. A transaction's records are held back until it ends (dropped if it is
// undone), so no database transaction ever holds part of one. wait_durable() waits until the
// writer has committed the caller's last record, so concurrent callers share one fsync (group
// commit).
//
// A failed transaction (e.g. a full disk) keeps its records and the writer retries it by itself,
// backing off from 100 ms to 2 s, so the store recovers once space returns; meanwhile
// write_blocked() tells the relay to refuse new writes (503) rather than pile them onto the
// retry. Nonce records are best-effort: dropped from a failed transaction (the in-memory cache
// still refuses replays) so signed reads never depend on the disk.
//
// The database is held with locking_mode=EXCLUSIVE: a second relay opening the same file would
// otherwise load a copy of the state and silently diverge; it gets "database is locked" instead.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "c2c/relay/store/memory_store.hpp"
#include "c2c/relay/store/redo.hpp"
#include "c2c/relay/store/sqlite_apply.hpp"
#include "c2c/relay/store/sqlite_db.hpp"

namespace c2c::relay {

struct SqliteOptions {
  // SQLite's max_page_count (0: SQLite's default). Caps the database size; writes beyond it fail
  // with "database or disk is full", which is how the tests exercise failed commits.
  int64_t max_page_count = 0;
};

class SqliteStore final : public MemoryStore, private redo::Sink {
 public:
  // Opens or creates the database at `path`, loads it and starts the writer.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   const SqliteOptions& options = {});
  // Flushes every queued record, then closes the database.
  ~SqliteStore() override;

  std::string_view kind() const override { return "sqlite"; }
  Result<void> wait_durable() override;
  void when_durable(Durable done) override;
  std::optional<Error> write_blocked() override;

  struct Stats {
    uint64_t transactions = 0;  // committed (fsynced) write transactions
    uint64_t commit_calls = 0;  // wait_durable() and when_durable() calls
    uint64_t records = 0;       // redo records written
  };
  Stats stats();
  // Tests only: while held, the writer starts no database transaction (records queue up), as a
  // slow disk would make it; releasing lets it write everything queued in one transaction.
  void hold_writer(bool held);

 private:
  SqliteStore(sql::Db db, sql::Applier applier);
  void begin() override;
  void record(redo::Op op) override;
  void end(bool keep) override;
  void writer_loop();
  // The sequence number of the last record of an ended transaction (caller holds log_mu_): what
  // a durability barrier waits for (the running transaction's records may yet be undone).
  uint64_t settled() const { return appended_ - (in_tx_ ? tx_records_ : 0); }
  Result<void> write_batch(const std::vector<redo::Op>& batch);
  // The error wait_durable() and when_durable() report for a failed transaction (caller holds
  // log_mu_).
  Unexpected<> write_failed() const;
  // After a failed transaction: drops its best-effort records and waits out the backoff.
  void after_failure(std::vector<redo::Op>& batch, std::unique_lock<std::mutex>& lock);

  sql::Db db_;  // used only by the writer thread once it runs
  sql::Applier applier_;

  std::mutex log_mu_;
  std::condition_variable writer_cv_;
  std::condition_variable commit_cv_;
  std::vector<redo::Op> pending_;
  // How many records at the front of pending_ the writer may take: all of them, except the
  // running transaction's (the last tx_records_), which wait until it ends.
  size_t ready_ = 0;
  bool in_tx_ = false;
  size_t tx_records_ = 0;
  bool tx_urgent_ = false;  // the running transaction queued a record that is not best-effort
  uint64_t taken_ = 0;      // records handed to the writer so far
  uint64_t appended_ = 0;   // sequence number of the last record queued
  uint64_t committed_ = 0;  // sequence number of the last record made durable
  // when_durable() callbacks, in record order: each runs once committed_ (or a failed
  // transaction) covers its target.
  struct Waiter {
    uint64_t target;
    Durable done;
  };
  std::deque<Waiter> waiters_;
  uint64_t failures_ = 0;
  uint64_t failed_upto_ = 0;  // sequence covered by the last failed transaction
  Error last_error_;
  bool retry_wanted_ = false;
  // Set when something queued needs writing now: a transaction that queued a record that is not
  // best-effort, a wait_durable() or when_durable() caller. Best-effort records alone (request
  // nonces) wait up to kLazyFlush for one of those, so reads cost no transaction of their own.
  bool urgent_ = false;
  // A failed transaction's records wait for the writer's own retry (backoff below); new writes
  // are refused meanwhile (write_blocked) so the retry does not grow.
  bool degraded_ = false;
  std::chrono::milliseconds backoff_{0};
  bool held_ = false;  // hold_writer()
  bool stop_ = false;
  bool writer_exited_ = false;
  Stats stats_;
  std::thread writer_;
};

}  // namespace c2c::relay
