#pragma once
// The relay database's schema (version 4; versions 1 to 3 are upgraded when opened) and loading
// it into the in-memory working set.

#include <string_view>

#include "c2c/core/result.hpp"
#include "c2c/relay/store/memory_store.hpp"
#include "c2c/relay/store/sqlite_db.hpp"

namespace c2c::relay::sql {

inline constexpr int kSchemaVersion = 4;

// Creates the schema in an empty database; upgrades an older database one version at a time, each
// step in one transaction;
// accepts a database already at kSchemaVersion; refuses anything else (another program's database,
// a newer c2c) with a clear error.
Result<void> ensure_schema(Db& db);

// The DDL of schema version 1 (without its schema_version row): new databases start from it,
// and tests build version-1 databases with it to check the upgrade.
std::string_view schema_version_1();

// Reads every table into `store` in its stored order (inboxes FIFO, members in join order,
// the dedup window oldest first, ...). `store` must not have a sink attached yet.
Result<void> load(Db& db, MemoryStore& store);

}  // namespace c2c::relay::sql
