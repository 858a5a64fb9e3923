// open_store(url): picks the backend by scheme.
#include <memory>
#include <string>

#include "c2c/relay/store/memory_store.hpp"
#include "c2c/relay/store/store.hpp"

namespace c2c::relay {

Result<std::unique_ptr<Store>> open_store(std::string_view url) {
  if (url == "memory" || url == "memory:") {
    return std::unique_ptr<Store>(std::make_unique<MemoryStore>());
  }
  return fail(ErrorCode::kBadRequest,
              "unknown relay storage \"" + std::string(url) + "\" (expected memory:)");
}

}  // namespace c2c::relay
