#pragma once
// The relay database's schema (version 1) and loading it into the in-memory working set.

#include "c2c/core/result.hpp"
#include "c2c/relay/store/memory_store.hpp"
#include "c2c/relay/store/sqlite_db.hpp"

namespace c2c::relay::sql {

inline constexpr int kSchemaVersion = 1;

// Creates the schema in an empty database; accepts a database already at kSchemaVersion;
// refuses anything else (another program's database, a newer c2c) with a clear error.
Result<void> ensure_schema(Db& db);

// Reads every table into `store` in its stored order (inboxes FIFO, members in join order,
// the dedup window oldest first, ...). `store` must not have a sink attached yet.
Result<void> load(Db& db, MemoryStore& store);

}  // namespace c2c::relay::sql
