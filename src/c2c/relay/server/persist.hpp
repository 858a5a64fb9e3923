#pragma once
// What the relay keeps on disk besides the Store: the relay's own Ed25519 identity and, with
// memory storage and a persist dir, room history as one JSON line per entry in
// <dir>/rooms/<sanitised room_id>/history.jsonl (loaded at start, appended on every entry).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "c2c/core/result.hpp"
#include "c2c/crypto/identity.hpp"
#include "c2c/relay/store/store.hpp"

namespace c2c::relay::server {

class HistoryArchive {
 public:
  explicit HistoryArchive(const std::filesystem::path& persist_dir);

  // Recreates every archived room (public, no members: memberships are not persisted in memory
  // mode) with its history. Lines that do not parse are skipped and counted in `skipped`.
  struct LoadStats {
    size_t rooms = 0;
    size_t entries = 0;
    size_t skipped = 0;
  };
  Result<LoadStats> load_into(Store& store) const;
  // Appends one entry as a compact JSON line.
  Result<void> append(const std::string& room_id, const StoredMessage& entry) const;

  // Directory name for a room id: characters outside [A-Za-z0-9_-] become '_'; "" -> "_".
  static std::string sanitize(std::string_view room_id);

 private:
  Result<void> load_rooms(Tx& tx, LoadStats& stats, std::error_code& ec) const;

  std::filesystem::path rooms_dir_;
};

// Loads <dir>/relay-server-identity.json, creating it (0600) on first start. Without a dir the
// identity is generated per process.
Result<crypto::Identity> load_or_create_relay_identity(
    const std::optional<std::filesystem::path>& dir, double now);

}  // namespace c2c::relay::server
