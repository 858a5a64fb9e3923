// open_store(url): picks the backend by scheme.
#include <memory>
#include <string>

#include "c2c/relay/store/memory_store.hpp"
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
  return fail(ErrorCode::kBadRequest, "unknown relay storage \"" + std::string(url) +
                                          "\" (expected memory: or sqlite:<path>)");
}

}  // namespace c2c::relay
