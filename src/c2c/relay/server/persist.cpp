#include "c2c/relay/server/persist.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "c2c/core/text.hpp"
#include "c2c/relay/server/convert.hpp"

namespace c2c::relay::server {

namespace fs = std::filesystem;

HistoryArchive::HistoryArchive(const fs::path& persist_dir) : rooms_dir_(persist_dir / "rooms") {}

std::string HistoryArchive::sanitize(std::string_view room_id) {
  std::string out;
  out.reserve(room_id.size());
  for (char c : room_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? "_" : out;
}

Result<HistoryArchive::LoadStats> HistoryArchive::load_into(Store& store) const {
  LoadStats stats;
  std::error_code ec;
  if (!fs::exists(rooms_dir_, ec)) return stats;
  // The whole archive is one transaction: loaded entirely, or not at all.
  C2C_TRY(store.transact(TxScope::kWhole, [&](Tx& tx) -> Result<void> {
    stats = LoadStats{};
    return load_rooms(tx, stats, ec);
  }));
  if (ec) return fail(ErrorCode::kIo, "reading " + rooms_dir_.string() + ": " + ec.message());
  return stats;
}

Result<void> HistoryArchive::load_rooms(Tx& tx, LoadStats& stats, std::error_code& ec) const {
  for (const auto& dir : fs::directory_iterator(rooms_dir_, ec)) {
    if (!dir.is_directory()) continue;
    std::ifstream in(dir.path() / "history.jsonl");
    if (!in) continue;
    std::string room_id = dir.path().filename().string();
    bool room_made = false;
    std::string line;
    while (std::getline(in, line)) {
      if (trim(line).empty()) continue;
      auto j = protocol::Json::parse(line, nullptr, false);
      auto msg = j.is_object() ? protocol::Message::from_json(j)
                               : Result<protocol::Message>(fail(ErrorCode::kBadRequest, ""));
      if (!msg) {
        ++stats.skipped;
        continue;
      }
      // Prefer the id recorded in the entry: the directory name is a sanitised copy.
      if (!msg->room_id.empty() && is_valid_room_id(msg->room_id)) room_id = msg->room_id;
      if (!room_made) {
        Room room;
        room.room_id = room_id;
        C2C_TRY(tx.put_room(room));
        room_made = true;
        ++stats.rooms;
      }
      StoredMessage entry;
      entry.message_id = msg->message_id;
      entry.from_alias = msg->from_alias;
      entry.content = msg->content;
      entry.ts = msg->ts;
      entry.room_id = room_id;
      if (msg->envelope) entry.envelope = msg->envelope->to_json().dump();
      C2C_TRY(tx.append_history(room_id, entry));
      ++stats.entries;
    }
  }
  return {};
}

Result<void> HistoryArchive::append(const std::string& room_id, const StoredMessage& entry) const {
  const fs::path dir = rooms_dir_ / sanitize(room_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::kIo, "creating " + dir.string() + ": " + ec.message());
  StoredMessage copy = entry;
  copy.to_alias.clear();
  copy.room_id = room_id;
  const std::string line = to_wire(std::move(copy)).to_json().dump() + "\n";
  const fs::path file = dir / "history.jsonl";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return fail(ErrorCode::kIo, "opening " + file.string() + ": " + std::strerror(errno));
  // One write(2) per line with O_APPEND keeps lines whole.
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int saved = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    return fail(ErrorCode::kIo, "appending to " + file.string() + ": " + std::strerror(saved));
  }
  return {};
}

Result<crypto::Identity> load_or_create_relay_identity(const std::optional<fs::path>& dir,
                                                       double now) {
  if (!dir) return crypto::new_identity("relay-server", now);
  const fs::path path = *dir / "relay-server-identity.json";
  std::error_code ec;
  if (fs::exists(path, ec)) return crypto::load_identity(path);
  crypto::Identity id = crypto::new_identity("relay-server", now);
  C2C_TRY(crypto::save_identity(path, id));
  return id;
}

Result<RelayIdentity> load_relay_identity(Store& store, const std::optional<fs::path>& dir,
                                          double now) {
  RelayIdentity out;
  auto proposed = load_or_create_relay_identity(dir, now);
  if (!proposed) return Unexpected{proposed.error()};
  if (dir) out.file = *dir / "relay-server-identity.json";
  const std::string text = crypto::identity_to_json(*proposed);
  auto adopted = transact_value(store, TxScope::kWhole, [&](Tx& tx) {
    return tx.adopt_setting(kRelayIdentitySetting, text);
  });
  if (!adopted) return Unexpected{adopted.error()};
  C2C_TRY(store.wait_durable());
  if (*adopted == text) {
    out.identity = std::move(*proposed);
    return out;
  }
  auto kept = crypto::identity_from_json(*adopted);
  if (!kept) {
    return fail(kept.error().code,
                "the relay identity kept in the database is unreadable: " + kept.error().message);
  }
  out.from_store = kept->keys.public_key != proposed->keys.public_key;
  out.identity = std::move(*kept);
  return out;
}

std::string describe_relay_identity(const RelayIdentity& id) {
  const std::string fp = crypto::fingerprint(id.identity.keys.public_key);
  std::string out = "  relay-identity=" + fp + "\n";
  if (id.from_store && id.file) {
    out += "note: this relay uses the identity kept in the database (" + fp + "), not the one in " +
           id.file->string() + "\n";
  }
  return out;
}

}  // namespace c2c::relay::server
