#include "c2c/relay/store/pg_schema.hpp"

#include <string>

namespace c2c::relay::pg {

namespace {

// Migration N brings the schema from version N-1 to N. Never edit one that has shipped: add the
// next. Aliases are stored twice: as written (alias) and case-folded (alias_key), the key of
// every uniqueness rule (aliases are unique case-insensitively).
constexpr const char* kMigrations[] = {
    // 1: the whole relay state.
    R"sql(
CREATE TABLE c2c_leases (
  alias_key text PRIMARY KEY,
  alias text NOT NULL,
  node_id text NOT NULL,
  session_id text NOT NULL,
  client_type text NOT NULL,
  registered_at float8 NOT NULL,
  last_seen float8 NOT NULL,
  ttl float8 NOT NULL,
  identity_pk text NOT NULL,
  enc_pubkey text NOT NULL,
  signed_at float8 NOT NULL,
  sig_b64 text NOT NULL,
  put_order bigint NOT NULL);
CREATE SEQUENCE c2c_lease_order;
CREATE INDEX c2c_leases_by_session ON c2c_leases (node_id, session_id, put_order);
CREATE TABLE c2c_bindings (alias_key text PRIMARY KEY, alias text NOT NULL, pk text NOT NULL);
CREATE SEQUENCE c2c_inbox_seq;
CREATE TABLE c2c_inbox (
  seq bigint PRIMARY KEY,
  node_id text NOT NULL,
  session_id text NOT NULL,
  message_id bytea NOT NULL,
  from_alias bytea NOT NULL,
  to_alias bytea NOT NULL,
  content bytea NOT NULL,
  ts float8 NOT NULL,
  room_id bytea NOT NULL,
  envelope bytea NOT NULL);
CREATE INDEX c2c_inbox_by_key ON c2c_inbox (node_id, session_id, seq);
CREATE TABLE c2c_rooms (
  room_id text PRIMARY KEY,
  visibility text NOT NULL,
  made bigserial);
CREATE TABLE c2c_room_invites (
  room_id text NOT NULL REFERENCES c2c_rooms ON DELETE CASCADE,
  ord bigint NOT NULL,
  pk text NOT NULL,
  PRIMARY KEY (room_id, ord));
CREATE TABLE c2c_room_members (
  room_id text NOT NULL REFERENCES c2c_rooms ON DELETE CASCADE,
  alias_key text NOT NULL,
  alias text NOT NULL,
  joined bigserial,
  PRIMARY KEY (room_id, alias_key));
CREATE TABLE c2c_room_history (
  id bigserial PRIMARY KEY,
  room_id text NOT NULL,
  message_id bytea NOT NULL,
  from_alias bytea NOT NULL,
  to_alias bytea NOT NULL,
  content bytea NOT NULL,
  ts float8 NOT NULL,
  entry_room_id bytea NOT NULL,
  envelope bytea NOT NULL);
CREATE INDEX c2c_room_history_by_room ON c2c_room_history (room_id, id);
CREATE TABLE c2c_dedup (
  id bigserial PRIMARY KEY,
  sender_key text NOT NULL,
  message_id bytea NOT NULL,
  UNIQUE (sender_key, message_id));
CREATE TABLE c2c_nonces (
  cache text NOT NULL,
  nonce text NOT NULL,
  ts float8 NOT NULL,
  PRIMARY KEY (cache, nonce));
CREATE INDEX c2c_nonces_by_age ON c2c_nonces (cache, ts);
CREATE TABLE c2c_dead_letters (
  id bigserial PRIMARY KEY,
  message_id bytea NOT NULL,
  from_alias bytea NOT NULL,
  to_alias bytea NOT NULL,
  content bytea NOT NULL,
  ts float8 NOT NULL,
  room_id bytea NOT NULL,
  envelope bytea NOT NULL,
  reason text NOT NULL,
  dead_at float8 NOT NULL);
)sql",
    // 2: named settings, text the store keeps for the relays without reading it (the relays'
    // shared identity: docs/deploying.md). A name gets its value once (Tx::adopt_setting).
    R"sql(
CREATE TABLE c2c_settings (name text PRIMARY KEY, value text NOT NULL);
)sql",
};

constexpr int kMigrationCount = static_cast<int>(std::size(kMigrations));
static_assert(kMigrationCount == kSchemaVersion);

Result<int> current_version(Connection& conn) {
  C2C_TRY(conn.run("CREATE TABLE IF NOT EXISTS c2c_schema (version int NOT NULL)"));
  auto rows = conn.exec("SELECT version::int8 FROM c2c_schema");
  if (!rows) return Unexpected{rows.error()};
  if (rows->size() == 0) return 0;
  return static_cast<int>(rows->i64(0, 0));
}

Result<void> migrate_locked(Connection& conn) {
  auto version = current_version(conn);
  if (!version) return Unexpected{version.error()};
  if (*version > kSchemaVersion) {
    return fail(ErrorCode::kStorageUnavailable,
                "the database's schema is version " + std::to_string(*version) +
                    ", newer than this c2c understands (version " + std::to_string(kSchemaVersion) +
                    "): upgrade c2c on this relay, or point it at another database");
  }
  for (int v = *version; v < kSchemaVersion; ++v) {
    // Each migration and its version bump: one transaction.
    C2C_TRY(conn.run("BEGIN"));
    auto applied = conn.run(kMigrations[v]);
    if (applied) {
      applied = conn.run(v == 0 ? std::string("INSERT INTO c2c_schema VALUES (1)")
                                : "UPDATE c2c_schema SET version = " + std::to_string(v + 1));
    }
    if (!applied) {
      (void)conn.run("ROLLBACK");
      return fail(ErrorCode::kStorageUnavailable, "migrating the database to schema version " +
                                                      std::to_string(v + 1) + ": " +
                                                      applied.error().message);
    }
    C2C_TRY(conn.run("COMMIT"));
  }
  return {};
}

}  // namespace

Result<void> migrate(Connection& conn) {
  C2C_TRY(conn.run("SELECT pg_advisory_lock(" + std::to_string(kMigrateLockKey) + ")"));
  auto migrated = migrate_locked(conn);
  (void)conn.run("SELECT pg_advisory_unlock(" + std::to_string(kMigrateLockKey) + ")");
  return migrated;
}

}  // namespace c2c::relay::pg
