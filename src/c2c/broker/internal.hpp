#pragma once
// Helpers shared by the broker's .cpp files (not part of the public API): file paths,
// the registry cache, inbox read/write, alias resolution, /proc liveness.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/broker/codec.hpp"
#include "c2c/broker/files.hpp"
#include "c2c/broker/process.hpp"  // proc_start_time: /proc liveness

namespace c2c::broker {

namespace detail {

// A parsed view of one version of registry.json: an index of all rows (session id, alias,
// extent) plus rows materialised on demand. Immutable once built; shared between threads.
class RegistryView {
 public:
  explicit RegistryView(std::unique_ptr<codec::RegistryIndex> index) : index_(std::move(index)) {}

  const std::string& raw() const { return index_->raw; }
  size_t size() const { return index_->rows.size(); }
  std::string_view session_id(size_t i) const { return index_->rows[i].session_id; }
  std::string_view alias(size_t i) const { return index_->rows[i].alias; }
  Result<Registration> row(size_t i) const;
  // Every row, parsed once per view.
  Result<std::shared_ptr<const std::vector<Registration>>> all() const;

 private:
  std::unique_ptr<codec::RegistryIndex> index_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<const std::vector<Registration>> all_;
};

struct RegistryCache {
  std::mutex mu;
  std::shared_ptr<const RegistryView> view;
  // The inode `view` was read from, held open; while registry.json still is that inode,
  // unchanged, the view is current without reading the file again.
  std::optional<files::PinnedFile> pin;
};

// ---------- paths ----------
namespace fs = std::filesystem;
inline fs::path registry_path(const fs::path& root) {
  return root / "registry.json";
}
inline fs::path registry_lock(const fs::path& root) {
  return root / "registry.json.lock";
}
inline fs::path inbox_path(const fs::path& root, std::string_view sid) {
  return root / (std::string(sid) + ".inbox.json");
}
// Messages appended to a large inbox without rewriting it (docs/cli.md "Broker files"): one
// JSON message per line, merged after <sid>.inbox.json by every reader, folded into it by the
// next rewrite. Used once the inbox file is kInboxJournalThreshold bytes or more.
inline fs::path inbox_journal_path(const fs::path& root, std::string_view sid) {
  return root / (std::string(sid) + ".inbox.journal.jsonl");
}
inline constexpr size_t kInboxJournalThreshold = 1024 * 1024;
inline fs::path inbox_lock(const fs::path& root, std::string_view sid) {
  return root / (std::string(sid) + ".inbox.lock");
}
inline fs::path archive_dir(const fs::path& root) {
  return root / "archive";
}
inline fs::path archive_path(const fs::path& root, std::string_view sid) {
  return archive_dir(root) / (std::string(sid) + ".jsonl");
}
inline fs::path archive_lock(const fs::path& root, std::string_view sid) {
  return archive_dir(root) / (std::string(sid) + ".lock");
}
inline fs::path delivered_dir(const fs::path& root) {
  return root / "delivered";
}
inline fs::path delivered_path(const fs::path& root, std::string_view sid) {
  return delivered_dir(root) / (std::string(sid) + ".json");
}
inline fs::path dead_letter_path(const fs::path& root) {
  return root / "dead-letter.jsonl";
}
inline fs::path dead_letter_lock(const fs::path& root) {
  return root / "dead-letter.jsonl.lock";
}
inline fs::path outbox_path(const fs::path& root) {
  return root / "remote-outbox.jsonl";
}
inline fs::path outbox_lock(const fs::path& root) {
  return root / "remote-outbox.lock";
}
inline fs::path outbox_dlq_path(const fs::path& root) {
  return root / "remote-outbox-dlq.jsonl";
}
inline fs::path rooms_dir(const fs::path& root) {
  return root / "rooms";
}
inline fs::path room_dir(const fs::path& root, std::string_view room) {
  return rooms_dir(root) / std::string(room);
}

inline fs::path receipts_dir(const fs::path& root) {
  return root / "receipts";
}
// A receipt file of c2c before the receipt log (one per message): read, pruned, never written.
inline fs::path receipt_path(const fs::path& root, std::string_view message_id) {
  return receipts_dir(root) / (std::string(message_id) + ".jsonl");
}
// Segment `n` (from 1) of the receipt log: receipts/log-000001.jsonl, ...
fs::path receipt_segment_path(const fs::path& root, uint64_t n);

inline fs::path receipt_outbox_path(const fs::path& root) {
  return root / "receipts-outbox.jsonl";
}
inline fs::path receipt_outbox_lock(const fs::path& root) {
  return root / "receipts-outbox.lock";
}

inline fs::path receipt_keys_path(const fs::path& root) {
  return root / "receipt-keys.json";
}
inline fs::path receipt_keys_lock(const fs::path& root) {
  return root / "receipt-keys.lock";
}

inline constexpr size_t kDeliveredIdsKept = 4096;
inline constexpr size_t kReceiptOutboxKept = 10000;
// Receipt log segments and older per-message files last this long at most (sweep); of the
// segments, the newest kReceiptSegmentsKept stay at most, and so do the newest kReceiptsKept
// per-message files.
inline constexpr double kReceiptRetentionSeconds = 7 * 24 * 3600;
inline constexpr size_t kReceiptsKept = 20000;
// A writer starts the next segment once its segment holds this much (about 25,000 records).
inline constexpr size_t kReceiptSegmentBytes = 4 * 1024 * 1024;
inline constexpr size_t kReceiptSegmentsKept = 32;

// ---------- registry ----------
using RegistrySnapshot = std::shared_ptr<const RegistryView>;
// Reads registry.json (no lock needed: it is only ever replaced atomically). The indexing is
// skipped when the bytes equal the cached ones.
Result<RegistrySnapshot> load_registry(const fs::path& root, RegistryCache& cache);
Result<void> save_registry(const fs::path& root, RegistryCache& cache,
                           const std::vector<Registration>& rows);
// The registry lock and the snapshot read under it. Shared for senders (they run in parallel
// with each other but never with a register or sweep that could move an inbox under them),
// exclusive for register and sweep, which rewrite the registry.
struct LockedRegistry {
  files::FileLock lock;
  RegistrySnapshot snap;
};
Result<LockedRegistry> lock_registry(const fs::path& root, RegistryCache& cache,
                                     files::FileLock::Mode mode);

Liveness liveness_of(const Registration& reg);
inline bool maybe_alive(const Registration& reg) {
  return liveness_of(reg) != Liveness::kDead;
}

enum class Resolve { kFound, kUnknown, kAllDead };
struct Resolution {
  Resolve kind = Resolve::kUnknown;
  std::optional<Registration> reg;  // set when kFound
};
// docs/cli.md (send): rows whose alias matches case-insensitively; the first (most recently
// registered) one that is not known dead wins. Only matching rows are materialised.
Result<Resolution> resolve_alias(const RegistryView& view, std::string_view alias);
// The row of a session id, if any.
Result<std::optional<Registration>> find_session_row(const RegistryView& view,
                                                     std::string_view session_id);

// ---------- inboxes (caller holds the inbox lock for writes) ----------
// <sid>.inbox.json followed by the journal's messages (a journal message whose id the inbox
// file already holds is a leftover of a compaction cut short, and is skipped; an unparsable
// journal line is the torn tail of an appender killed mid-write, never acknowledged).
Result<std::vector<Message>> read_inbox(const fs::path& root, std::string_view sid);
// Replaces the whole queue. A journal is first folded into the inbox file and removed, so a
// crash at any point leaves either the old queue or the new one, never a mix.
Result<void> write_inbox(const fs::path& root, std::string_view sid,
                         const std::vector<Message>& msgs);
// write_inbox(empty) then removes the inbox file.
Result<void> remove_inbox(const fs::path& root, std::string_view sid);
// Caller holds the inbox lock: appends in O(message) (journal) once the inbox file is large,
// else rewrites it (small inboxes stay one JSON array, readable by older c2c versions).
Result<void> append_locked(const fs::path& root, std::string_view sid,
                           const std::vector<Message>& msgs);
// Takes the inbox lock, then append_locked.
Result<void> append_to_inbox(const fs::path& root, std::string_view sid,
                             const std::vector<Message>& msgs);
// True if the session has an inbox file or a journal.
bool inbox_exists(const fs::path& root, std::string_view sid);

// ---------- validation ----------
Result<void> check_session_id(std::string_view sid);
// UTF-8 and at most kMaxContentBytes (core/limits.hpp) including a tag prefix of prefix_bytes.
Result<void> check_content(std::string_view content, size_t prefix_bytes = 0);
// UTF-8 only (messages the relay already accepted).
Result<void> check_utf8(std::string_view content);
// "" / fail / blocking / urgent -> the body prefix.
Result<std::string> tag_prefix(std::string_view tag);
// Creates the root (0700) if needed; refuses one another user owns or may write to.
Result<void> ensure_root(const fs::path& root);
// The same refusal for readers; a missing root is fine (nothing to read).
Result<void> check_root(const fs::path& root);

// ---------- dead letters ----------
// Moves every dead letter addressed to this session or alias (the part of to_alias before
// '#') into the session's inbox. Lock order: inbox -> dead-letter. Returns how many moved.
Result<size_t> redeliver_dead_letters(const fs::path& root, std::string_view sid,
                                      std::string_view alias, Clock& clock);

// ---------- receipts ----------
// Appends the events to the receipt log, all in one write (best effort for callers whose
// message is already stored: see receipts.cpp).
Result<void> record_receipts(const fs::path& root, const std::vector<ReceiptEvent>& events);
// The receipt events of each of `ids` that has any, oldest first. With `until_accepted`, the
// log is read from its newest segment back only until every id has an `accepted` event (what
// a connector needs to know who sent a message to whom), so later states of a message whose
// records span segments may be missing; without it, the whole log is read.
Result<std::unordered_map<std::string, std::vector<ReceiptEvent>>> read_receipt_events(
    const fs::path& root, const std::unordered_set<std::string>& ids, bool until_accepted);
// Queues receipts of relay messages for the connector (best effort, as record_receipts).
void queue_remote_receipts(const fs::path& root, const std::vector<ReceiptOutboxEntry>& entries);
// The read receipts of drained messages (drained_by names the drain); those of messages that
// came through the relay are also queued for the sender's machine.
void record_read(const fs::path& root, const std::vector<Message>& drained,
                 std::string_view drained_by, double now);
// Removes receipt log segments and per-message files past retention or beyond the newest
// kReceiptSegmentsKept / kReceiptsKept (never the newest segment); returns how many.
size_t prune_receipts(const fs::path& root, double now);

// ---------- rooms ----------
// Removes the members of `room` matching pred (under its members lock); returns their aliases.
Result<std::vector<std::string>> evict_room_members(
    const fs::path& root, std::string_view room,
    const std::function<bool(const RoomMember&)>& pred);

}  // namespace detail
}  // namespace c2c::broker
