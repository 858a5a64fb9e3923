#pragma once
// What the relay keeps on disk besides the Store: the relay's own Ed25519 identity (a file, which
// a relay on a database hands to the Store, so that every relay sharing the database signs with
// one key) and, with memory storage and a persist dir, room history as one JSON line per entry in
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

// The Store setting holding the relay identity's JSON text (crypto::identity_to_json).
inline constexpr std::string_view kRelayIdentitySetting = "relay_identity";

// The identity a relay signs with (register receipts), and where it came from.
struct RelayIdentity {
  crypto::Identity identity;
  std::optional<std::filesystem::path> file;  // <dir>/relay-server-identity.json, if a dir
  // The store already held another identity than the file's (or than the one made for this
  // process): the relay uses the store's.
  bool from_store = false;
};

// load_or_create_relay_identity(), then adopted as the store's kRelayIdentitySetting in one
// kWhole transaction: the first relay on a database stores its identity there, every later start
// (of any relay on that database) uses the stored one (docs/deploying.md). Durable before it
// returns. With memory storage the store starts empty, so the file's identity is the one used.
Result<RelayIdentity> load_relay_identity(Store& store,
                                          const std::optional<std::filesystem::path>& dir,
                                          double now);

// The startup lines (stderr) naming the identity in use: its fingerprint, and a note when the
// store's identity replaced the file's.
std::string describe_relay_identity(const RelayIdentity& id);

}  // namespace c2c::relay::server
