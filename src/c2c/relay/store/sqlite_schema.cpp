#include "c2c/relay/store/sqlite_schema.hpp"

#include <limits>
#include <map>
#include <string>
#include <vector>

namespace c2c::relay::sql {
namespace {

// Message columns shared by inboxes, room_history and dead_letters, in StoredMessage order.
constexpr const char* kSchema = R"sql(
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

Result<void> ensure_schema(Db& db) {
  auto tables = db.query_text("SELECT count(*) FROM sqlite_master WHERE type = 'table'");
  if (!tables) return Unexpected{with_path(db, tables.error())};
  if (tables.value() == "0") {
    auto created =
        db.exec(std::string("BEGIN IMMEDIATE;") + kSchema + "INSERT INTO schema_version VALUES (" +
                std::to_string(kSchemaVersion) + "); COMMIT;");
    if (!created) {
      (void)db.exec("ROLLBACK");
      return Unexpected{with_path(db, created.error())};
    }
    return {};
  }
  auto version = db.query_text("SELECT max(version) FROM schema_version");
  if (!version || version.value().empty()) {
    return fail(ErrorCode::kIo, "relay database " + db.path() +
                                    " was not created by this c2c relay (no schema_version); "
                                    "use a new database path");
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

  // Inboxes in FIFO order, appended in chunks to keep lock round-trips low.
  std::vector<Delivery> chunk;
  C2C_TRY(for_each_row(
      db,
      std::string("SELECT node_id, session_id, ") + kMessageColumns + " FROM inboxes ORDER BY id",
      [&](const Stmt& s) -> Result<void> {
        chunk.push_back(Delivery{InboxKey{s.text(0), s.text(1)}, read_message(s, 2)});
        if (chunk.size() < 4096) return {};
        auto r = store.append(chunk);
        chunk.clear();
        return r;
      }));
  C2C_TRY(store.append(chunk));

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
  C2C_TRY(for_each_row(db, "SELECT message_id FROM seen_ids ORDER BY seq", [&](const Stmt& s) {
    return store.remember_message_id(s.text(0), std::numeric_limits<size_t>::max());
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
  return {};
}

}  // namespace c2c::relay::sql
