#include "c2c/relay/store/sqlite_store.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>
#include <variant>

#include "c2c/core/secret_file.hpp"
#include "c2c/relay/store/sqlite_schema.hpp"

namespace c2c::relay {
namespace {

constexpr int kBusyTimeoutMs = 5000;
// Only for taking the exclusive lock at open: another relay holding it will not let go.
constexpr int kOpenLockTimeoutMs = 1000;
// A failed transaction is retried by the writer itself, first after 100 ms, then backing off to
// one attempt every 2 s: a full disk recovers without a restart once space returns.
constexpr auto kRetryBackoffMin = std::chrono::milliseconds(100);
constexpr auto kRetryBackoffMax = std::chrono::milliseconds(2000);
// How long best-effort records (nonces) may wait for a write to ride along with. Each signed
// read (an idle receive stream's re-poll above all) would otherwise cost a transaction and an
// fsync of its own: docs/performance.md, "Receive stream".
constexpr auto kLazyFlush = std::chrono::milliseconds(1000);

// Nonce records are persisted best-effort (docs/reliability.md "Disk full"): the nonce cache in
// memory is what refuses a replay; the database copy only carries it across a restart.
bool best_effort(const redo::Op& op) {
  return std::holds_alternative<redo::RememberNonce>(op);
}

Unexpected<> open_error(const std::string& path, const Error& e) {
  const bool locked = e.message.find("database is locked") != std::string::npos;
  return fail(e.code, "cannot open relay database " + path + ": " + e.message +
                          (locked ? " (is another relay using it?)" : ""));
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const SqliteOptions& options) {
  if (path.empty()) return fail(ErrorCode::kBadRequest, "sqlite: storage needs a file path");
  // The database holds every queued message: create it 0600 before SQLite would create it 0644
  // (its -wal file takes the database's mode). docs/security.md "File modes".
  if (auto r = precreate_private_file(path); !r) {
    return fail(ErrorCode::kIo, "cannot open relay database " + path + ": " + r.error().message);
  }
  auto db = sql::Db::open(path);
  if (!db) return Unexpected{db.error()};
  db->set_busy_timeout_ms(kOpenLockTimeoutMs);
  // locking_mode must precede the switch to WAL so no shared-memory index is used; the write
  // transaction then takes the lock this connection keeps until it closes.
  auto mode = db->query_text("PRAGMA locking_mode = EXCLUSIVE");
  if (!mode) return open_error(path, mode.error());
  auto journal = db->query_text("PRAGMA journal_mode = WAL");
  if (!journal) return open_error(path, journal.error());
  if (journal.value() != "wal") {
    return fail(ErrorCode::kIo, "cannot open relay database " + path +
                                    ": WAL journal mode unavailable (got " + journal.value() + ")");
  }
  // Checkpoints run in the writer thread and fsync the database file: at SQLite's default (every
  // 1,000 WAL pages) a send load whose random message-id index inserts dirty ~60 pages per
  // transaction would checkpoint every ~15 transactions. 16,384 pages (64 MiB of WAL) makes them
  // rare and writes each hot page back once per checkpoint; journal_size_limit trims the WAL file
  // back afterwards.
  if (auto r = db->exec("PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 16384; "
                        "PRAGMA journal_size_limit = 67108864; BEGIN IMMEDIATE; COMMIT;");
      !r) {
    return open_error(path, r.error());
  }
  db->set_busy_timeout_ms(kBusyTimeoutMs);
  if (options.max_page_count > 0) {
    auto r = db->query_text("PRAGMA max_page_count = " + std::to_string(options.max_page_count));
    if (!r) return open_error(path, r.error());
  }
  if (auto r = sql::ensure_schema(db.value()); !r) return Unexpected{r.error()};
  auto applier = sql::Applier::prepare(db.value());
  if (!applier) return open_error(path, applier.error());

  std::unique_ptr<SqliteStore> store(
      new SqliteStore(std::move(db.value()), std::move(applier.value())));
  if (auto r = sql::load(store->db_, *store); !r) return open_error(path, r.error());
  store->attach_sink(store.get());
  store->writer_ = std::thread([s = store.get()] { s->writer_loop(); });
  return store;
}

SqliteStore::SqliteStore(sql::Db db, sql::Applier applier)
    : db_(std::move(db)), applier_(std::move(applier)) {}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(log_mu_);
    stop_ = true;
  }
  writer_cv_.notify_one();
  if (writer_.joinable()) writer_.join();
}

void SqliteStore::begin() {
  std::lock_guard lock(log_mu_);
  in_tx_ = true;
  tx_records_ = 0;
  tx_urgent_ = false;
}

void SqliteStore::record(redo::Op op) {
  const bool lazy = best_effort(op);
  std::lock_guard lock(log_mu_);
  pending_.push_back(std::move(op));
  ++appended_;
  ++tx_records_;
  if (!lazy) tx_urgent_ = true;  // else rides along with the next write, or kLazyFlush from now
}

void SqliteStore::end(bool keep) {
  bool notify = false;
  {
    std::lock_guard lock(log_mu_);
    in_tx_ = false;
    if (!keep) {
      // Undone: its records never reach the database.
      pending_.erase(pending_.end() - static_cast<ptrdiff_t>(tx_records_), pending_.end());
      appended_ -= tx_records_;
    }
    ready_ = pending_.size();
    if (keep && tx_urgent_) urgent_ = notify = true;
    tx_records_ = 0;
  }
  if (notify) writer_cv_.notify_one();
}

Result<void> SqliteStore::wait_durable() {
  std::unique_lock lock(log_mu_);
  ++stats_.commit_calls;
  const uint64_t target = settled();
  if (committed_ >= target) return {};
  const uint64_t failures_before = failures_;
  retry_wanted_ = true;
  urgent_ = true;
  writer_cv_.notify_one();
  commit_cv_.wait(lock, [&] {
    return committed_ >= target || (failures_ != failures_before && failed_upto_ >= target) ||
           writer_exited_;
  });
  if (committed_ >= target) return {};
  return write_failed();
}

Unexpected<> SqliteStore::write_failed() const {
  return fail(ErrorCode::kIo,
              "relay database " + db_.path() + ": write failed: " + last_error_.message);
}

void SqliteStore::when_durable(Durable done) {
  {
    std::lock_guard lock(log_mu_);
    ++stats_.commit_calls;
    if (committed_ < settled() && !writer_exited_) {
      waiters_.push_back(Waiter{settled(), std::move(done)});
      urgent_ = true;  // someone waits: lazy records in front of it go now
      writer_cv_.notify_one();
      return;
    }
  }
  // Nothing pending (or no writer left to wait for): the same answer wait_durable() gives now.
  if (done) done(wait_durable());
}

void SqliteStore::hold_writer(bool held) {
  {
    std::lock_guard lock(log_mu_);
    held_ = held;
  }
  writer_cv_.notify_one();
}

SqliteStore::Stats SqliteStore::stats() {
  std::lock_guard lock(log_mu_);
  return stats_;
}

void SqliteStore::writer_loop() {
  std::vector<redo::Op> batch;  // not yet durable, in log order; kept across a failed attempt
  std::unique_lock lock(log_mu_);
  for (;;) {
    writer_cv_.wait(lock, [&] {
      return stop_ || (!held_ && (ready_ > 0 || (!batch.empty() && retry_wanted_)));
    });
    if (!stop_ && !urgent_ && !retry_wanted_) {
      // Only best-effort records are waiting: give a write the chance to carry them.
      writer_cv_.wait_for(lock, kLazyFlush, [&] { return stop_ || urgent_ || retry_wanted_; });
    }
    urgent_ = false;
    if (stop_) ready_ = pending_.size();  // shutting down: no transaction is left to finish
    if (ready_ == 0 && batch.empty()) {
      if (stop_) break;  // nothing left to write
      continue;
    }
    batch.insert(batch.end(), std::make_move_iterator(pending_.begin()),
                 std::make_move_iterator(pending_.begin() + static_cast<ptrdiff_t>(ready_)));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(ready_));
    taken_ += ready_;
    ready_ = in_tx_ ? pending_.size() - tx_records_ : pending_.size();
    const uint64_t upto = taken_;
    retry_wanted_ = false;

    lock.unlock();
    auto written = write_batch(batch);
    lock.lock();

    if (written) {
      committed_ = upto;
      ++stats_.transactions;
      stats_.records += batch.size();
      batch.clear();
    } else {
      ++failures_;
      failed_upto_ = upto;
      degraded_ = true;  // before the waiters hear of it: their retries must find it set
      last_error_ = written.error();
    }
    commit_cv_.notify_all();
    // Waiters covered by this transaction learn its outcome, as a blocked wait_durable() would.
    std::vector<Waiter> due;
    while (!waiters_.empty() && waiters_.front().target <= upto) {
      due.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
    if (!due.empty()) {
      const Result<void> outcome = written ? Result<void>{} : Result<void>{write_failed()};
      lock.unlock();
      for (auto& w : due) w.done(outcome);
      lock.lock();
    }
    if (written) {
      degraded_ = false;
      backoff_ = std::chrono::milliseconds(0);
    } else {
      // A shutdown cannot wait for a failing disk: what was not committed is lost, and every
      // wait_durable() that covered it has already returned the error.
      if (stop_) break;
      after_failure(batch, lock);
    }
  }
  writer_exited_ = true;
  commit_cv_.notify_all();
  // Whatever is still waiting was never written (shutdown on a failing disk).
  std::deque<Waiter> left;
  left.swap(waiters_);
  lock.unlock();
  for (auto& w : left) {
    w.done(fail(ErrorCode::kIo, "relay database " + db_.path() + ": closed before the write"));
  }
}

void SqliteStore::after_failure(std::vector<redo::Op>& batch, std::unique_lock<std::mutex>& lock) {
  // Retrying them would only grow every attempt (each signed read adds one) on a full disk.
  std::erase_if(batch, best_effort);
  degraded_ = !batch.empty();
  backoff_ = std::clamp(backoff_ * 2, kRetryBackoffMin, kRetryBackoffMax);
  writer_cv_.wait_for(lock, backoff_, [&] { return stop_; });
  retry_wanted_ = true;  // the kept records are retried even if nobody asks
}

std::optional<Error> SqliteStore::write_blocked() {
  std::lock_guard lock(log_mu_);
  if (!degraded_) return std::nullopt;
  return write_failed().error;
}

Result<void> SqliteStore::write_batch(const std::vector<redo::Op>& batch) {
  C2C_TRY(db_.exec("BEGIN IMMEDIATE"));
  for (const auto& op : batch) {
    if (auto r = applier_.apply(op); !r) {
      (void)db_.exec("ROLLBACK");
      return r;
    }
  }
  if (auto r = db_.exec("COMMIT"); !r) {
    (void)db_.exec("ROLLBACK");
    return r;
  }
  return {};
}

}  // namespace c2c::relay
