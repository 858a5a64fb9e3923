// Sweep and dead letters (docs/cli.md Maintenance) and the remote outbox shared with the relay
// connector (docs/protocol.md §6, docs/decisions.md D9/D10: every access holds remote-outbox.lock).
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "c2c/broker/codec.hpp"
#include "c2c/broker/internal.hpp"
#include "c2c/core/ids.hpp"
#include "c2c/core/text.hpp"

namespace c2c::broker {

namespace fs = std::filesystem;
using files::FileLock;
using namespace detail;

namespace {

constexpr std::string_view kInboxSuffix = ".inbox.json";
constexpr std::string_view kJournalSuffix = ".inbox.journal.jsonl";

std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// The writer pid of an atomic-replace temp name "<file>.tmp.<pid>.<tid>", if it is one.
std::optional<long long> temp_writer_pid(std::string_view name) {
  const auto at = name.rfind(".tmp.");
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  const auto rest = name.substr(at + 5);
  const auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == rest.size()) return std::nullopt;
  long long pid = 0;
  for (char c : rest.substr(0, dot)) {
    if (c < '0' || c > '9' || pid > 1'000'000'000) return std::nullopt;
    pid = pid * 10 + (c - '0');
  }
  for (char c : rest.substr(dot + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return pid;
}

// Temp files of writers that died between create and rename: readers never look at them, and
// their pid being gone means no rename can still come.
void remove_dead_writers_temp_files(const fs::path& root, const fs::path& dir,
                                    std::vector<std::string>& removed) {
  for (const auto& name : list_dir(dir)) {
    const auto pid = temp_writer_pid(name);
    if (!pid || *pid <= 0 || proc_start_time(*pid)) continue;
    const fs::path path = dir / name;
    if (::unlink(path.c_str()) == 0) removed.push_back(path.lexically_relative(root).string());
  }
}

std::string alias_part(std::string_view to_alias) {
  return std::string(to_alias.substr(0, to_alias.find('#')));
}

// An outbox line moved to the DLQ: the entry plus why and when.
std::string dlq_line(std::string_view entry_json, std::string_view reason, double now) {
  std::string out(entry_json.substr(0, entry_json.size() - 1));  // drop the closing '}'
  out += ",\"dlq_reason\":";
  codec::put_string(out, reason);
  out += ",\"dlq_at\":";
  codec::put_double(out, now);
  out.push_back('}');
  return out;
}

std::string malformed_dlq_line(std::string_view raw, double now) {
  std::string out = "{\"raw\":";
  // Keep the torn bytes readable even when they are not UTF-8.
  codec::put_string(out, codec::valid_utf8(raw) ? raw : std::string_view("<not UTF-8>"));
  return dlq_line(out + "}", "malformed", now);
}

Result<void> append_dlq(const fs::path& root, const std::vector<std::string>& lines) {
  if (lines.empty()) return {};
  std::string text;
  for (const auto& l : lines) {
    if (!text.empty()) text.push_back('\n');
    text += l;
  }
  return files::append_line(outbox_dlq_path(root), text);
}

Result<void> write_lines(const fs::path& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) {
    text += l;
    text.push_back('\n');
  }
  return files::write_atomic(path, text);
}

}  // namespace

namespace detail {

Result<size_t> redeliver_dead_letters(const fs::path& root, std::string_view sid,
                                      std::string_view alias, Clock& /*clock*/) {
  auto raw = files::read_file(dead_letter_path(root));
  if (!raw) return fail(raw.error());
  if (!raw->has_value()) return size_t{0};
  auto ilock = FileLock::acquire(inbox_lock(root, sid));
  if (!ilock) return fail(ilock.error());
  auto dlock = FileLock::acquire(dead_letter_lock(root));
  if (!dlock) return fail(dlock.error());
  raw = files::read_file(dead_letter_path(root));
  if (!raw) return fail(raw.error());
  if (!raw->has_value()) return size_t{0};
  std::vector<Message> found;
  std::vector<std::string> keep;  // raw lines, malformed ones included: nothing is dropped
  for (auto line : files::lines_of(**raw)) {
    auto j = codec::parse_object_line(line);
    auto rec = j ? codec::dead_letter_from(*j) : Result<DeadLetterRecord>(fail(j.error()));
    if (rec && (rec->from_session_id == sid || iequals(alias_part(rec->message.to_alias), alias))) {
      if (!rec->message.message_id) rec->message.message_id = new_uuid_v4();
      found.push_back(std::move(rec->message));
    } else {
      keep.emplace_back(line);
    }
  }
  if (found.empty()) return size_t{0};
  // Inbox first, dead-letter file second: a crash in between duplicates, never loses.
  C2C_TRY(append_locked(root, sid, found));
  C2C_TRY(write_lines(dead_letter_path(root), keep));
  return found.size();
}

}  // namespace detail

Result<SweepResult> Broker::sweep() {
  SweepResult out;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return out;  // nothing was ever stored here
  auto locked = lock_registry(root_, *cache_, FileLock::Mode::kExclusive);
  if (!locked) return fail(locked.error());
  auto all = locked->snap->all();
  if (!all) return fail(all.error());
  std::vector<Registration> survivors;
  for (const auto& r : **all) {
    // Only rows known dead go: a pidless row (no way to tell) stays.
    if (liveness_of(r) == Liveness::kDead) {
      out.dropped.emplace_back(r.session_id, r.alias);
    } else {
      survivors.push_back(r);
    }
  }
  std::unordered_set<std::string> live_sessions, live_aliases;
  for (const auto& r : survivors) {
    live_sessions.insert(r.session_id);
    live_aliases.insert(casefold(r.alias));
  }
  if (!out.dropped.empty()) C2C_TRY(save_registry(root_, *cache_, survivors));

  // Inboxes of sessions no longer registered (an inbox file, a journal, or both): their
  // messages go to dead-letter.jsonl.
  std::set<std::string> inbox_sessions;
  for (const auto& name : list_dir(root_)) {
    for (const std::string_view suffix : {kInboxSuffix, kJournalSuffix}) {
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        inbox_sessions.insert(name.substr(0, name.size() - suffix.size()));
      }
    }
  }
  for (const auto& sid : inbox_sessions) {
    if (live_sessions.count(sid) != 0 || !is_safe_file_component(sid)) continue;
    auto ilock = FileLock::acquire(inbox_lock(root_, sid));
    if (!ilock) return fail(ilock.error());
    auto msgs = read_inbox(root_, sid);
    if (!msgs) continue;  // unreadable: leave the file alone rather than lose it
    if (!msgs->empty()) {
      std::string lines;
      const double now = clock_.now();
      for (const auto& m : *msgs) {
        if (!lines.empty()) lines.push_back('\n');
        lines += codec::dead_letter_line(DeadLetterRecord{now, sid, m});
      }
      auto dlock = FileLock::acquire(dead_letter_lock(root_));
      if (!dlock) return fail(dlock.error());
      C2C_TRY(files::append_line(dead_letter_path(root_), lines));
    }
    C2C_TRY(remove_inbox(root_, sid));
    out.deleted_inboxes.push_back(sid);
    out.preserved_messages += msgs->size();
  }

  // Room members whose registration is gone (by session and by alias) leave their rooms.
  for (const auto& room : list_dir(rooms_dir(root_))) {
    if (!is_valid_room_id(room)) continue;
    auto evicted = evict_room_members(root_, room, [&](const RoomMember& m) {
      return live_sessions.count(m.session_id) == 0 && live_aliases.count(casefold(m.alias)) == 0;
    });
    if (!evicted) return fail(evicted.error());
    for (auto& alias : *evicted) out.evicted_room_members.emplace_back(room, std::move(alias));
  }

  out.pruned_receipts = prune_receipts(root_, clock_.now());
  remove_dead_writers_temp_files(root_, root_, out.removed_temp_files);
  for (const auto& room : list_dir(rooms_dir(root_))) {
    if (is_valid_room_id(room)) {
      remove_dead_writers_temp_files(root_, rooms_dir(root_) / room, out.removed_temp_files);
    }
  }
  return out;
}

namespace {

// The records of a .jsonl file under the broker root (none when it is missing): `from` reads
// one from each line that parses as an object; lines it refuses, or that do not parse (a torn
// tail), are skipped.
template <typename T, typename From>
Result<std::vector<T>> read_records(const fs::path& root, const fs::path& path, From&& from) {
  C2C_TRY(check_root(root));
  auto raw = files::read_file(path);
  if (!raw) return fail(raw.error());
  std::vector<T> out;
  if (!raw->has_value()) return out;
  for (auto line : files::lines_of(**raw)) {
    auto j = codec::parse_object_line(line);
    if (!j) continue;
    if (auto rec = from(*j)) out.push_back(std::move(*rec));
  }
  return out;
}

}  // namespace

Result<std::vector<DeadLetterRecord>> Broker::dead_letters() {
  return read_records<DeadLetterRecord>(root_, dead_letter_path(root_), codec::dead_letter_from);
}

Result<std::vector<RemoteDeadLetter>> Broker::remote_dead_letters() {
  return read_records<RemoteDeadLetter>(root_, outbox_dlq_path(root_), [](const nlohmann::json& j) {
    RemoteDeadLetter d;
    if (auto e = codec::outbox_from(j)) d.entry = std::move(*e);
    if (const auto it = j.find("raw"); it != j.end() && it->is_string()) d.raw = *it;
    if (const auto it = j.find("dlq_reason"); it != j.end() && it->is_string()) d.reason = *it;
    if (const auto it = j.find("dlq_at"); it != j.end() && it->is_number()) d.dlq_at = *it;
    return std::optional<RemoteDeadLetter>(std::move(d));
  });
}

namespace {

// One line of remote-outbox.jsonl as an entry; an error when it is not one.
Result<OutboxEntry> outbox_entry(std::string_view line) {
  auto j = codec::parse_object_line(line);
  if (!j) return fail(j.error());
  return codec::outbox_from(*j);
}

}  // namespace

Result<void> Broker::append_outbox(const OutboxEntry& entry) {
  return append_outbox(std::vector<OutboxEntry>{entry});
}

Result<void> Broker::append_outbox(const std::vector<OutboxEntry>& entries) {
  if (entries.empty()) return {};
  std::string lines;
  std::vector<ReceiptEvent> accepted;  // queued here = accepted (docs/cli.md "Delivery receipts")
  accepted.reserve(entries.size());
  const double now = clock_.now();
  for (const auto& entry : entries) {
    C2C_TRY(check_content(entry.content));
    OutboxEntry e = entry;
    if (e.message_id.empty()) e.message_id = new_uuid_v4();
    if (e.enqueued_at == 0) e.enqueued_at = now;
    if (!lines.empty()) lines.push_back('\n');
    lines += codec::outbox_line(e);
    ReceiptEvent ev;
    ev.message_id = e.message_id;
    ev.state = ReceiptState::kAccepted;
    ev.recipient = e.to_alias;
    ev.ts = e.enqueued_at;
    ev.via = "outbox";
    ev.from_alias = e.from_alias;
    accepted.push_back(std::move(ev));
  }
  C2C_TRY(ensure_root(root_));
  {
    auto lock = FileLock::acquire(outbox_lock(root_));
    if (!lock) return fail(lock.error());
    // One write(2) of whole lines (append_line): a reader sees all of them or none.
    C2C_TRY(files::append_line(outbox_path(root_), lines));
  }
  // Best effort from here on: the messages are queued; an error now would invite a resend.
  // Recorded before any connector can forward them, so a receipt coming back always finds
  // who sent its message to whom.
  (void)detail::record_receipts(root_, accepted);
  return {};
}

Result<std::vector<OutboxEntry>> Broker::read_outbox() {
  C2C_TRY(check_root(root_));
  std::vector<OutboxEntry> out;
  auto exists = files::read_file(outbox_path(root_));
  if (!exists) return fail(exists.error());
  if (!exists->has_value()) return out;
  auto lock = FileLock::acquire(outbox_lock(root_));
  if (!lock) return fail(lock.error());
  auto raw = files::read_file(outbox_path(root_));
  if (!raw) return fail(raw.error());
  if (!raw->has_value()) return out;
  std::vector<std::string> dlq, keep;
  bool rewrite = false;
  const double now = clock_.now();
  for (auto line : files::lines_of(**raw)) {
    auto e = outbox_entry(line);
    if (!e) {
      dlq.push_back(malformed_dlq_line(line, now));
      rewrite = true;
      continue;
    }
    if (e->message_id.empty()) {
      // Lines from older writers have no id: give them one now, persisted, so that every
      // retry of this entry carries the same id and the relay can deduplicate it.
      e->message_id = new_uuid_v4();
      keep.push_back(codec::outbox_line(*e));
      rewrite = true;
    } else {
      keep.emplace_back(line);
    }
    out.push_back(std::move(*e));
  }
  if (rewrite) {
    C2C_TRY(append_dlq(root_, dlq));
    C2C_TRY(write_lines(outbox_path(root_), keep));
  }
  return out;
}

Result<void> Broker::settle_outbox(const std::vector<OutboxOutcome>& outcomes) {
  if (outcomes.empty()) return {};
  auto lock = FileLock::acquire(outbox_lock(root_));
  if (!lock) return fail(lock.error());
  auto raw = files::read_file(outbox_path(root_));
  if (!raw) return fail(raw.error());
  if (!raw->has_value()) return {};
  std::unordered_map<std::string, const OutboxOutcome*> by_id;
  for (const auto& o : outcomes) by_id[o.message_id] = &o;
  std::vector<std::string> keep, dlq;
  const double now = clock_.now();
  for (auto line : files::lines_of(**raw)) {
    auto e = outbox_entry(line);
    if (!e) {
      dlq.push_back(malformed_dlq_line(line, now));
      continue;
    }
    auto it = by_id.find(e->message_id);
    if (e->message_id.empty() || it == by_id.end()) {
      keep.emplace_back(line);  // appended after the connector read: untouched
      continue;
    }
    switch (it->second->kind) {
      case OutboxOutcome::Kind::kDelivered:
        break;
      case OutboxOutcome::Kind::kRetry:
        e->attempts += 1;
        e->last_error = it->second->reason;
        keep.push_back(codec::outbox_line(*e));
        break;
      case OutboxOutcome::Kind::kDeadLetter:
        dlq.push_back(dlq_line(codec::outbox_line(*e), it->second->reason, now));
        break;
    }
  }
  C2C_TRY(append_dlq(root_, dlq));
  return write_lines(outbox_path(root_), keep);
}

}  // namespace c2c::broker
