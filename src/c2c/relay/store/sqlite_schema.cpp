#include "c2c/relay/store/sqlite_schema.hpp"

#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace c2c::relay::sql {
namespace {

// Schema version 1, as the first c2c relay created it; a new database is created at version 1
// and migrated, so every database goes through the same migrations. Message columns are shared
// by inboxes, room_history and dead_letters, in StoredMessage order.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE schema_version (version INTEGER PRIMARY KEY);
CREATE TABLE leases (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, alias TEXT NOT NULL UNIQUE,
  node_id TEXT NOT NULL, session_id TEXT NOT NULL, client_type TEXT NOT NULL, registered_at REAL NOT NULL, last_seen REAL NOT NULL,
  ttl REAL NOT NULL, identity_pk TEXT NOT NULL, enc_pubkey TEXT NOT NULL,
  signed_at REAL NOT NULL, sig_b64 TEXT NOT NULL);
CREATE TABLE bindings (alias TEXT PRIMARY KEY, identity_pk TEXT NOT NULL);
CREATE TABLE inboxes (
  id INTEGER PRIMARY KEY AUTOINCREMENT, node_id TEXT NOT NULL, session_id TEXT NOT NULL,
  message_id TEXT NOT NULL, from_alias TEXT NOT NULL, to_alias TEXT NOT NULL,
  content TEXT NOT NULL, ts REAL NOT NULL, room_id TEXT NOT NULL, envelope TEXT NOT NULL);
CREATE INDEX inboxes_key ON inboxes (node_id, session_id, message_id);
CREATE TABLE rooms (room_id TEXT PRIMARY KEY, visibility TEXT NOT NULL);
CREATE TABLE room_members (
  id INTEGER PRIMARY KEY AUTOINCREMENT, room_id TEXT NOT NULL, alias TEXT NOT NULL,
  UNIQUE (room_id, alias));
CREATE TABLE room_invites (
  room_id TEXT NOT NULL, position INTEGER NOT NULL, identity_pk TEXT NOT NULL,
  PRIMARY KEY (room_id, position));
CREATE TABLE room_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT, room TEXT NOT NULL,
  message_id TEXT NOT NULL, from_alias TEXT NOT NULL, to_alias TEXT NOT NULL,
  content TEXT NOT NULL, ts REAL NOT NULL, room_id TEXT NOT NULL, envelope TEXT NOT NULL);
CREATE INDEX room_history_room ON room_history (room);
CREATE TABLE seen_ids (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE);
CREATE TABLE nonces (
  cache TEXT NOT NULL, nonce TEXT NOT NULL, ts REAL NOT NULL, PRIMARY KEY (cache, nonce));
CREATE INDEX nonces_age ON nonces (cache, ts);
CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL, from_alias TEXT NOT NULL, to_alias TEXT NOT NULL,
  content TEXT NOT NULL, ts REAL NOT NULL, room_id TEXT NOT NULL, envelope TEXT NOT NULL,
  reason TEXT NOT NULL, dead_at REAL NOT NULL);
)sql";

// Version 1 -> 2 (docs/security.md, findings 8.6 and 8.7):
// - the dedup window is keyed by (sender, message_id); version-1 ids keep sender '' (they match
//   every sender until they age out of the window);
// - aliases are unique case-insensitively. A version-1 database may hold the same alias in two
//   cases (the squatting this version stops): the first binding made wins, a lease spelled
//   otherwise than its alias' binding goes, then the last lease put; a room keeps its earliest
//   member of each alias. NOCASE unique indexes then hold the rule (REPLACE drops the row of
//   another spelling). NOCASE folds ASCII only, which is all an alias may contain.
constexpr const char* kMigrateTo2 = R"sql(
CREATE TABLE seen_ids_v2 (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, sender TEXT NOT NULL, message_id TEXT NOT NULL,
  UNIQUE (sender, message_id));
INSERT INTO seen_ids_v2 (seq, sender, message_id) SELECT seq, '', message_id FROM seen_ids;
DROP TABLE seen_ids;
ALTER TABLE seen_ids_v2 RENAME TO seen_ids;
DELETE FROM bindings WHERE rowid NOT IN (SELECT min(rowid) FROM bindings GROUP BY lower(alias));
DELETE FROM leases WHERE EXISTS (SELECT 1 FROM bindings b
  WHERE lower(b.alias) = lower(leases.alias) AND b.alias <> leases.alias);
DELETE FROM leases WHERE seq NOT IN (SELECT max(seq) FROM leases GROUP BY lower(alias));
DELETE FROM room_members
  WHERE id NOT IN (SELECT min(id) FROM room_members GROUP BY room_id, lower(alias));
CREATE UNIQUE INDEX bindings_alias_nocase ON bindings (alias COLLATE NOCASE);
CREATE UNIQUE INDEX leases_alias_nocase ON leases (alias COLLATE NOCASE);
CREATE UNIQUE INDEX room_members_alias_nocase ON room_members (room_id, alias COLLATE NOCASE);
INSERT INTO schema_version VALUES (2);
)sql";

// Version 3: the writer's own statements name rows by seq, so no index is keyed by a random
// message id any more (every insert and every eviction landed on another B-tree page, and a
// group commit wrote about three pages of WAL per message; docs/performance.md, "SQLite rows
// by seq"). The SQLite store answers every read from memory, so these indexes only serve the
// writer:
// - an inbox message is removed by its id (= its seq); inboxes are indexed by (node, session, id);
// - the dedup window holds no UNIQUE (sender, message_id): memory checks it before an id is
//   remembered, and an eviction removes the oldest rows by seq, which mirror the in-memory window
//   in order (both are written in the same order, and only whole transactions reach the file).
constexpr const char* kMigrateTo3 = R"sql(
DROP INDEX inboxes_key;
CREATE INDEX inboxes_key_seq ON inboxes (node_id, session_id, id);
CREATE TABLE seen_ids_v3 (
  seq INTEGER PRIMARY KEY, sender TEXT NOT NULL, message_id TEXT NOT NULL);
INSERT INTO seen_ids_v3 (seq, sender, message_id) SELECT seq, sender, message_id FROM seen_ids;
DROP TABLE seen_ids;
ALTER TABLE seen_ids_v3 RENAME TO seen_ids;
INSERT INTO schema_version VALUES (3);
)sql";

// Version 4: named settings, text the store keeps for the relay without reading it (the relay's
// identity: docs/relay-server.md, "Storage"). A name gets its value once (Tx::adopt_setting).
constexpr const char* kMigrateTo4 = R"sql(
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO schema_version VALUES (4);
)sql";

// Runs `sql` in one write transaction (all of it or none).
Result<void> exec_atomic(Db& db, const std::string& sql) {
  auto done = db.exec("BEGIN IMMEDIATE;" + sql + "COMMIT;");
  if (!done) {
    (void)db.exec("ROLLBACK");
    return Unexpected{done.error()};
  }
  return {};
}

constexpr const char* kMessageColumns =
    "message_id, from_alias, to_alias, content, ts, room_id, envelope";

StoredMessage read_message(const Stmt& s, int first) {
  StoredMessage m;
  m.message_id = s.text(first);
  m.from_alias = s.text(first + 1);
  m.to_alias = s.text(first + 2);
  m.content = s.text(first + 3);
  m.ts = s.real(first + 4);
  m.room_id = s.text(first + 5);
  m.envelope = s.text(first + 6);
  return m;
}

// Runs `sql` and calls on_row(stmt) for every row; stops at the first error.
template <typename F>
Result<void> for_each_row(Db& db, const std::string& sql, F&& on_row) {
  auto stmt = db.prepare(sql);
  if (!stmt) return Unexpected{stmt.error()};
  for (;;) {
    auto row = stmt->step();
    if (!row) return Unexpected{row.error()};
    if (!row.value()) return {};
    C2C_TRY(on_row(*stmt));
  }
}

Error with_path(const Db& db, const Error& e) {
  return make_error(e.code, "relay database " + db.path() + ": " + e.message);
}

}  // namespace

std::string_view schema_version_1() {
  return kSchemaV1;
}

Result<void> ensure_schema(Db& db) {
  auto tables = db.query_text("SELECT count(*) FROM sqlite_master WHERE type = 'table'");
  if (!tables) return Unexpected{with_path(db, tables.error())};
  if (tables.value() == "0") {
    auto created =
        exec_atomic(db, std::string(kSchemaV1) + "INSERT INTO schema_version VALUES (1);");
    if (!created) return Unexpected{with_path(db, created.error())};
  }
  auto version = db.query_text("SELECT max(version) FROM schema_version");
  if (!version || version.value().empty()) {
    return fail(ErrorCode::kIo, "relay database " + db.path() +
                                    " was not created by this c2c relay (no schema_version); "
                                    "use a new database path");
  }
  // One step per version, each in one transaction: a failed step leaves the database at the
  // version before it.
  const std::pair<const char*, const char*> steps[] = {
      {"1", kMigrateTo2}, {"2", kMigrateTo3}, {"3", kMigrateTo4}};
  for (const auto& [from, sql] : steps) {
    if (version.value() != from) continue;
    if (auto migrated = exec_atomic(db, sql); !migrated) {
      return fail(ErrorCode::kIo, "relay database " + db.path() + ": upgrading schema version " +
                                      from + " to " + std::to_string(std::stoi(from) + 1) +
                                      " failed (the database stays at version " + from +
                                      "): " + migrated.error().message);
    }
    version = db.query_text("SELECT max(version) FROM schema_version");
    if (!version) return Unexpected{with_path(db, version.error())};
  }
  if (version.value() != std::to_string(kSchemaVersion)) {
    return fail(ErrorCode::kIo, "relay database " + db.path() + " has schema version " +
                                    version.value() + ", this c2c understands " +
                                    std::to_string(kSchemaVersion));
  }
  return {};
}

Result<void> load(Db& db, MemoryStore& store) {
  C2C_TRY(for_each_row(db,
                       "SELECT alias, node_id, session_id, client_type, registered_at, last_seen,"
                       " ttl, identity_pk, enc_pubkey, signed_at, sig_b64 FROM leases ORDER BY seq",
                       [&](const Stmt& s) {
                         Lease l;
                         l.alias = s.text(0);
                         l.node_id = s.text(1);
                         l.session_id = s.text(2);
                         l.client_type = s.text(3);
                         l.registered_at = s.real(4);
                         l.last_seen = s.real(5);
                         l.ttl = s.real(6);
                         l.identity_pk = s.text(7);
                         l.enc_pubkey = s.text(8);
                         l.signed_at = s.real(9);
                         l.sig_b64 = s.text(10);
                         return store.put_lease(l);
                       }));
  C2C_TRY(for_each_row(db, "SELECT alias, identity_pk FROM bindings",
                       [&](const Stmt& s) { return store.put_binding(s.text(0), s.text(1)); }));

  // Inboxes in FIFO order (the row id is the seq), restored in chunks to keep lock round-trips
  // low; then every seq ever handed out stays reserved, including those of dropped messages.
  std::vector<Delivery> chunk;
  C2C_TRY(for_each_row(db,
                       std::string("SELECT node_id, session_id, id, ") + kMessageColumns +
                           " FROM inboxes ORDER BY id",
                       [&](const Stmt& s) -> Result<void> {
                         Delivery d{InboxKey{s.text(0), s.text(1)}, read_message(s, 3)};
                         d.message.seq = static_cast<uint64_t>(s.integer(2));
                         chunk.push_back(std::move(d));
                         if (chunk.size() < 4096) return {};
                         store.restore_inbox(chunk);
                         chunk.clear();
                         return {};
                       }));
  store.restore_inbox(chunk);
  C2C_TRY(for_each_row(db, "SELECT seq FROM sqlite_sequence WHERE name = 'inboxes'",
                       [&](const Stmt& s) -> Result<void> {
                         store.restore_seq_floor(static_cast<uint64_t>(s.integer(0)));
                         return {};
                       }));

  std::map<std::string, std::vector<std::string>> invites;
  C2C_TRY(for_each_row(db,
                       "SELECT room_id, identity_pk FROM room_invites ORDER BY room_id, position",
                       [&](const Stmt& s) -> Result<void> {
                         invites[s.text(0)].push_back(s.text(1));
                         return {};
                       }));
  C2C_TRY(for_each_row(db, "SELECT room_id, visibility FROM rooms", [&](const Stmt& s) {
    Room r;
    r.room_id = s.text(0);
    r.visibility = s.text(1);
    if (auto it = invites.find(r.room_id); it != invites.end()) r.invited = it->second;
    return store.put_room(r);
  }));
  C2C_TRY(for_each_row(db, "SELECT room_id, alias FROM room_members ORDER BY id",
                       [&](const Stmt& s) -> Result<void> {
                         auto added = store.add_member(s.text(0), s.text(1));
                         if (!added) return Unexpected{added.error()};
                         return {};
                       }));
  C2C_TRY(for_each_row(
      db, std::string("SELECT room, ") + kMessageColumns + " FROM room_history ORDER BY id",
      [&](const Stmt& s) { return store.append_history(s.text(0), read_message(s, 1)); }));

  // The window size is the service's choice; restore every persisted id, oldest first.
  C2C_TRY(for_each_row(db, "SELECT sender, message_id FROM seen_ids ORDER BY seq",
                       [&](const Stmt& s) -> Result<void> {
                         // Every row is a distinct pair (the service remembers a pair only once),
                         // so each one lands and the memory window mirrors the file's row for row.
                         auto r = store.remember_message_id(s.text(0), s.text(1),
                                                            std::numeric_limits<size_t>::max());
                         if (!r) return Unexpected{r.error()};
                         return {};
                       }));
  C2C_TRY(for_each_row(db, "SELECT cache, nonce, ts FROM nonces ORDER BY ts",
                       [&](const Stmt& s) -> Result<void> {
                         auto r = store.remember_nonce(s.text(0), s.text(1), s.real(2),
                                                       std::numeric_limits<double>::infinity());
                         if (!r) return Unexpected{r.error()};
                         return {};
                       }));
  C2C_TRY(for_each_row(
      db,
      std::string("SELECT ") + kMessageColumns + ", reason, dead_at FROM dead_letters ORDER BY id",
      [&](const Stmt& s) {
        DeadLetter dl;
        dl.message = read_message(s, 0);
        dl.reason = s.text(7);
        dl.ts = s.real(8);
        return store.add_dead_letter(dl);
      }));
  C2C_TRY(for_each_row(db, "SELECT name, value FROM settings", [&](const Stmt& s) -> Result<void> {
    auto adopted = store.adopt_setting(s.text(0), s.text(1));
    if (!adopted) return Unexpected{adopted.error()};
    return {};
  }));
  return {};
}

}  // namespace c2c::relay::sql
