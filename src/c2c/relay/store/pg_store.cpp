// PgStore: the Store interface as SQL over libpq (see pg_store.hpp for how the rules hold across
// relays, pg_schema.cpp for the tables).
#include "c2c/relay/store/pg_store.hpp"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>

#include "c2c/core/text.hpp"
#include "c2c/relay/store/pg_schema.hpp"

namespace c2c::relay {

using pg::Params;
using pg::Rows;

namespace {

// The transaction this thread runs for a store: a transact() body or a multi-statement write.
struct Active {
  const PgStore* store = nullptr;
  bool shared = false;  // a kMessages transaction: the write lock is held shared
  std::unique_ptr<pg::Connection> conn;
  std::optional<Error> failed;  // the first failure: the transaction is rolled back
};
thread_local Active* t_active = nullptr;

// The first failure this thread met outside take_failure()'s view, per store.
struct Failure {
  const PgStore* store = nullptr;
  Error error;
};
thread_local std::optional<Failure> t_failure;

constexpr std::string_view kLeaseCols =
    "alias, node_id, session_id, client_type, registered_at, last_seen, ttl, identity_pk, "
    "enc_pubkey, signed_at, sig_b64";
constexpr std::string_view kMessageCols =
    "seq, message_id, from_alias, to_alias, content, ts, room_id, envelope";
// What a message counts for against PageLimit::max_bytes (store.hpp, page_bytes()).
constexpr std::string_view kPageBytes =
    "octet_length(message_id) + octet_length(from_alias) + octet_length(to_alias) + "
    "octet_length(content) + octet_length(room_id) + octet_length(envelope)";

std::string sql(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out.append(p);
  return out;
}

Lease lease_at(const Rows& r, int i) {
  Lease l;
  l.alias = r.text(i, 0);
  l.node_id = r.text(i, 1);
  l.session_id = r.text(i, 2);
  l.client_type = r.text(i, 3);
  l.registered_at = r.f64(i, 4);
  l.last_seen = r.f64(i, 5);
  l.ttl = r.f64(i, 6);
  l.identity_pk = r.text(i, 7);
  l.enc_pubkey = r.text(i, 8);
  l.signed_at = r.f64(i, 9);
  l.sig_b64 = r.text(i, 10);
  return l;
}

std::vector<Lease> leases_of(const Result<Rows>& r) {
  std::vector<Lease> out;
  if (!r) return out;
  out.reserve(r->size());
  for (int i = 0; i < r->size(); ++i) out.push_back(lease_at(*r, i));
  return out;
}

StoredMessage message_at(const Rows& r, int i) {
  StoredMessage m;
  m.seq = static_cast<uint64_t>(r.i64(i, 0));
  m.message_id = r.text(i, 1);
  m.from_alias = r.text(i, 2);
  m.to_alias = r.text(i, 3);
  m.content = r.text(i, 4);
  m.ts = r.f64(i, 5);
  m.room_id = r.text(i, 6);
  m.envelope = r.text(i, 7);
  return m;
}

// Rows of kMessageCols, oldest first (DELETE ... RETURNING has no order of its own).
std::vector<StoredMessage> messages_of(const Rows& r) {
  std::vector<StoredMessage> out;
  out.reserve(r.size());
  for (int i = 0; i < r.size(); ++i) out.push_back(message_at(r, i));
  std::sort(out.begin(), out.end(),
            [](const StoredMessage& a, const StoredMessage& b) { return a.seq < b.seq; });
  return out;
}

Params& message_params(Params& p, const StoredMessage& m) {
  return p.bytes(m.message_id)
      .bytes(m.from_alias)
      .bytes(m.to_alias)
      .bytes(m.content)
      .f64(m.ts)
      .bytes(m.room_id)
      .bytes(m.envelope);
}

Params key_params(const InboxKey& key) {
  Params p;
  p.text(key.node_id).text(key.session_id);
  return p;
}

// A write's outcome without its rows.
Result<void> written(const Result<Rows>& r) {
  if (!r) return Unexpected{r.error()};
  return {};
}

// Queues one message at the end of an inbox ($1 node, $2 session, then message_params()): the
// one statement behind append() and move_inbox(), so both number messages the same way.
constexpr std::string_view kInsertMessage =
    "INSERT INTO c2c_inbox (seq, node_id, session_id, message_id, from_alias, to_alias,"
    " content, ts, room_id, envelope)"
    " VALUES (nextval('c2c_inbox_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9)";

// kInsertMessage after taking the transaction-scoped lock of inbox $10 (see lock_inbox): the
// lock's CTE is evaluated before the row it feeds, so the seq is taken under the lock.
const std::string kLockAndInsertMessage =
    "WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(" +
    std::to_string(pg::kInboxLockSpace) +
    ", hashtext($10)))"
    " INSERT INTO c2c_inbox (seq, node_id, session_id, message_id, from_alias, to_alias,"
    " content, ts, room_id, envelope)"
    " SELECT nextval('c2c_inbox_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM locked";

int64_t clamp_count(size_t n) {
  return static_cast<int64_t>(std::min<size_t>(n, std::numeric_limits<int32_t>::max()));
}

}  // namespace

Result<std::unique_ptr<PgStore>> PgStore::open(const std::string& url) {
  std::unique_ptr<PgStore> store(new PgStore(url));
  auto conn = store->pool_.take();
  if (!conn) return Unexpected{conn.error()};
  C2C_TRY(pg::migrate(**conn));
  store->pool_.give_back(std::move(conn).value());
  return store;
}

PgStore::~PgStore() {
  stop_ = true;
  if (listen_thread_.joinable()) listen_thread_.join();
}

// --- transactions and failures ---

void PgStore::record(const Error& e) {
  if (!t_failure) t_failure = Failure{this, e};
  note_round_trip(&e);
}

void PgStore::note_round_trip(const Error* failure) {
  if (failure == nullptr && !unreachable_flag_.load(std::memory_order_relaxed)) return;
  const std::lock_guard<std::mutex> lock(unreachable_mu_);
  if (failure == nullptr) {
    unreachable_.reset();
  } else {
    unreachable_ = *failure;
  }
  unreachable_flag_.store(failure != nullptr, std::memory_order_relaxed);
}

std::optional<Error> PgStore::unreachable() {
  if (!unreachable_flag_.load(std::memory_order_relaxed)) return std::nullopt;
  const std::lock_guard<std::mutex> lock(unreachable_mu_);
  return unreachable_;
}

std::optional<Error> PgStore::take_failure() {
  if (!t_failure || t_failure->store != this) return std::nullopt;
  Error e = std::move(t_failure->error);
  t_failure.reset();
  return e;
}

Result<void> PgStore::wait_durable() {
  if (auto f = take_failure()) return Unexpected{std::move(*f)};
  return {};
}

namespace {

using WriteLock = PgStore::WriteLock;

// Opens a transaction on a pooled connection, holding the cluster write lock as asked.
std::unique_ptr<Active> begin_on(const PgStore* store, pg::Pool& pool, WriteLock lock) {
  auto active = std::make_unique<Active>();
  active->store = store;
  active->shared = lock == WriteLock::kShared;
  auto conn = pool.take();
  if (!conn) {
    active->failed = conn.error();
    return active;
  }
  active->conn = std::move(conn).value();
  static const std::string kKey = std::to_string(pg::kWriteLockKey);
  static const std::string kExclusive = "BEGIN; SELECT pg_advisory_xact_lock(" + kKey + ")";
  static const std::string kShared = "BEGIN; SELECT pg_advisory_xact_lock_shared(" + kKey + ")";
  auto begun = active->conn->run(lock == WriteLock::kExclusive ? kExclusive
                                 : lock == WriteLock::kShared  ? kShared
                                                               : "BEGIN");
  if (!begun) active->failed = begun.error();
  return active;
}

// Commits (or, after a failure, rolls back) and hands the connection back. Returns the failure.
std::optional<Error> finish(Active& active, pg::Pool& pool) {
  if (active.conn != nullptr) {
    if (!active.failed) {
      if (auto c = active.conn->run("COMMIT"); !c) active.failed = c.error();
    } else if (!active.conn->broken()) {
      (void)active.conn->run("ROLLBACK");
    }
    pool.give_back(std::move(active.conn));
  }
  return active.failed;
}

}  // namespace

Result<void> PgStore::transact(TxScope scope, const Body& body) {
  BackendTx<PgStore> tx(*this, scope);
  // Nested: joins the running transaction. kOneWrite: its one write runs on its own.
  if (scope == TxScope::kOneWrite || (t_active != nullptr && t_active->store == this)) {
    return body(tx);
  }
  return run_transaction(scope == TxScope::kMessages ? WriteLock::kShared : WriteLock::kExclusive,
                         [&] { return body(tx); });
}

Result<void> PgStore::transaction(bool write_lock, const std::function<Result<void>()>& body) {
  if (t_active != nullptr && t_active->store == this) return body();
  return run_transaction(write_lock ? WriteLock::kExclusive : WriteLock::kNone, body);
}

Result<void> PgStore::run_transaction(WriteLock lock, const std::function<Result<void>()>& body) {
  std::unique_ptr<Active> active = begin_on(this, pool_, lock);
  Active* const outer = t_active;  // another store's transaction, which this one runs inside
  t_active = active.get();
  Result<void> result;
  try {
    result = active->failed ? Result<void>(Unexpected{*active->failed}) : body();
  } catch (...) {
    // A body that throws (the router answers 500) is rolled back, and this thread's statements
    // leave its connection.
    t_active = outer;
    if (!active->failed) active->failed = Error{ErrorCode::kInternal, "exception in a transaction"};
    (void)finish(*active, pool_);
    throw;
  }
  t_active = outer;
  // The body's own error (a refusal, or a write it gave up on) rolls back without blaming the
  // database; a failed statement is recorded for take_failure() (503).
  const bool db_failed = active->failed.has_value();
  if (!result && !db_failed) active->failed = result.error();
  auto failed = finish(*active, pool_);
  if (db_failed || (failed && result)) {  // a statement, or the COMMIT, failed
    record(*failed);
    return Unexpected{*failed};
  }
  note_round_trip(nullptr);
  return result;
}

Result<Rows> PgStore::query(std::string_view statement, const Params& params) {
  if (t_active != nullptr && t_active->store == this) {
    if (t_active->failed) return Unexpected{*t_active->failed};
    auto rows = t_active->conn->exec(statement, params);
    if (!rows) t_active->failed = rows.error();  // reported when the transaction ends
    return rows;
  }
  auto conn = pool_.take();
  if (!conn) {
    record(conn.error());
    return Unexpected{conn.error()};
  }
  auto rows = (*conn)->exec(statement, params);
  if (rows) {
    note_round_trip(nullptr);
  } else {
    record(rows.error());
  }
  pool_.give_back(std::move(conn).value());
  return rows;
}

bool PgStore::in_shared_transaction() const {
  return t_active != nullptr && t_active->store == this && t_active->shared;
}

Result<void> PgStore::lock_inbox(std::string_view key) {
  if (!in_shared_transaction()) return {};
  static const std::string kInbox =
      "SELECT pg_advisory_xact_lock(" + std::to_string(pg::kInboxLockSpace) + ", hashtext($1))";
  return written(query(kInbox, Params().text(key)));
}

// --- leases ---

std::optional<Lease> PgStore::get_lease(std::string_view alias) {
  auto r = query(sql({"SELECT ", kLeaseCols, " FROM c2c_leases WHERE alias_key = $1"}),
                 Params().text(casefold(alias)));
  if (!r || r->size() == 0) return std::nullopt;
  return lease_at(*r, 0);
}

std::optional<Lease> PgStore::find_lease(const InboxKey& key) {
  // Several aliases may share a session; the most recently (re)registered one answers.
  auto r = query(sql({"SELECT ", kLeaseCols,
                      " FROM c2c_leases WHERE node_id = $1 AND session_id = $2"
                      " ORDER BY put_order DESC LIMIT 1"}),
                 key_params(key));
  if (!r || r->size() == 0) return std::nullopt;
  return lease_at(*r, 0);
}

std::vector<Lease> PgStore::list_leases() {
  return leases_of(query(sql({"SELECT ", kLeaseCols, " FROM c2c_leases ORDER BY alias_key"})));
}

std::vector<Lease> PgStore::leases_on_node(std::string_view node_id) {
  return leases_of(query(sql({"SELECT ", kLeaseCols, " FROM c2c_leases WHERE node_id = $1"}),
                         Params().text(node_id)));
}

Result<void> PgStore::put_lease(const Lease& l) {
  Params p;
  p.text(casefold(l.alias))
      .text(l.alias)
      .text(l.node_id)
      .text(l.session_id)
      .text(l.client_type)
      .f64(l.registered_at)
      .f64(l.last_seen)
      .f64(l.ttl)
      .text(l.identity_pk)
      .text(l.enc_pubkey)
      .f64(l.signed_at)
      .text(l.sig_b64);
  return written(query(
      "INSERT INTO c2c_leases (alias_key, alias, node_id, session_id, client_type, registered_at,"
      " last_seen, ttl, identity_pk, enc_pubkey, signed_at, sig_b64, put_order)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, nextval('c2c_lease_order'))"
      " ON CONFLICT (alias_key) DO UPDATE SET alias = EXCLUDED.alias, node_id = EXCLUDED.node_id,"
      " session_id = EXCLUDED.session_id, client_type = EXCLUDED.client_type,"
      " registered_at = EXCLUDED.registered_at, last_seen = EXCLUDED.last_seen,"
      " ttl = EXCLUDED.ttl, identity_pk = EXCLUDED.identity_pk, enc_pubkey = EXCLUDED.enc_pubkey,"
      " signed_at = EXCLUDED.signed_at, sig_b64 = EXCLUDED.sig_b64,"
      " put_order = EXCLUDED.put_order",
      p));
}

Result<void> PgStore::remove_lease(std::string_view alias) {
  return written(
      query("DELETE FROM c2c_leases WHERE alias_key = $1", Params().text(casefold(alias))));
}

// --- bindings ---

std::optional<std::string> PgStore::get_binding(std::string_view alias) {
  auto r =
      query("SELECT pk FROM c2c_bindings WHERE alias_key = $1", Params().text(casefold(alias)));
  if (!r || r->size() == 0) return std::nullopt;
  return r->text(0, 0);
}

Result<void> PgStore::put_binding(std::string_view alias, std::string_view pk_b64u) {
  return written(
      query("INSERT INTO c2c_bindings (alias_key, alias, pk) VALUES ($1, $2, $3)"
            " ON CONFLICT (alias_key) DO UPDATE SET pk = EXCLUDED.pk",
            Params().text(casefold(alias)).text(alias).text(pk_b64u)));
}

Result<bool> PgStore::remove_binding(std::string_view alias) {
  auto r = query("DELETE FROM c2c_bindings WHERE alias_key = $1", Params().text(casefold(alias)));
  if (!r) return Unexpected{r.error()};
  return r->affected() > 0;
}

// --- inboxes ---

Result<void> PgStore::append(const std::vector<Delivery>& deliveries) {
  if (deliveries.empty()) return {};
  return transaction(true, [&]() -> Result<void> {
    // In a kMessages transaction: each inbox's lock, in a fixed order, before its first insert
    // takes a seq. One inbox (a /send): the lock rides on the first insert's round trip.
    std::vector<std::string> inboxes;
    inboxes.reserve(deliveries.size());
    for (const auto& d : deliveries) inboxes.push_back(d.key.node_id + '\n' + d.key.session_id);
    std::sort(inboxes.begin(), inboxes.end());
    inboxes.erase(std::unique(inboxes.begin(), inboxes.end()), inboxes.end());
    const bool lock_with_insert = inboxes.size() == 1 && in_shared_transaction();
    if (!lock_with_insert) {
      for (const auto& inbox : inboxes) C2C_TRY(lock_inbox(inbox));
    }
    for (size_t i = 0; i < deliveries.size(); ++i) {
      Params p = key_params(deliveries[i].key);
      message_params(p, deliveries[i].message);
      const bool with_lock = lock_with_insert && i == 0;
      if (with_lock) p.text(inboxes[0]);
      auto r = query(with_lock ? std::string_view(kLockAndInsertMessage) : kInsertMessage, p);
      if (!r) return Unexpected{r.error()};
    }
    return {};
  });
}

std::vector<StoredMessage> PgStore::peek(const InboxKey& key) {
  auto r = query(sql({"SELECT ", kMessageCols,
                      " FROM c2c_inbox WHERE node_id = $1 AND session_id = $2 ORDER BY seq"}),
                 key_params(key));
  if (!r) return {};
  return messages_of(*r);
}

Result<std::vector<StoredMessage>> PgStore::drain(const InboxKey& key) {
  auto r = query(sql({"DELETE FROM c2c_inbox WHERE node_id = $1 AND session_id = $2 RETURNING ",
                      kMessageCols}),
                 key_params(key));
  if (!r) return Unexpected{r.error()};
  return messages_of(*r);
}

Result<std::vector<StoredMessage>> PgStore::drain_ids(const InboxKey& key,
                                                      const std::vector<std::string>& ids) {
  std::vector<StoredMessage> out;
  if (ids.empty()) return out;
  auto done = transaction(false, [&]() -> Result<void> {
    // Each listed id takes the oldest queued message with that id (store.hpp).
    for (const auto& id : ids) {
      Params p = key_params(key);
      auto r = query(sql({"DELETE FROM c2c_inbox WHERE seq = (SELECT min(seq) FROM c2c_inbox"
                          " WHERE node_id = $1 AND session_id = $2 AND message_id = $3)"
                          " RETURNING ",
                          kMessageCols}),
                     p.bytes(id));
      if (!r) return Unexpected{r.error()};
      for (auto& m : messages_of(*r)) out.push_back(std::move(m));
    }
    return {};
  });
  if (!done) return Unexpected{done.error()};
  std::sort(out.begin(), out.end(),
            [](const StoredMessage& a, const StoredMessage& b) { return a.seq < b.seq; });
  return out;
}

namespace {

// The last seq of the page `limit` allows (0: the inbox is empty); *more: messages remain after.
struct PageEnd {
  int64_t last_seq = 0;
  bool more = false;
};

PageEnd page_end(const Rows& sizes, const PageLimit& limit) {
  PageEnd end;
  size_t bytes = 0;
  int n = 0;
  while (n < sizes.size() && static_cast<size_t>(n) < limit.max_messages) {
    bytes += static_cast<size_t>(sizes.i64(n, 1));
    if (n > 0 && bytes > limit.max_bytes) break;
    end.last_seq = sizes.i64(n, 0);
    ++n;
  }
  end.more = n < sizes.size();
  return end;
}

}  // namespace

std::vector<StoredMessage> PgStore::peek_page(const InboxKey& key, const PageLimit& limit,
                                              bool* more) {
  if (more != nullptr) *more = false;
  // The sizes first, so a page of large messages reads only what it returns.
  Params p = key_params(key);
  auto sizes = query(sql({"SELECT seq, (", kPageBytes,
                          ")::int8 FROM c2c_inbox WHERE node_id = $1 AND session_id = $2"
                          " ORDER BY seq LIMIT $3"}),
                     p.i64(clamp_count(limit.max_messages) + 1));
  if (!sizes || sizes->size() == 0) return {};
  const PageEnd end = page_end(*sizes, limit);
  Params q = key_params(key);
  auto r = query(sql({"SELECT ", kMessageCols,
                      " FROM c2c_inbox WHERE node_id = $1 AND session_id = $2 AND seq <= $3"
                      " ORDER BY seq"}),
                 q.i64(end.last_seq));
  if (!r) return {};
  if (more != nullptr) *more = end.more;
  return messages_of(*r);
}

Result<std::vector<StoredMessage>> PgStore::drain_page(const InboxKey& key, const PageLimit& limit,
                                                       bool* more) {
  if (more != nullptr) *more = false;
  std::vector<StoredMessage> out;
  bool remaining = false;
  auto done = transaction(false, [&]() -> Result<void> {
    Params p = key_params(key);
    auto sizes = query(sql({"SELECT seq, (", kPageBytes,
                            ")::int8 FROM c2c_inbox WHERE node_id = $1 AND session_id = $2"
                            " ORDER BY seq LIMIT $3 FOR UPDATE"}),
                       p.i64(clamp_count(limit.max_messages) + 1));
    if (!sizes) return Unexpected{sizes.error()};
    if (sizes->size() == 0) return {};
    const PageEnd end = page_end(*sizes, limit);
    remaining = end.more;
    Params q = key_params(key);
    auto r = query(sql({"DELETE FROM c2c_inbox WHERE node_id = $1 AND session_id = $2"
                        " AND seq <= $3 RETURNING ",
                        kMessageCols}),
                   q.i64(end.last_seq));
    if (!r) return Unexpected{r.error()};
    out = messages_of(*r);
    return {};
  });
  if (!done) return Unexpected{done.error()};
  if (more != nullptr) *more = remaining;
  return out;
}

Result<size_t> PgStore::drop_through(const InboxKey& key, uint64_t through) {
  Params p = key_params(key);
  auto r = query("DELETE FROM c2c_inbox WHERE node_id = $1 AND session_id = $2 AND seq <= $3",
                 p.i64(static_cast<int64_t>(
                     std::min<uint64_t>(through, std::numeric_limits<int64_t>::max()))));
  if (!r) return Unexpected{r.error()};
  return static_cast<size_t>(r->affected());
}

Result<void> PgStore::move_inbox(const InboxKey& from, const InboxKey& to) {
  if (from == to) return {};
  return transaction(true, [&]() -> Result<void> {
    auto r = query(sql({"DELETE FROM c2c_inbox WHERE node_id = $1 AND session_id = $2 RETURNING ",
                        kMessageCols}),
                   key_params(from));
    if (!r) return Unexpected{r.error()};
    // New sequence numbers, in the old order: seq keeps increasing along `to`.
    for (const auto& m : messages_of(*r)) {
      Params p = key_params(to);
      auto ins = query(kInsertMessage, message_params(p, m));
      if (!ins) return Unexpected{ins.error()};
    }
    return {};
  });
}

std::vector<InboxKey> PgStore::inbox_keys() {
  auto r = query("SELECT DISTINCT node_id, session_id FROM c2c_inbox");
  std::vector<InboxKey> out;
  if (!r) return out;
  for (int i = 0; i < r->size(); ++i) out.push_back(InboxKey{r->text(i, 0), r->text(i, 1)});
  return out;
}

Result<size_t> PgStore::remove_inbox(const InboxKey& key) {
  auto r = query("DELETE FROM c2c_inbox WHERE node_id = $1 AND session_id = $2", key_params(key));
  if (!r) return Unexpected{r.error()};
  return static_cast<size_t>(r->affected());
}

size_t PgStore::queued_messages() {
  auto r = query("SELECT count(*)::int8 FROM c2c_inbox");
  if (!r || r->size() == 0) return 0;
  return static_cast<size_t>(r->i64(0, 0));
}

// --- rooms ---

std::optional<Room> PgStore::get_room(std::string_view room_id) {
  auto rooms = list_rooms_where("WHERE room_id = $1", room_id);
  if (rooms.empty()) return std::nullopt;
  return std::move(rooms.front());
}

std::vector<Room> PgStore::list_rooms() {
  return list_rooms_where("", {});
}

std::vector<Room> PgStore::list_rooms_where(std::string_view where, std::string_view room_id) {
  Params p;
  if (!where.empty()) p.text(room_id);
  std::vector<Room> out;
  auto rooms =
      query(sql({"SELECT room_id, visibility FROM c2c_rooms ", where, " ORDER BY room_id"}), p);
  if (!rooms || rooms->size() == 0) return out;
  auto members =
      query(sql({"SELECT room_id, alias FROM c2c_room_members ", where, " ORDER BY joined"}), p);
  auto invites =
      query(sql({"SELECT room_id, pk FROM c2c_room_invites ", where, " ORDER BY room_id, ord"}), p);
  if (!members || !invites) return out;
  std::map<std::string, size_t> index;
  for (int i = 0; i < rooms->size(); ++i) {
    Room room;
    room.room_id = rooms->text(i, 0);
    room.visibility = rooms->text(i, 1);
    index[room.room_id] = out.size();
    out.push_back(std::move(room));
  }
  for (int i = 0; i < members->size(); ++i) {
    if (auto it = index.find(members->text(i, 0)); it != index.end()) {
      out[it->second].members.push_back(members->text(i, 1));
    }
  }
  for (int i = 0; i < invites->size(); ++i) {
    if (auto it = index.find(invites->text(i, 0)); it != index.end()) {
      out[it->second].invited.push_back(invites->text(i, 1));
    }
  }
  return out;
}

Result<void> PgStore::put_room(const Room& room) {
  return transaction(false, [&]() -> Result<void> {
    auto r = query(
        "INSERT INTO c2c_rooms (room_id, visibility) VALUES ($1, $2)"
        " ON CONFLICT (room_id) DO UPDATE SET visibility = EXCLUDED.visibility",
        Params().text(room.room_id).text(room.visibility));
    if (!r) return Unexpected{r.error()};
    r = query("DELETE FROM c2c_room_invites WHERE room_id = $1", Params().text(room.room_id));
    if (!r) return Unexpected{r.error()};
    for (size_t i = 0; i < room.invited.size(); ++i) {
      Params p;
      p.text(room.room_id).i64(static_cast<int64_t>(i)).text(room.invited[i]);
      r = query("INSERT INTO c2c_room_invites (room_id, ord, pk) VALUES ($1, $2, $3)", p);
      if (!r) return Unexpected{r.error()};
    }
    return {};
  });
}

Result<bool> PgStore::add_member(std::string_view room_id, std::string_view alias) {
  bool added = false;
  auto done = transaction(false, [&]() -> Result<void> {
    auto r = query(
        "INSERT INTO c2c_rooms (room_id, visibility) VALUES ($1, 'public')"
        " ON CONFLICT (room_id) DO NOTHING",
        Params().text(room_id));
    if (!r) return Unexpected{r.error()};
    r = query(
        "INSERT INTO c2c_room_members (room_id, alias_key, alias) VALUES ($1, $2, $3)"
        " ON CONFLICT (room_id, alias_key) DO NOTHING",
        Params().text(room_id).text(casefold(alias)).text(alias));
    if (!r) return Unexpected{r.error()};
    added = r->affected() > 0;
    return {};
  });
  if (!done) return Unexpected{done.error()};
  return added;
}

Result<bool> PgStore::remove_member(std::string_view room_id, std::string_view alias) {
  auto r = query("DELETE FROM c2c_room_members WHERE room_id = $1 AND alias_key = $2",
                 Params().text(room_id).text(casefold(alias)));
  if (!r) return Unexpected{r.error()};
  return r->affected() > 0;
}

Result<void> PgStore::append_history(std::string_view room_id, const StoredMessage& entry) {
  Params p;
  p.text(room_id);
  return written(
      query("INSERT INTO c2c_room_history (room_id, message_id, from_alias, to_alias, content, ts,"
            " entry_room_id, envelope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            message_params(p, entry)));
}

std::vector<StoredMessage> PgStore::history(std::string_view room_id, size_t limit) {
  if (limit == 0) return {};
  Params p;
  p.text(room_id).i64(clamp_count(limit));
  auto r = query(
      "SELECT 0::int8, message_id, from_alias, to_alias, content, ts, entry_room_id, envelope"
      " FROM (SELECT * FROM c2c_room_history WHERE room_id = $1 ORDER BY id DESC LIMIT $2) h"
      " ORDER BY id",
      p);
  std::vector<StoredMessage> out;
  if (!r) return out;
  out.reserve(r->size());
  for (int i = 0; i < r->size(); ++i) out.push_back(message_at(*r, i));
  return out;
}

// --- dedup window ---

bool PgStore::seen_message_id(std::string_view sender, std::string_view message_id) {
  auto r = query("SELECT 1 FROM c2c_dedup WHERE sender_key = $1 AND message_id = $2",
                 Params().text(casefold(sender)).bytes(message_id));
  return r && r->size() > 0;
}

namespace {

// One round trip checks and remembers a pair. The sender's transaction-scoped lock comes first,
// so transactions of one sender take turns (two /send_batch requests naming the same ids in
// different orders cannot deadlock on each other's rows); the primary key makes exactly one of
// two transactions remembering the same pair get a row back, whichever relay runs them.
const std::string kRememberId =
    "WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(" +
    std::to_string(pg::kSenderLockSpace) +
    ", hashtext($1)))"
    " INSERT INTO c2c_dedup (sender_key, message_id) SELECT $1, $2 FROM locked"
    " ON CONFLICT (sender_key, message_id) DO NOTHING RETURNING id";

// How often the window is trimmed: every `window / kTrimRounds` new ids (each id's own row
// number decides, so it costs no state), letting the table hold up to window * (1 + 1/64) rows.
// Trimming scans the window's index from its newest row, so trimming on every insert would
// cost a scan of `window` entries per message.
constexpr size_t kTrimRounds = 64;

}  // namespace

Result<bool> PgStore::remember_message_id(std::string_view sender, std::string_view message_id,
                                          size_t window) {
  auto r = query(kRememberId, Params().text(casefold(sender)).bytes(message_id));
  if (!r) return Unexpected{r.error()};
  if (r->size() == 0) return false;  // the window holds the pair: a retry
  const auto every = static_cast<int64_t>(std::max<size_t>(1, window / kTrimRounds));
  if (window != 0 && r->i64(0, 0) % every != 0) return true;
  // Keep the newest `window` ids (ids may have gaps: count rows, not id values).
  auto trimmed = window == 0 ? query("DELETE FROM c2c_dedup")
                             : query(
                                   "DELETE FROM c2c_dedup WHERE id < (SELECT id FROM c2c_dedup"
                                   " ORDER BY id DESC OFFSET $1 LIMIT 1)",
                                   Params().i64(clamp_count(window) - 1));
  if (!trimmed) return Unexpected{trimmed.error()};
  return true;
}

// --- nonce caches ---

Result<bool> PgStore::remember_nonce(std::string_view cache, std::string_view nonce, double ts,
                                     double ttl_seconds) {
  // One statement, one round trip: the primary key makes exactly one of two concurrent relays
  // win, and only the winner prunes (the DELETE sees the rows from before the INSERT, so never
  // the new one).
  auto r = query(
      "WITH fresh AS (INSERT INTO c2c_nonces (cache, nonce, ts) VALUES ($1, $2, $3)"
      " ON CONFLICT (cache, nonce) DO NOTHING RETURNING 1),"
      " pruned AS (DELETE FROM c2c_nonces WHERE cache = $1 AND ts < $4"
      " AND EXISTS (SELECT 1 FROM fresh))"
      " SELECT count(*) FROM fresh",
      Params().text(cache).text(nonce).f64(ts).f64(ts - ttl_seconds));
  if (!r) return Unexpected{r.error()};
  return r->size() == 1 && r->i64(0, 0) == 1;
}

// --- dead letters ---

Result<void> PgStore::add_dead_letter(const DeadLetter& dl) {
  Params p;
  message_params(p, dl.message).text(dl.reason).f64(dl.ts);
  return written(
      query("INSERT INTO c2c_dead_letters (message_id, from_alias, to_alias, content, ts, room_id,"
            " envelope, reason, dead_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            p));
}

std::vector<DeadLetter> PgStore::dead_letters() {
  auto r = query(
      "SELECT 0::int8, message_id, from_alias, to_alias, content, ts, room_id, envelope, reason,"
      " dead_at FROM c2c_dead_letters ORDER BY id");
  std::vector<DeadLetter> out;
  if (!r) return out;
  out.reserve(r->size());
  for (int i = 0; i < r->size(); ++i) {
    DeadLetter dl;
    dl.message = message_at(*r, i);
    dl.reason = r->text(i, 8);
    dl.ts = r->f64(i, 9);
    out.push_back(std::move(dl));
  }
  return out;
}

// --- settings ---

Result<std::optional<std::string>> PgStore::get_setting(std::string_view name) {
  auto r = query("SELECT value FROM c2c_settings WHERE name = $1", Params().text(name));
  if (!r) return Unexpected{r.error()};
  if (r->size() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r->text(0, 0));
}

Result<std::string> PgStore::adopt_setting(std::string_view name, std::string_view proposed) {
  // Two statements, not one: a relay whose insert waited for another relay's (same name) sees
  // the winner's committed row only from a statement that starts after that commit (READ
  // COMMITTED). ON CONFLICT DO NOTHING makes every relay but the first keep the first's value.
  auto inserted =
      query("INSERT INTO c2c_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            Params().text(name).text(proposed));
  if (!inserted) return Unexpected{inserted.error()};
  auto stored = get_setting(name);
  if (!stored) return Unexpected{stored.error()};
  if (!*stored) return fail(ErrorCode::kInternal, "setting " + std::string(name) + " vanished");
  return std::move(**stored);
}

// --- wake-ups across relays ---

namespace {
constexpr std::string_view kWakeChannel = "c2c_wake";
constexpr size_t kMaxPayload = 7000;  // NOTIFY payloads must stay under 8000 bytes
}  // namespace

void PgStore::publish_wake(const std::vector<std::string>& node_ids) {
  if (node_ids.empty()) return;
  // Not query(): a failed wake-up must not turn the next request on this thread into a 503.
  auto conn = pool_.take();
  if (!conn) return;  // the other relays' streams still wake at their wait's end
  std::string payload;
  auto flush = [&] {
    if (payload.empty()) return;
    (void)(*conn)->exec("SELECT pg_notify($1, $2)", Params().text(kWakeChannel).text(payload));
    payload.clear();
  };
  for (const auto& node : node_ids) {
    if (node.size() > kMaxPayload) continue;
    if (payload.size() + node.size() + 1 > kMaxPayload) flush();
    if (!payload.empty()) payload.push_back('\n');
    payload.append(node);
  }
  flush();
  pool_.give_back(std::move(conn).value());
}

void PgStore::listen_wake(WakeListener listener) {
  if (!listener) {  // stop listening
    stop_ = true;
    if (listen_thread_.joinable()) listen_thread_.join();
    stop_ = false;
    return;
  }
  if (listen_thread_.joinable()) return;
  listener_ = std::move(listener);
  listen_thread_ = std::thread([this] { listen_loop(); });
}

void PgStore::listen_loop() {
  using namespace std::chrono_literals;
  auto backoff = 100ms;
  while (!stop_) {
    auto conn = pg::Connection::open(pool_.url());
    const Result<void> listening = conn ? (*conn)->run(sql({"LISTEN ", kWakeChannel}))
                                        : Result<void>(Unexpected{conn.error()});
    // The listener's reconnects keep unreachable() current while no request comes.
    note_round_trip(listening ? nullptr : &listening.error());
    if (listening) {
      backoff = 100ms;
      listener_({});  // wake-ups may have been missed while not listening
      while (!stop_) {
        pollfd pfd{(*conn)->socket(), POLLIN, 0};
        if (::poll(&pfd, 1, 200) <= 0) continue;  // 200 ms: how soon a stop is noticed
        auto payloads = (*conn)->notifications();
        if (!payloads) {
          note_round_trip(&payloads.error());
          break;
        }
        std::vector<std::string> nodes;
        for (const auto& payload : *payloads) {
          for (auto& node : split(payload, '\n')) {
            if (!node.empty()) nodes.push_back(std::move(node));
          }
        }
        if (!nodes.empty()) listener_(nodes);
      }
    }
    for (auto waited = 0ms; waited < backoff && !stop_; waited += 50ms) {
      std::this_thread::sleep_for(50ms);
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace c2c::relay
