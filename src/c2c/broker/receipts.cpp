// Delivery receipts (docs/cli.md "Delivery receipts"): one JSON line per state change
// (accepted, delivered, read) of a message, for each recipient, in an append-only log:
// receipts/log-000001.jsonl, log-000002.jsonl, ... (segments of about 4 MiB).
//
// Why a log: the writers of one message's states are different processes (the sender records
// accepted/delivered, the recipient's drain records read, the connector records remote
// states), and a connector moving thousands of messages a second records them in groups: one
// write(2) per group costs what one record did, where a file per message cost a file creation
// per message and a directory growing without bound (docs/performance.md). Each group is one
// write with O_APPEND, which the kernel applies whole and in order against other appenders to
// the same file, so no lock file is needed. Records are not fsynced: a process killed at any
// point leaves whole lines (a power cut may lose the latest states, never a message; a torn
// line is skipped when read, and since each record has a newline on both sides it never joins
// a whole one). Files are 0600 and opened with O_NOFOLLOW, like the other broker files.
//
// A query reads the segments newest first (a connector checking who sent a message stops at its
// `accepted` record, normally in the newest segment); each process appends to the newest
// segment it knows and moves on once that one is full. Sweep prunes segments older than a week
// or beyond the newest 32. Per-message files receipts/<message_id>.jsonl written by older c2c
// are still read and pruned (a week, or beyond the newest 20,000), never written.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <unordered_set>

#include "c2c/broker/internal.hpp"
#include "c2c/core/text.hpp"

namespace c2c::broker {

namespace fs = std::filesystem;
using nlohmann::json;

// A switch, not a table: -Wswitch names a state added without a name.
std::string_view receipt_state_name(ReceiptState s) {
  switch (s) {
    case ReceiptState::kAccepted:
      return "accepted";
    case ReceiptState::kDelivered:
      return "delivered";
    case ReceiptState::kRead:
      return "read";
  }
  return "accepted";
}

std::optional<ReceiptState> parse_receipt_state(std::string_view name) {
  for (const ReceiptState s :
       {ReceiptState::kAccepted, ReceiptState::kDelivered, ReceiptState::kRead}) {
    if (name == receipt_state_name(s)) return s;
  }
  return std::nullopt;
}

namespace detail {

namespace {

Unexpected<> io_error(std::string_view what, const fs::path& path, int err) {
  return fail(ErrorCode::kIo, std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

std::string event_line(const ReceiptEvent& e) {
  json j = {{"message_id", e.message_id},
            {"state", receipt_state_name(e.state)},
            {"recipient", e.recipient},
            {"ts", e.ts}};
  if (!e.via.empty()) j["via"] = e.via;
  if (!e.from_alias.empty()) j["from_alias"] = e.from_alias;
  if (!e.node.empty()) j["node"] = e.node;
  if (!e.verified.empty()) j["verified"] = e.verified;
  // Newlines on both sides: a line torn by a power cut never runs into a whole record.
  return "\n" + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::optional<ReceiptEvent> parse_event(std::string_view line) {
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto str = [&j](const char* k) {
    const auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  ReceiptEvent e;
  e.message_id = str("message_id");
  const auto state = parse_receipt_state(str("state"));
  if (e.message_id.empty() || !state) return std::nullopt;
  e.state = *state;
  e.recipient = str("recipient");
  if (const auto ts = j.find("ts"); ts != j.end() && ts->is_number()) e.ts = ts->get<double>();
  e.via = str("via");
  e.from_alias = str("from_alias");
  e.node = str("node");
  e.verified = str("verified");
  return e;
}

// Appends `data` with one write; returns the file's size after it. Without `create`, a file
// that does not exist is kNotFound.
Result<off_t> append_records(const fs::path& path, const std::string& data, bool create) {
  const int fd = ::open(
      path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
  if (fd < 0) {
    if (errno == ENOENT && !create) return fail(ErrorCode::kNotFound, path.string());
    return io_error("cannot open", path, errno);
  }
  // One write: appenders to the same file never interleave within it.
  ssize_t n;
  do {
    n = ::write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  const int err = errno;
  struct stat st {};
  const bool sized = n >= 0 && ::fstat(fd, &st) == 0;
  ::close(fd);
  if (n < 0) return io_error("cannot write", path, err);
  if (static_cast<size_t>(n) != data.size()) {
    return fail(ErrorCode::kIo, "short write to " + path.string());
  }
  return sized ? st.st_size : static_cast<off_t>(data.size());
}

// The log's segment numbers, oldest first (regular files named log-<digits>.jsonl).
std::vector<uint64_t> list_segments(const fs::path& dir) {
  std::vector<uint64_t> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    constexpr std::string_view kPrefix = "log-", kSuffix = ".jsonl";
    if (name.size() <= kPrefix.size() + kSuffix.size() || name.rfind(kPrefix, 0) != 0 ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
      continue;
    }
    const auto digits = std::string_view(name).substr(
        kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
    if (digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back(std::stoull(std::string(digits)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The segment each receipts directory's writers in this process append to: found by listing
// once, then moved on when it is full (or was pruned).
class SegmentCursor {
 public:
  static SegmentCursor& instance() {
    static SegmentCursor cursor;
    return cursor;
  }
  uint64_t current(const fs::path& dir) {
    std::lock_guard lock(mu_);
    auto it = current_.find(dir.string());
    if (it != current_.end()) return it->second;
    const auto listed = list_segments(dir);
    const uint64_t n = listed.empty() ? 1 : listed.back();
    current_[dir.string()] = n;
    return n;
  }
  // `full` is full, or gone: the next write goes to the newest segment after it that exists,
  // else to a new one.
  uint64_t move_past(const fs::path& dir, uint64_t full) {
    const auto listed = list_segments(dir);
    const uint64_t newest = listed.empty() ? 0 : listed.back();
    std::lock_guard lock(mu_);
    uint64_t& n = current_[dir.string()];
    n = std::max(n, newest > full ? newest : full + 1);
    return n;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, uint64_t> current_;
};

// The message id of a record line, without parsing it: records are written by event_line, whose
// keys never hold the pattern inside a string (quotes in values are escaped). A match is
// parsed and checked in full afterwards.
std::string_view line_message_id(std::string_view line) {
  static constexpr std::string_view kKey = "\"message_id\":\"";
  const auto at = line.find(kKey);
  if (at == std::string_view::npos) return {};
  const auto from = at + kKey.size();
  const auto end = line.find('"', from);
  if (end == std::string_view::npos) return {};
  return line.substr(from, end - from);
}

}  // namespace

fs::path receipt_segment_path(const fs::path& root, uint64_t n) {
  char name[40];
  std::snprintf(name, sizeof name, "log-%06llu.jsonl", static_cast<unsigned long long>(n));
  return receipts_dir(root) / name;
}

Result<void> record_receipts(const fs::path& root, const std::vector<ReceiptEvent>& events) {
  std::string data;
  for (const auto& e : events) {
    if (is_safe_file_component(e.message_id)) data += event_line(e);
  }
  if (data.empty()) return {};
  // A private real directory: a symlinked or group-writable receipts/ is refused, as archive/
  // is (docs/security.md).
  const fs::path dir = receipts_dir(root);
  C2C_TRY(files::ensure_private_dir(dir));
  auto& cursor = SegmentCursor::instance();
  uint64_t n = cursor.current(dir);
  // The segment is created only when it is the newest: one pruned under a long-lived process
  // is not brought back (a query reading newest first would meet its records out of order).
  auto size = append_records(receipt_segment_path(root, n), data, /*create=*/false);
  if (!size && size.error().code == ErrorCode::kNotFound) {
    n = cursor.move_past(dir, n - 1);
    size = append_records(receipt_segment_path(root, n), data, /*create=*/true);
  }
  if (!size) return fail(size.error());
  if (static_cast<size_t>(*size) >= kReceiptSegmentBytes) (void)cursor.move_past(dir, n);
  return {};
}

Result<std::unordered_map<std::string, std::vector<ReceiptEvent>>> read_receipt_events(
    const fs::path& root, const std::unordered_set<std::string>& ids, bool until_accepted) {
  std::unordered_map<std::string, std::vector<ReceiptEvent>> found;
  const fs::path dir = receipts_dir(root);
  if (ids.empty() || ::access(dir.c_str(), F_OK) != 0) return found;
  C2C_TRY(files::ensure_private_dir(dir));
  // Per-message files of older c2c: the oldest records of their ids.
  for (const auto& id : ids) {
    if (!is_safe_file_component(id)) continue;
    auto raw = files::read_file(receipt_path(root, id));
    if (!raw) return fail(raw.error());
    if (!raw->has_value()) continue;
    for (auto line : files::lines_of(**raw)) {
      auto e = parse_event(line);
      // A torn line (power cut) or a record of another id (never written by c2c) is skipped.
      if (e && e->message_id == id) found[id].push_back(std::move(*e));
    }
  }
  // Then the log, newest segment first; each segment's records are kept in order and the
  // segments' groups put back oldest first at the end.
  std::unordered_set<std::string> accepted;  // ids whose `accepted` record was met
  std::vector<std::vector<std::pair<std::string, ReceiptEvent>>> newest_first;
  auto segments = list_segments(dir);
  std::reverse(segments.begin(), segments.end());
  for (const uint64_t n : segments) {
    if (until_accepted && accepted.size() == ids.size()) break;
    auto raw = files::read_file(receipt_segment_path(root, n));
    if (!raw) return fail(raw.error());
    if (!raw->has_value()) continue;  // pruned meanwhile
    auto& group = newest_first.emplace_back();
    for (auto line : files::lines_of(**raw)) {
      const auto id = line_message_id(line);
      if (id.empty()) continue;
      const auto wanted = ids.find(std::string(id));
      if (wanted == ids.end()) continue;
      auto e = parse_event(line);
      if (!e || e->message_id != *wanted) continue;
      if (e->state == ReceiptState::kAccepted) accepted.insert(*wanted);
      group.emplace_back(*wanted, std::move(*e));
    }
  }
  std::reverse(newest_first.begin(), newest_first.end());
  for (auto& group : newest_first) {
    for (auto& [id, e] : group) found[id].push_back(std::move(e));
  }
  return found;
}
namespace {

std::string outbox_line(const ReceiptOutboxEntry& e) {
  return json{{"message_id", e.message_id},
              {"state", receipt_state_name(e.state)},
              {"recipient", e.recipient},
              {"sender", e.sender},
              {"ts", e.ts}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<ReceiptOutboxEntry> parse_outbox_line(std::string_view line) {
  auto e = parse_event(line);  // same field names, plus "sender"
  if (!e || e->state == ReceiptState::kAccepted) return std::nullopt;
  json j = json::parse(line.begin(), line.end(), nullptr, false);
  const auto sender = j.find("sender");
  if (sender == j.end() || !sender->is_string() || sender->get<std::string>().empty()) {
    return std::nullopt;
  }
  return ReceiptOutboxEntry{e->message_id, e->state, e->recipient, sender->get<std::string>(),
                            e->ts};
}

// What makes two queued receipts the same: message, state and recipient.
std::string entry_key(const ReceiptOutboxEntry& e) {
  std::string key = e.message_id;
  key += '\x1f';
  key += receipt_state_name(e.state);
  key += '\x1f';
  key += e.recipient;
  return key;
}

}  // namespace

void queue_remote_receipts(const fs::path& root, const std::vector<ReceiptOutboxEntry>& entries) {
  if (entries.empty()) return;
  std::string lines;
  for (const auto& e : entries) {
    if (!lines.empty()) lines.push_back('\n');
    lines += outbox_line(e);
  }
  auto lock = files::FileLock::acquire(receipt_outbox_lock(root));
  if (!lock) return;
  (void)files::append_line(receipt_outbox_path(root), lines);
}

void record_read(const fs::path& root, const std::vector<Message>& drained,
                 std::string_view drained_by, double now) {
  std::vector<ReceiptEvent> events;
  std::vector<ReceiptOutboxEntry> remote;
  events.reserve(drained.size());
  for (const auto& m : drained) {
    if (!m.message_id) continue;
    if (m.via_relay && !m.room_id) {  // relay room copies: see Broker::deliver
      // The sender's relay alias: the part before any "@node" of a reply address.
      remote.push_back(ReceiptOutboxEntry{*m.message_id, ReceiptState::kRead, m.to_alias,
                                          m.from_alias.substr(0, m.from_alias.find('@')), now});
    }
    ReceiptEvent e;
    e.message_id = *m.message_id;
    e.state = ReceiptState::kRead;
    e.recipient = m.to_alias;
    e.ts = now;
    e.via = std::string(drained_by);
    events.push_back(std::move(e));
  }
  // Best effort: the messages are already drained and archived; failing the drain now would
  // hand them to nobody.
  (void)record_receipts(root, events);
  queue_remote_receipts(root, remote);
}

size_t prune_receipts(const fs::path& root, double now) {
  const fs::path dir = receipts_dir(root);
  // Never list (and unlink in) a directory reached through a link or writable by others.
  if (::access(dir.c_str(), F_OK) != 0 || !files::ensure_private_dir(dir)) return 0;
  const auto mtime_of = [](const fs::path& path) -> std::optional<double> {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
  };
  size_t removed = 0;
  // Log segments: the newest always stays (writers append to it).
  const auto segments = list_segments(dir);
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    const auto path = receipt_segment_path(root, segments[i]);
    const auto mtime = mtime_of(path);
    if (!mtime) continue;
    const bool beyond = segments.size() - i > kReceiptSegmentsKept;
    if ((beyond || now - *mtime > kReceiptRetentionSeconds) && ::unlink(path.c_str()) == 0) {
      ++removed;
    }
  }
  // Per-message files of older c2c.
  std::error_code ec;
  std::vector<std::pair<double, fs::path>> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (name.size() <= 6 || name.compare(name.size() - 6, 6, ".jsonl") != 0 ||
        name.rfind("log-", 0) == 0) {
      continue;
    }
    if (const auto mtime = mtime_of(entry.path())) files.emplace_back(*mtime, entry.path());
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; i < files.size(); ++i) {
    if (i < kReceiptsKept && now - files[i].first <= kReceiptRetentionSeconds) continue;
    if (::unlink(files[i].second.c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace detail

json delivery_status_json(const DeliveryStatus& status) {
  auto when = [](const std::optional<double>& t) { return t ? json(*t) : json(nullptr); };
  json recipients = json::array();
  ReceiptState overall = ReceiptState::kRead;
  for (const auto& r : status.recipients) {
    overall = std::min(overall, r.state);
    recipients.push_back({{"recipient", r.recipient},
                          {"state", receipt_state_name(r.state)},
                          {"accepted_at", when(r.accepted_at)},
                          {"delivered_at", when(r.delivered_at)},
                          {"read_at", when(r.read_at)}});
  }
  json events = json::array();
  for (const auto& e : status.events) {
    json j = {{"state", receipt_state_name(e.state)},
              {"recipient", e.recipient},
              {"ts", e.ts},
              {"via", e.via}};
    if (!e.node.empty()) j["node"] = e.node;
    if (!e.verified.empty()) j["verified"] = e.verified;
    events.push_back(std::move(j));
  }
  return {{"message_id", status.message_id},
          {"from_alias", status.from_alias},
          {"state", status.recipients.empty() ? "accepted" : receipt_state_name(overall)},
          {"recipients", std::move(recipients)},
          {"events", std::move(events)}};
}

Result<void> Broker::record_receipts(const std::vector<ReceiptEvent>& events) {
  C2C_TRY(detail::ensure_root(root_));
  return detail::record_receipts(root_, events);
}

Result<std::vector<ReceiptOutboxEntry>> Broker::read_receipt_outbox() {
  C2C_TRY(detail::check_root(root_));
  std::vector<ReceiptOutboxEntry> out;
  auto lock = files::FileLock::acquire(detail::receipt_outbox_lock(root_));
  if (!lock) return fail(lock.error());
  auto raw = files::read_file(detail::receipt_outbox_path(root_));
  if (!raw) return fail(raw.error());
  if (!raw->has_value()) return out;
  for (auto line : files::lines_of(**raw)) {
    if (auto e = detail::parse_outbox_line(line)) out.push_back(std::move(*e));
  }
  return out;
}

Result<void> Broker::settle_receipt_outbox(const std::vector<ReceiptOutboxEntry>& sent) {
  C2C_TRY(detail::check_root(root_));
  auto lock = files::FileLock::acquire(detail::receipt_outbox_lock(root_));
  if (!lock) return fail(lock.error());
  auto raw = files::read_file(detail::receipt_outbox_path(root_));
  if (!raw) return fail(raw.error());
  if (!raw->has_value()) return {};
  // A set, not a scan per line: a connector settles thousands at once.
  std::unordered_set<std::string> done;
  done.reserve(sent.size());
  for (const auto& s : sent) done.insert(detail::entry_key(s));
  std::vector<ReceiptOutboxEntry> keep;
  for (auto line : files::lines_of(**raw)) {
    auto e = detail::parse_outbox_line(line);
    if (!e) continue;  // torn or foreign lines go
    if (done.count(detail::entry_key(*e)) == 0) keep.push_back(std::move(*e));
  }
  if (keep.size() > detail::kReceiptOutboxKept) {
    keep.erase(keep.begin(), keep.end() - static_cast<long>(detail::kReceiptOutboxKept));
  }
  std::string data;
  for (const auto& e : keep) data += detail::outbox_line(e) + "\n";
  return files::write_atomic(detail::receipt_outbox_path(root_), data);
}

namespace {

Result<json> read_keys(const fs::path& root) {
  auto raw = files::read_file(detail::receipt_keys_path(root));
  if (!raw) return fail(raw.error());
  if (!raw->has_value()) return json::object();
  json j = json::parse(**raw, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    // Never silently re-pin: a damaged pin file must be looked at (or removed) by a person.
    return fail(ErrorCode::kIo, detail::receipt_keys_path(root).string() + " is not a JSON object");
  }
  return j;
}

}  // namespace

Result<std::optional<std::string>> Broker::pinned_receipt_key(std::string_view alias) {
  C2C_TRY(detail::check_root(root_));
  auto keys = read_keys(root_);
  if (!keys) return fail(keys.error());
  const auto it = keys->find(casefold(alias));
  if (it == keys->end() || !it->is_string()) return std::optional<std::string>();
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> Broker::pin_receipt_key(std::string_view alias, std::string_view pk) {
  C2C_TRY(detail::ensure_root(root_));
  auto lock = files::FileLock::acquire(detail::receipt_keys_lock(root_));
  if (!lock) return fail(lock.error());
  auto keys = read_keys(root_);
  if (!keys) return fail(keys.error());
  const std::string key = casefold(alias);
  if (const auto it = keys->find(key); it != keys->end() && it->is_string()) {
    return it->get<std::string>();
  }
  (*keys)[key] = std::string(pk);
  C2C_TRY(files::write_atomic(detail::receipt_keys_path(root_), keys->dump(2)));
  return std::string(pk);
}

namespace {

DeliveryStatus status_of(const std::string& message_id, std::vector<ReceiptEvent> events) {
  DeliveryStatus out;
  out.message_id = message_id;
  for (auto& e : events) {
    if (out.from_alias.empty()) out.from_alias = e.from_alias;
    auto it = std::find_if(out.recipients.begin(), out.recipients.end(),
                           [&](const RecipientStatus& r) { return r.recipient == e.recipient; });
    if (it == out.recipients.end()) {
      out.recipients.push_back(RecipientStatus{e.recipient, e.state, {}, {}, {}});
      it = out.recipients.end() - 1;
    }
    it->state = std::max(it->state, e.state);
    auto& at = e.state == ReceiptState::kAccepted    ? it->accepted_at
               : e.state == ReceiptState::kDelivered ? it->delivered_at
                                                     : it->read_at;
    // The first time a state was reached is the one reported.
    if (!at || e.ts < *at) at = e.ts;
    out.events.push_back(std::move(e));
  }
  return out;
}

}  // namespace

Result<std::optional<DeliveryStatus>> Broker::delivery_status(std::string_view message_id) {
  if (!is_safe_file_component(message_id)) {
    return fail(ErrorCode::kBadRequest, "invalid message_id '" + std::string(message_id) +
                                            "' (expected the id a send returned, e.g. a UUID)");
  }
  C2C_TRY(detail::check_root(root_));
  const std::string id(message_id);
  auto found = detail::read_receipt_events(root_, {id}, /*until_accepted=*/false);
  if (!found) return fail(found.error());
  auto it = found->find(id);
  if (it == found->end() || it->second.empty()) return std::optional<DeliveryStatus>();
  return std::optional<DeliveryStatus>(status_of(id, std::move(it->second)));
}

Result<std::unordered_map<std::string, DeliveryStatus>> Broker::sent_statuses(
    const std::unordered_set<std::string>& message_ids) {
  C2C_TRY(detail::check_root(root_));
  auto found = detail::read_receipt_events(root_, message_ids, /*until_accepted=*/true);
  if (!found) return fail(found.error());
  std::unordered_map<std::string, DeliveryStatus> out;
  for (auto& [id, events] : *found) {
    if (!events.empty()) out.emplace(id, status_of(id, std::move(events)));
  }
  return out;
}

}  // namespace c2c::broker
