// Delivery receipts (docs/cli.md "Delivery receipts"): receipts/<message_id>.jsonl holds one
// JSON line per state change (accepted, delivered, read) of that message, for each recipient.
//
// Why one small append-only file per message: the writers of one message's states are
// different processes (the sender records accepted/delivered, the recipient's drain records
// read, the connector records remote states) and a query wants one message, so nothing else
// is ever read or rewritten. Each record is one write(2) of one line with O_APPEND, which the
// kernel applies whole and in order against other appenders to the same file, so no lock file
// is needed. Records are not fsynced: a process killed at any point leaves whole lines (a
// power cut may lose the latest states, never a message; a torn line is skipped when read, and
// since each record has a newline on both sides it never joins a whole one). Files are 0600
// and opened with O_NOFOLLOW, like the other broker files. Sweep prunes files older than a
// week or beyond the newest 20,000.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>

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

Result<void> append_records(const fs::path& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot open", path, errno);
  // One write: appenders to the same file never interleave within it.
  ssize_t n;
  do {
    n = ::write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  const int err = errno;
  ::close(fd);
  if (n < 0) return io_error("cannot write", path, err);
  if (static_cast<size_t>(n) != data.size()) {
    return fail(ErrorCode::kIo, "short write to " + path.string());
  }
  return {};
}

}  // namespace

Result<void> record_receipts(const fs::path& root, const std::vector<ReceiptEvent>& events) {
  // Grouped per message, in order: one write per file.
  std::map<std::string, std::string> per_file;
  for (const auto& e : events) {
    if (!is_safe_file_component(e.message_id)) continue;
    per_file[e.message_id] += event_line(e);
  }
  if (per_file.empty()) return {};
  // A private real directory: a symlinked or group-writable receipts/ is refused, as archive/
  // is (docs/security.md).
  C2C_TRY(files::ensure_private_dir(receipts_dir(root)));
  for (const auto& [id, data] : per_file) C2C_TRY(append_records(receipt_path(root, id), data));
  return {};
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

bool same_entry(const ReceiptOutboxEntry& a, const ReceiptOutboxEntry& b) {
  return a.message_id == b.message_id && a.state == b.state && a.recipient == b.recipient;
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
  std::error_code ec;
  std::vector<std::pair<double, fs::path>> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (name.size() <= 6 || name.compare(name.size() - 6, 6, ".jsonl") != 0) continue;
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const double mtime =
        static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
    files.emplace_back(mtime, entry.path());
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  size_t removed = 0;
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
  std::vector<ReceiptOutboxEntry> keep;
  for (auto line : files::lines_of(**raw)) {
    auto e = detail::parse_outbox_line(line);
    if (!e) continue;  // torn or foreign lines go
    const bool done = std::any_of(sent.begin(), sent.end(), [&](const ReceiptOutboxEntry& s) {
      return detail::same_entry(s, *e);
    });
    if (!done) keep.push_back(std::move(*e));
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

Result<std::optional<DeliveryStatus>> Broker::delivery_status(std::string_view message_id) {
  if (!is_safe_file_component(message_id)) {
    return fail(ErrorCode::kBadRequest, "invalid message_id '" + std::string(message_id) +
                                            "' (expected the id a send returned, e.g. a UUID)");
  }
  C2C_TRY(detail::check_root(root_));
  if (::access(detail::receipts_dir(root_).c_str(), F_OK) == 0) {
    C2C_TRY(files::ensure_private_dir(detail::receipts_dir(root_)));
  }
  auto raw = files::read_file(detail::receipt_path(root_, message_id));
  if (!raw) return fail(raw.error());
  if (!raw->has_value()) return std::optional<DeliveryStatus>();
  DeliveryStatus out;
  out.message_id = std::string(message_id);
  for (auto line : files::lines_of(**raw)) {
    auto e = detail::parse_event(line);
    // A torn line (power cut) or a record of another id (never written by c2c) is skipped.
    if (!e || e->message_id != message_id) continue;
    if (out.from_alias.empty()) out.from_alias = e->from_alias;
    auto it = std::find_if(out.recipients.begin(), out.recipients.end(),
                           [&](const RecipientStatus& r) { return r.recipient == e->recipient; });
    if (it == out.recipients.end()) {
      out.recipients.push_back(RecipientStatus{e->recipient, e->state, {}, {}, {}});
      it = out.recipients.end() - 1;
    }
    it->state = std::max(it->state, e->state);
    auto& at = e->state == ReceiptState::kAccepted    ? it->accepted_at
               : e->state == ReceiptState::kDelivered ? it->delivered_at
                                                      : it->read_at;
    // The first time a state was reached is the one reported.
    if (!at || e->ts < *at) at = e->ts;
    out.events.push_back(std::move(*e));
  }
  if (out.events.empty()) return std::optional<DeliveryStatus>();
  return std::optional<DeliveryStatus>(std::move(out));
}

}  // namespace c2c::broker
