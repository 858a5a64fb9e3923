// open_store(url): picks the backend by scheme.
#include <memory>
#include <string>

#include "c2c/relay/store/memory_store.hpp"
#include "c2c/relay/store/pg_store.hpp"
#include "c2c/relay/store/sqlite_store.hpp"
#include "c2c/relay/store/store.hpp"

namespace c2c::relay {

Result<std::unique_ptr<Store>> open_store(std::string_view url) {
  if (url == "memory" || url == "memory:") {
    return std::unique_ptr<Store>(std::make_unique<MemoryStore>());
  }
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.starts_with(kSqlite)) {
    auto store = SqliteStore::open(std::string(url.substr(kSqlite.size())));
    if (!store) return Unexpected{store.error()};
    return std::unique_ptr<Store>(std::move(store.value()));
  }
  constexpr std::string_view kPgConninfo = "postgres:";
  if (url.starts_with("postgresql://") || url.starts_with("postgres://") ||
      url.starts_with(kPgConninfo)) {
    const std::string conninfo(url.starts_with("postgres://") || url.starts_with("postgresql://")
                                   ? url
                                   : url.substr(kPgConninfo.size()));
    auto store = PgStore::open(conninfo);
    if (!store) return Unexpected{store.error()};
    return std::unique_ptr<Store>(std::move(store.value()));
  }
  return fail(ErrorCode::kBadRequest,
              "unknown relay storage \"" + std::string(url) +
                  "\" (expected memory:, sqlite:<path> or postgresql://...)");
}

std::string redact_db_url(std::string_view url) {
  return pg::redact_url(url);
}

}  // namespace c2c::relay
