// Direct messages and inbox reads (docs/cli.md, docs/decisions.md D1/D7): FIFO inboxes,
// drains archived before the inbox is cleared, alias@host to the remote outbox.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "c2c/broker/codec.hpp"
#include "c2c/broker/internal.hpp"
#include "c2c/core/ids.hpp"
#include "c2c/core/limits.hpp"
#include "c2c/core/text.hpp"

namespace c2c::broker {

namespace fs = std::filesystem;
using files::FileLock;

namespace detail {

bool inbox_exists(const fs::path& root, std::string_view sid) {
  return ::access(inbox_path(root, sid).c_str(), F_OK) == 0 ||
         ::access(inbox_journal_path(root, sid).c_str(), F_OK) == 0;
}

Result<std::vector<Message>> read_inbox(const fs::path& root, std::string_view sid) {
  C2C_TRY(check_root(root));
  // The journal before the inbox file: a compaction between the two reads has moved the
  // journal's messages into the file, where the second read finds them.
  auto journal = files::read_file(inbox_journal_path(root, sid));
  if (!journal) return fail(journal.error());
  auto raw = files::read_file(inbox_path(root, sid));
  if (!raw) return fail(raw.error());
  std::vector<Message> msgs;
  if (raw->has_value()) {
    auto parsed = codec::parse_inbox(**raw);
    if (!parsed) {
      return fail(ErrorCode::kIo, inbox_path(root, sid).string() + ": " + parsed.error().message);
    }
    msgs = std::move(*parsed);
  }
  if (!journal->has_value()) return msgs;
  std::unordered_set<std::string> ids;
  for (const auto& m : msgs) {
    if (m.message_id) ids.insert(*m.message_id);
  }
  for (auto line : files::lines_of(**journal)) {
    auto j = codec::parse_object_line(line);
    if (!j) continue;  // the torn tail of an appender killed mid-write (never acknowledged)
    auto m = codec::message_from(*j);
    if (!m) continue;
    if (m->message_id && !ids.insert(*m->message_id).second) continue;  // already folded in
    msgs.push_back(std::move(*m));
  }
  return msgs;
}

namespace {

Result<void> write_inbox_file(const fs::path& root, std::string_view sid,
                              const std::vector<Message>& msgs) {
  std::string out = "[";
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += codec::message_json(msgs[i]);
  }
  out.push_back(']');
  return files::write_atomic(inbox_path(root, sid), out);
}

}  // namespace

Result<void> write_inbox(const fs::path& root, std::string_view sid,
                         const std::vector<Message>& msgs) {
  const fs::path journal = inbox_journal_path(root, sid);
  if (::access(journal.c_str(), F_OK) == 0) {
    // Fold first: the inbox file takes the whole current queue, then the journal goes. A
    // crash in between leaves journal lines the file already holds (skipped by id on read).
    // Only then the new contents: writing them straight away and dying before the unlink
    // would bring drained journal messages back.
    auto current = read_inbox(root, sid);
    if (!current) return fail(current.error());
    C2C_TRY(write_inbox_file(root, sid, *current));
    C2C_TRY(files::remove_file(journal));
  }
  return write_inbox_file(root, sid, msgs);
}

Result<void> remove_inbox(const fs::path& root, std::string_view sid) {
  C2C_TRY(write_inbox(root, sid, {}));
  return files::remove_file(inbox_path(root, sid));
}

Result<void> append_locked(const fs::path& root, std::string_view sid,
                           const std::vector<Message>& msgs) {
  if (msgs.empty()) return {};
  const fs::path journal = inbox_journal_path(root, sid);
  struct stat st {};
  const bool large = ::lstat(inbox_path(root, sid).c_str(), &st) == 0 &&
                     static_cast<size_t>(st.st_size) >= kInboxJournalThreshold;
  if (!large && ::access(journal.c_str(), F_OK) != 0) {
    auto current = read_inbox(root, sid);
    if (!current) return fail(current.error());
    current->insert(current->end(), msgs.begin(), msgs.end());
    return write_inbox_file(root, sid, *current);
  }
  // O(message): one write(2) of whole lines (files::append_line cuts a torn tail first).
  std::string lines;
  for (Message m : msgs) {
    // Ids let readers skip lines already folded into the inbox file.
    if (!m.message_id || m.message_id->empty()) m.message_id = new_uuid_v4();
    if (!lines.empty()) lines.push_back('\n');
    lines += codec::message_json(m);
  }
  C2C_TRY(check_root(root));
  return files::append_line(journal, lines);
}

Result<void> append_to_inbox(const fs::path& root, std::string_view sid,
                             const std::vector<Message>& msgs) {
  auto lock = FileLock::acquire(inbox_lock(root, sid));
  if (!lock) return fail(lock.error());
  return append_locked(root, sid, msgs);
}

Result<void> check_content(std::string_view content, size_t prefix_bytes) {
  // One limit for every local send, the relay's default (docs/cli.md "Limits"): a body the
  // relay would refuse is refused here at send time, not found later in a dead-letter file.
  if (const size_t n = content.size() + prefix_bytes; n > kMaxContentBytes) {
    return fail(ErrorCode::kPayloadTooLarge,
                "message content is " + std::to_string(n) + " bytes; the limit is " +
                    std::to_string(kMaxContentBytes) + " bytes (256 KiB)");
  }
  return check_utf8(content);
}

Result<void> check_utf8(std::string_view content) {
  if (!codec::valid_utf8(content)) {
    return fail(ErrorCode::kBadRequest, "message content is not valid UTF-8");
  }
  return {};
}

Result<std::string> tag_prefix(std::string_view tag) {
  if (tag.empty()) return std::string();
  if (tag == "fail") return std::string("\xF0\x9F\x94\xB4 FAIL: ");
  if (tag == "blocking") return std::string("\xE2\x9B\x94 BLOCKING: ");
  if (tag == "urgent") return std::string("\xE2\x9A\xA0\xEF\xB8\x8F URGENT: ");
  return fail(ErrorCode::kBadRequest,
              "invalid tag '" + std::string(tag) + "' (expected fail, blocking or urgent)");
}

}  // namespace detail

using namespace detail;

namespace {

Result<void> check_sender(std::string_view from) {
  if (from.empty()) return fail(ErrorCode::kBadRequest, "missing sender alias");
  if (is_reserved_alias(from)) {
    return fail(ErrorCode::kReservedAlias,
                "send rejected: from_alias '" + std::string(from) + "' is a reserved system alias");
  }
  return {};
}

Unexpected<> unknown_alias(std::string_view to) {
  const std::string a(to);
  return fail(ErrorCode::kUnknownAlias,
              "unknown alias '" + a + "': no session is registered under it in this broker " +
                  "(to reach a peer on another machine, send to " + a + "@<host>)");
}

// What identifies an archived message: its sender and id (two senders may use one id).
std::string archive_key(const Message& m) {
  return m.from_alias + '\x1f' + *m.message_id;
}

// The (sender, id) keys of the archive records at the end of the archive. Archived means handed
// out: a drain killed after its archive append but before its inbox rewrite, or one pushing
// right now (it rewrites the inbox after the push), left messages in the inbox that a drain must
// neither archive nor hand out again. Those records are the last ones written, so a tail twice
// the size of the new records covers them.
std::unordered_set<std::string> recent_archive_keys(const fs::path& path, size_t new_bytes) {
  std::unordered_set<std::string> keys;
  auto tail = files::read_tail(path, 2 * new_bytes + 4096);
  if (!tail || !tail->has_value()) return keys;
  for (auto line : files::lines_of(**tail)) {
    auto j = codec::parse_object_line(line);
    if (!j) continue;
    auto e = codec::archive_from(*j);
    if (e && e->message.message_id) keys.insert(archive_key(e->message));
  }
  return keys;
}

// Removes from the inbox the messages whose archive_key is in `gone` (one each) that are still
// queued: the second step of a drain that handed them out before rewriting the inbox. Best
// effort: messages left behind are archived, so the next drain drops them unseen.
void remove_handed_out(const fs::path& root, std::string_view sid,
                       std::unordered_multiset<std::string> gone) {
  auto lock = FileLock::acquire(inbox_lock(root, sid));
  if (!lock) return;
  auto msgs = read_inbox(root, sid);
  if (!msgs) return;
  std::vector<Message> kept;
  for (auto& m : *msgs) {
    if (m.message_id) {
      if (auto it = gone.find(archive_key(m)); it != gone.end()) {
        gone.erase(it);
        continue;
      }
    }
    kept.push_back(std::move(m));
  }
  if (kept.size() != msgs->size()) (void)write_inbox(root, sid, kept);
}

// Drains the messages of `sid` that `take` selects, archiving the non-ephemeral ones before
// the inbox is rewritten: if the archive append fails, the inbox is untouched. Messages the
// archive already holds were handed out by an earlier drain (recent_archive_keys): they leave
// the inbox without being handed out again.
// `handed_out`, when given, gets the drained messages before they are reported read. When all
// of them are archived it gets them right after the archive append, with the inbox lock
// released, and the inbox is rewritten after it (remove_handed_out): a push waits for neither
// the inbox's rewrite nor a receipt write, and an MCP client that stops reading cannot hold up
// deliveries. Otherwise (an ephemeral message, which only the inbox can mark as taken) it gets
// them once the inbox no longer holds them.
Result<std::vector<Message>> drain(
    const fs::path& root, Clock& clock, std::string_view sid, std::string_view drained_by,
    const std::function<bool(const Message&)>& take,
    const std::function<void(const std::vector<Message>&)>& handed_out = nullptr) {
  C2C_TRY(check_session_id(sid));
  // No inbox file: nothing to drain, and no lock file to create in a root nobody wrote to.
  // (A message landing right after this check is picked up by the next drain.)
  if (!inbox_exists(root, sid)) return std::vector<Message>();
  auto locked = FileLock::acquire(inbox_lock(root, sid));
  if (!locked) return fail(locked.error());
  std::optional<FileLock> lock(std::move(*locked));
  auto msgs = read_inbox(root, sid);
  if (!msgs) return fail(msgs.error());
  std::vector<Message> taken, kept;
  for (auto& m : *msgs) {
    if (take(m)) {
      taken.push_back(std::move(m));
    } else {
      kept.push_back(std::move(m));
    }
  }
  if (taken.empty()) return taken;  // no rewrite: keeps inotify watchers quiet
  const double now = clock.now();
  size_t bytes = 0;
  bool all_archived = true;
  for (const auto& m : taken) {
    bytes += m.content.size() + 256;
    all_archived = all_archived && !m.ephemeral && m.message_id;
  }
  // Push before the inbox rewrite only when the archive marks every taken message as handed out.
  const bool push_first = handed_out && all_archived;
  std::unordered_multiset<std::string> taken_keys;  // for the rewrite after the push
  std::vector<Message> fresh;                       // what this drain hands out
  std::string lines;
  std::optional<FileLock> alock;
  std::unordered_set<std::string> seen;
  if (std::any_of(taken.begin(), taken.end(), [](const Message& m) { return !m.ephemeral; })) {
    C2C_TRY(files::ensure_private_dir(archive_dir(root)));
    auto acquired = FileLock::acquire(archive_lock(root, sid));
    if (!acquired) return fail(acquired.error());
    alock.emplace(std::move(*acquired));
    seen = recent_archive_keys(archive_path(root, sid), bytes);
  }
  for (auto& m : taken) {
    if (push_first) taken_keys.insert(archive_key(m));
    if (m.message_id && seen.count(archive_key(m)) != 0) continue;  // handed out already
    if (!m.ephemeral) {
      if (!lines.empty()) lines.push_back('\n');
      lines += codec::archive_line(ArchiveEntry{now, std::string(drained_by), std::string(sid), m});
    }
    fresh.push_back(std::move(m));
  }
  if (!lines.empty()) C2C_TRY(files::append_line(archive_path(root, sid), lines));
  alock.reset();
  if (push_first) {
    lock.reset();
    if (!fresh.empty()) handed_out(fresh);
    remove_handed_out(root, sid, std::move(taken_keys));
  } else {
    C2C_TRY(write_inbox(root, sid, kept));
    // The inbox is consistent again: a connector delivering meanwhile need not wait for receipts.
    lock.reset();
    if (handed_out && !fresh.empty()) handed_out(fresh);
  }
  record_read(root, fresh, drained_by, now);
  return fresh;
}

ReceiptEvent make_event(const std::string& id, ReceiptState state, std::string recipient, double ts,
                        std::string via, std::string from = {}) {
  ReceiptEvent e;
  e.message_id = id;
  e.state = state;
  e.recipient = std::move(recipient);
  e.ts = ts;
  e.via = std::move(via);
  e.from_alias = std::move(from);
  return e;
}

// What identifies a queued message for an acknowledgement: its id, or (older writers' messages
// have none) its whole record.
std::string ack_key(const Message& m) {
  return m.message_id ? "id:" + *m.message_id : "m:" + codec::message_json(m);
}

}  // namespace

Result<SendReceipt> Broker::send(std::string_view from_alias, std::string_view to_alias,
                                 std::string_view content, const SendOptions& opts) {
  C2C_TRY(check_sender(from_alias));
  auto prefix = tag_prefix(opts.tag);
  if (!prefix) return fail(prefix.error());
  C2C_TRY(check_content(content, prefix->size()));
  if (to_alias.empty()) return fail(ErrorCode::kBadRequest, "missing recipient alias");
  if (iequals(from_alias, to_alias)) {
    return fail(ErrorCode::kBadRequest,
                "cannot send a message to yourself (" + std::string(from_alias) + ")");
  }
  SendReceipt receipt;
  receipt.from_alias = std::string(from_alias);
  receipt.to_alias = std::string(to_alias);
  receipt.message_id = new_uuid_v4();
  receipt.ts = clock_.now();

  const auto at = to_alias.find('@');
  if (at != std::string_view::npos) {
    const auto alias = to_alias.substr(0, at);
    const auto host = to_alias.substr(at + 1);
    if (!is_valid_alias(alias) || host.empty() || host.find('@') != std::string_view::npos) {
      return fail(ErrorCode::kInvalidAlias,
                  "invalid remote address '" + std::string(to_alias) + "' (expected alias@host)");
    }
    OutboxEntry entry;
    entry.from_alias = receipt.from_alias;
    entry.to_alias = receipt.to_alias;
    entry.content = *prefix + std::string(content);
    entry.message_id = receipt.message_id;
    entry.enqueued_at = receipt.ts;
    // Records the `accepted` receipt too.
    C2C_TRY(append_outbox(entry));
    receipt.remote = true;
    return receipt;
  }

  C2C_TRY(ensure_root(root_));
  auto locked = lock_registry(root_, *cache_, FileLock::Mode::kShared);
  if (!locked) return fail(locked.error());
  auto resolved = resolve_alias(*locked->snap, to_alias);
  if (!resolved) return fail(resolved.error());
  const auto& res = *resolved;
  if (res.kind == Resolve::kUnknown) return unknown_alias(to_alias);
  if (res.kind == Resolve::kAllDead) {
    return fail(ErrorCode::kRecipientDead, "recipient is not alive: " + std::string(to_alias));
  }
  Message m;
  m.from_alias = receipt.from_alias;
  m.to_alias = receipt.to_alias;
  m.content = *prefix + std::string(content);
  m.ts = receipt.ts;
  m.deferrable = opts.deferrable;
  m.ephemeral = opts.ephemeral;
  m.message_id = receipt.message_id;
  C2C_TRY(append_to_inbox(root_, res.reg->session_id, {m}));
  // Best effort: the message is in the inbox; an error now would invite a duplicate resend.
  (void)detail::record_receipts(
      root_,
      {make_event(receipt.message_id, ReceiptState::kAccepted, m.to_alias, receipt.ts, "local",
                  receipt.from_alias),
       make_event(receipt.message_id, ReceiptState::kDelivered, m.to_alias, receipt.ts, "local")});
  return receipt;
}

Result<BroadcastResult> Broker::send_all(std::string_view from_alias, std::string_view content,
                                         const std::vector<std::string>& exclude,
                                         const SendOptions& opts) {
  C2C_TRY(check_sender(from_alias));
  auto prefix = tag_prefix(opts.tag);
  if (!prefix) return fail(prefix.error());
  C2C_TRY(check_content(content, prefix->size()));
  BroadcastResult out;
  C2C_TRY(ensure_root(root_));
  auto locked = lock_registry(root_, *cache_, FileLock::Mode::kShared);
  if (!locked) return fail(locked.error());
  auto all = locked->snap->all();
  if (!all) return fail(all.error());
  std::unordered_set<std::string> skip;
  skip.insert(casefold(from_alias));
  for (const auto& e : exclude) skip.insert(casefold(e));
  // Rows grouped by alias (case-insensitively) in registry order, in one pass: the first
  // live row of each alias receives, as a direct send would pick it.
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<const Registration*>> by_alias;
  for (const auto& r : **all) {
    std::string key = casefold(r.alias);
    if (skip.count(key) != 0) continue;
    auto& rows = by_alias[key];
    if (rows.empty()) order.push_back(key);
    rows.push_back(&r);
  }
  for (const auto& key : order) {
    const Registration* target = nullptr;
    for (const Registration* r : by_alias[key]) {
      if (maybe_alive(*r)) {
        target = r;
        break;
      }
    }
    if (target == nullptr) {
      out.skipped.emplace_back(by_alias[key].front()->alias, "not_alive");
      continue;
    }
    Message m;
    m.from_alias = std::string(from_alias);
    m.to_alias = target->alias;
    m.content = *prefix + std::string(content);
    m.ts = clock_.now();
    m.deferrable = opts.deferrable;
    m.ephemeral = opts.ephemeral;
    m.message_id = new_uuid_v4();
    C2C_TRY(append_to_inbox(root_, target->session_id, {m}));
    (void)detail::record_receipts(
        root_, {make_event(*m.message_id, ReceiptState::kAccepted, m.to_alias, m.ts, "local",
                           m.from_alias),
                make_event(*m.message_id, ReceiptState::kDelivered, m.to_alias, m.ts, "local")});
    out.sent_to.push_back(target->alias);
    out.message_ids.push_back(*m.message_id);
  }
  return out;
}

Result<std::vector<Message>> Broker::poll(std::string_view session_id,
                                          std::string_view drained_by) {
  return drain(root_, clock_, session_id, drained_by, [](const Message&) { return true; });
}

Result<size_t> Broker::acknowledge(std::string_view session_id,
                                   const std::vector<Message>& messages,
                                   std::string_view drained_by) {
  std::unordered_map<std::string, size_t> wanted;
  for (const auto& m : messages) ++wanted[ack_key(m)];
  auto taken = drain(root_, clock_, session_id, drained_by, [&wanted](const Message& m) {
    const auto it = wanted.find(ack_key(m));
    if (it == wanted.end() || it->second == 0) return false;
    --it->second;  // two identical id-less messages need two acknowledgements
    return true;
  });
  if (!taken) return fail(taken.error());
  return taken->size();
}

Result<std::vector<Message>> Broker::drain_push(
    std::string_view session_id, const std::function<void(const std::vector<Message>&)>& push) {
  return drain(
      root_, clock_, session_id, "watcher", [](const Message& m) { return !m.deferrable; }, push);
}

Result<std::vector<Message>> Broker::peek(std::string_view session_id) {
  C2C_TRY(check_session_id(session_id));
  // The inbox file is only ever replaced atomically, so an unlocked read of it alone sees a
  // whole version; with a journal beside it, the two are read under the lock (shared with
  // other readers) so a compaction cannot slip between them.
  if (::access(inbox_journal_path(root_, session_id).c_str(), F_OK) != 0) {
    return read_inbox(root_, session_id);
  }
  auto lock = FileLock::acquire(inbox_lock(root_, session_id), FileLock::Mode::kShared);
  if (!lock) return fail(lock.error());
  return read_inbox(root_, session_id);
}

Result<std::vector<ArchiveEntry>> Broker::history(std::string_view session_id, size_t limit,
                                                  size_t* unreadable_lines) {
  C2C_TRY(check_session_id(session_id));
  C2C_TRY(check_root(root_));
  if (::access(archive_dir(root_).c_str(), F_OK) == 0) {
    C2C_TRY(files::ensure_private_dir(archive_dir(root_)));
  }
  auto raw = files::read_file(archive_path(root_, session_id));
  if (!raw) return fail(raw.error());
  std::vector<ArchiveEntry> out;
  if (!raw->has_value() || limit == 0) return out;
  const auto lines = files::lines_of(**raw);
  for (auto it = lines.rbegin(); it != lines.rend() && out.size() < limit; ++it) {
    auto j = codec::parse_object_line(*it);
    auto e = j ? codec::archive_from(*j) : Result<ArchiveEntry>(fail(j.error()));
    if (e) {
      out.push_back(std::move(*e));
    } else if (unreadable_lines != nullptr) {
      // A line torn by an older writer killed mid-append: skipped, and the caller says so.
      ++*unreadable_lines;
    }
  }
  return out;
}

Result<size_t> Broker::deliver(std::string_view session_id, const std::vector<Message>& messages) {
  C2C_TRY(check_session_id(session_id));
  // No size limit here: the relay already accepted these (its limit is configurable).
  for (const auto& m : messages) C2C_TRY(check_utf8(m.content));
  C2C_TRY(ensure_root(root_));
  auto registry = lock_registry(root_, *cache_, FileLock::Mode::kShared);
  if (!registry) return fail(registry.error());
  const RegistryView& view = *registry->snap;
  bool registered = false;
  for (size_t i = 0; i < view.size() && !registered; ++i) {
    registered = view.session_id(i) == session_id;
  }
  if (!registered) {
    return fail(ErrorCode::kNotFound,
                "session '" + std::string(session_id) + "' is not registered in this broker");
  }

  auto locked = FileLock::acquire(inbox_lock(root_, session_id));
  if (!locked) return fail(locked.error());
  std::optional<FileLock> lock(std::move(*locked));
  auto inbox = read_inbox(root_, session_id);
  if (!inbox) return fail(inbox.error());
  // (sender, id) pairs recently delivered to this session: a connector retry after the agent
  // already drained the message must not deliver it again. Keyed by sender as on the relay
  // (docs/decisions.md D19), so a stranger who used an id first cannot suppress the real
  // message; the sender is its bare alias (relay aliases are unique), so "alice" and
  // "alice@machine-a" are one sender. Records written before this rule are bare ids: they
  // match every sender until they age out.
  const auto dedup_key = [](const std::string& from, const std::string& id) {
    return casefold(from.substr(0, from.find('@'))) + '\x1f' + id;
  };
  std::vector<std::string> record;
  auto raw_record = files::read_file(delivered_path(root_, session_id));
  if (!raw_record) return fail(raw_record.error());
  if (raw_record->has_value()) {
    try {
      auto j = nlohmann::json::parse(**raw_record);
      if (j.is_array()) {
        for (const auto& id : j) {
          if (id.is_string()) record.push_back(id.get<std::string>());
        }
      }
    } catch (const nlohmann::json::exception&) {
      // A corrupt record only weakens dedup; it is rewritten below.
    }
  }
  std::unordered_set<std::string> known;
  std::unordered_set<std::string> any_sender;  // bare ids of older records
  for (const auto& r : record) (r.find('\x1f') == std::string::npos ? any_sender : known).insert(r);
  for (const auto& m : *inbox) {
    if (m.message_id) known.insert(dedup_key(m.from_alias, *m.message_id));
  }
  std::vector<Message> fresh;
  std::vector<ReceiptEvent> delivered;
  // One time for the whole group: its receipts then go back as one signed batch (the
  // connector batches runs of one sender, state and millisecond).
  const double now = clock_.now();
  for (Message m : messages) {
    if (!m.message_id || m.message_id->empty()) m.message_id = new_uuid_v4();
    const std::string key = dedup_key(m.from_alias, *m.message_id);
    if (any_sender.count(*m.message_id) != 0 || !known.insert(key).second) continue;
    if (m.ts == 0) m.ts = now;
    m.via_relay = true;
    record.push_back(key);
    delivered.push_back(make_event(*m.message_id, ReceiptState::kDelivered, m.to_alias, now,
                                   "connector", m.from_alias));
    fresh.push_back(std::move(m));
  }
  const size_t appended = fresh.size();
  if (appended == 0) return appended;
  C2C_TRY(append_locked(root_, session_id, fresh));
  // The delivered record is written under the inbox lock: a drain that took these messages
  // before it exists would let a second delivery of them through.
  if (record.size() > kDeliveredIdsKept) {
    record.erase(record.begin(), record.end() - static_cast<long>(kDeliveredIdsKept));
  }
  C2C_TRY(files::ensure_private_dir(delivered_dir(root_)));
  C2C_TRY(files::write_atomic(delivered_path(root_, session_id), codec::string_array_json(record)));
  // Receipts after the lock: the agent's push can drain the inbox meanwhile.
  lock.reset();
  // Best effort: the messages are in the inbox (see record_read).
  (void)detail::record_receipts(root_, delivered);
  std::vector<ReceiptOutboxEntry> remote;
  remote.reserve(delivered.size());
  for (const auto& e : delivered) {
    // Relay room copies ("alias#room") get none: their senders posted through the relay's room
    // route, so no broker holds an accepted record to attach them to.
    if (e.recipient.find('#') != std::string::npos) continue;
    remote.push_back(ReceiptOutboxEntry{e.message_id, ReceiptState::kDelivered, e.recipient,
                                        e.from_alias.substr(0, e.from_alias.find('@')), e.ts});
  }
  queue_remote_receipts(root_, remote);
  return appended;
}

}  // namespace c2c::broker
