#pragma once
// The PostgreSQL backend's schema and its versioned migrations (docs/deploying.md, "Schema
// migrations").

#include "c2c/core/result.hpp"
#include "c2c/relay/store/pg_conn.hpp"

namespace c2c::relay::pg {

// The schema version this c2c writes.
inline constexpr int kSchemaVersion = 2;

// Brings the database to kSchemaVersion under a session advisory lock, so relays starting
// together apply each migration once. A database whose version is newer than kSchemaVersion is
// refused with an error naming both versions; nothing is changed then.
Result<void> migrate(Connection& conn);

// The cluster-wide lock every compound write takes (pg_advisory_xact_lock).
inline constexpr long long kWriteLockKey = 0x6332632d77726974;    // "c2c-writ"
inline constexpr long long kMigrateLockKey = 0x6332632d6d696772;  // "c2c-migr"
// Key spaces of the finer locks of kMessages transactions (pg_advisory_xact_lock(int4, int4): a key
// space of its own, apart from the bigint keys above), keyed by hashtext() of the name.
inline constexpr int kInboxLockSpace = 0x63326369;   // "c2ci": one recipient inbox
inline constexpr int kSenderLockSpace = 0x63326373;  // "c2cs": one sender's dedup entries

}  // namespace c2c::relay::pg
