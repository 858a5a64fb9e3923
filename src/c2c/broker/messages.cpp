// Direct messages and inbox reads (docs/cli.md, docs/decisions.md D1/D7): FIFO inboxes,
// drains archived before the inbox is cleared, alias@host to the remote outbox.
#include <unistd.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "c2c/broker/codec.hpp"
#include "c2c/broker/internal.hpp"
#include "c2c/core/ids.hpp"
#include "c2c/core/text.hpp"

namespace c2c::broker {

namespace fs = std::filesystem;
using files::FileLock;

namespace detail {

Result<std::vector<Message>> read_inbox(const fs::path& root, std::string_view sid) {
  auto raw = files::read_file(inbox_path(root, sid));
  if (!raw) return fail(raw.error());
  if (!raw->has_value()) return std::vector<Message>();
  auto msgs = codec::parse_inbox(**raw);
  if (!msgs) {
    return fail(ErrorCode::kIo, inbox_path(root, sid).string() + ": " + msgs.error().message);
  }
  return msgs;
}

Result<void> write_inbox(const fs::path& root, std::string_view sid,
                         const std::vector<Message>& msgs) {
  std::string out = "[";
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += codec::message_json(msgs[i]);
  }
  out.push_back(']');
  return files::write_atomic(inbox_path(root, sid), out);
}

Result<void> append_to_inbox(const fs::path& root, std::string_view sid,
                             const std::vector<Message>& msgs) {
  auto lock = FileLock::acquire(inbox_lock(root, sid));
  if (!lock) return fail(lock.error());
  auto current = read_inbox(root, sid);
  if (!current) return fail(current.error());
  current->insert(current->end(), msgs.begin(), msgs.end());
  return write_inbox(root, sid, *current);
}

Result<void> check_content(std::string_view content) {
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

Unexpected unknown_alias(std::string_view to) {
  const std::string a(to);
  return fail(ErrorCode::kUnknownAlias,
              "unknown alias '" + a + "': no session is registered under it in this broker " +
                  "(to reach a peer on another machine, send to " + a + "@<host>)");
}

// Drains the inbox of `sid` (all messages, or only non-deferrable ones), archiving the
// drained non-ephemeral messages before the inbox is rewritten: if the archive append fails,
// the inbox is untouched.
Result<std::vector<Message>> drain(const fs::path& root, Clock& clock, std::string_view sid,
                                   std::string_view drained_by, bool include_deferrable) {
  C2C_TRY(check_session_id(sid));
  // No inbox file: nothing to drain, and no lock file to create in a root nobody wrote to.
  // (A message landing right after this check is picked up by the next drain.)
  if (::access(inbox_path(root, sid).c_str(), F_OK) != 0) return std::vector<Message>();
  auto lock = FileLock::acquire(inbox_lock(root, sid));
  if (!lock) return fail(lock.error());
  auto msgs = read_inbox(root, sid);
  if (!msgs) return fail(msgs.error());
  std::vector<Message> taken, kept;
  for (auto& m : *msgs) {
    if (include_deferrable || !m.deferrable) {
      taken.push_back(std::move(m));
    } else {
      kept.push_back(std::move(m));
    }
  }
  if (taken.empty()) return taken;  // no rewrite: keeps inotify watchers quiet
  std::string lines;
  const double now = clock.now();
  for (const auto& m : taken) {
    if (m.ephemeral) continue;
    if (!lines.empty()) lines.push_back('\n');
    lines += codec::archive_line(ArchiveEntry{now, std::string(drained_by), std::string(sid), m});
  }
  if (!lines.empty()) {
    C2C_TRY(files::ensure_dir(archive_dir(root), 0700));
    auto alock = FileLock::acquire(archive_lock(root, sid));
    if (!alock) return fail(alock.error());
    C2C_TRY(files::append_line(archive_path(root, sid), lines));
  }
  C2C_TRY(write_inbox(root, sid, kept));
  record_read(root, taken, drained_by, now);
  return taken;
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

}  // namespace

Result<SendReceipt> Broker::send(std::string_view from_alias, std::string_view to_alias,
                                 std::string_view content, const SendOptions& opts) {
  C2C_TRY(check_sender(from_alias));
  C2C_TRY(check_content(content));
  auto prefix = tag_prefix(opts.tag);
  if (!prefix) return fail(prefix.error());
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
    C2C_TRY(append_outbox(entry));
    receipt.remote = true;
    // Best effort from here on: the message is queued; an error now would invite a resend.
    (void)detail::record_receipts(
        root_, {make_event(receipt.message_id, ReceiptState::kAccepted, receipt.to_alias,
                           receipt.ts, "outbox", receipt.from_alias)});
    return receipt;
  }

  C2C_TRY(ensure_root(root_));
  // Shared registry lock: sends run in parallel with each other but never with a register or
  // sweep that could move the recipient's inbox under us.
  auto reg_lock = FileLock::acquire(registry_lock(root_), FileLock::Mode::kShared);
  if (!reg_lock) return fail(reg_lock.error());
  auto snap = load_registry(root_, *cache_);
  if (!snap) return fail(snap.error());
  auto resolved = resolve_alias(**snap, to_alias);
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
  C2C_TRY(check_content(content));
  auto prefix = tag_prefix(opts.tag);
  if (!prefix) return fail(prefix.error());
  BroadcastResult out;
  C2C_TRY(ensure_root(root_));
  auto reg_lock = FileLock::acquire(registry_lock(root_), FileLock::Mode::kShared);
  if (!reg_lock) return fail(reg_lock.error());
  auto snap = load_registry(root_, *cache_);
  if (!snap) return fail(snap.error());
  auto all = (*snap)->all();
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
  return drain(root_, clock_, session_id, drained_by, true);
}

Result<std::vector<Message>> Broker::drain_push(std::string_view session_id) {
  return drain(root_, clock_, session_id, "watcher", false);
}

Result<std::vector<Message>> Broker::peek(std::string_view session_id) {
  C2C_TRY(check_session_id(session_id));
  // Inboxes are only ever replaced atomically, so an unlocked read sees a whole version.
  return read_inbox(root_, session_id);
}

Result<std::vector<ArchiveEntry>> Broker::history(std::string_view session_id, size_t limit) {
  C2C_TRY(check_session_id(session_id));
  auto raw = files::read_file(archive_path(root_, session_id));
  if (!raw) return fail(raw.error());
  std::vector<ArchiveEntry> out;
  if (!raw->has_value() || limit == 0) return out;
  const auto lines = files::lines_of(**raw);
  for (auto it = lines.rbegin(); it != lines.rend() && out.size() < limit; ++it) {
    auto j = codec::parse_object_line(*it);
    if (!j) continue;  // a line torn by a killed writer is skipped, not fatal
    auto e = codec::archive_from(*j);
    if (e) out.push_back(std::move(*e));
  }
  return out;
}

Result<size_t> Broker::deliver(std::string_view session_id, const std::vector<Message>& messages) {
  C2C_TRY(check_session_id(session_id));
  for (const auto& m : messages) C2C_TRY(check_content(m.content));
  C2C_TRY(ensure_root(root_));
  auto reg_lock = FileLock::acquire(registry_lock(root_), FileLock::Mode::kShared);
  if (!reg_lock) return fail(reg_lock.error());
  auto snap = load_registry(root_, *cache_);
  if (!snap) return fail(snap.error());
  bool registered = false;
  for (size_t i = 0; i < (*snap)->size() && !registered; ++i) {
    registered = (*snap)->session_id(i) == session_id;
  }
  if (!registered) {
    return fail(ErrorCode::kNotFound,
                "session '" + std::string(session_id) + "' is not registered in this broker");
  }

  auto lock = FileLock::acquire(inbox_lock(root_, session_id));
  if (!lock) return fail(lock.error());
  auto inbox = read_inbox(root_, session_id);
  if (!inbox) return fail(inbox.error());
  // Ids recently delivered to this session: a connector retry after the agent already
  // drained the message must not deliver it again.
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
  std::unordered_set<std::string> known(record.begin(), record.end());
  for (const auto& m : *inbox) {
    if (m.message_id) known.insert(*m.message_id);
  }
  size_t appended = 0;
  std::vector<ReceiptEvent> delivered;
  for (Message m : messages) {
    if (!m.message_id || m.message_id->empty()) m.message_id = new_uuid_v4();
    if (!known.insert(*m.message_id).second) continue;
    if (m.ts == 0) m.ts = clock_.now();
    m.via_relay = true;
    record.push_back(*m.message_id);
    delivered.push_back(make_event(*m.message_id, ReceiptState::kDelivered, m.to_alias,
                                   clock_.now(), "connector", m.from_alias));
    inbox->push_back(std::move(m));
    ++appended;
  }
  if (appended == 0) return appended;
  C2C_TRY(write_inbox(root_, session_id, *inbox));
  // Best effort: the messages are in the inbox (see record_read).
  (void)detail::record_receipts(root_, delivered);
  std::vector<ReceiptOutboxEntry> remote;
  remote.reserve(delivered.size());
  for (const auto& e : delivered) {
    remote.push_back(ReceiptOutboxEntry{e.message_id, ReceiptState::kDelivered, e.recipient,
                                        e.from_alias.substr(0, e.from_alias.find('@')), e.ts});
  }
  queue_remote_receipts(root_, remote);
  if (record.size() > kDeliveredIdsKept) {
    record.erase(record.begin(), record.end() - static_cast<long>(kDeliveredIdsKept));
  }
  C2C_TRY(files::ensure_dir(delivered_dir(root_), 0700));
  C2C_TRY(files::write_atomic(delivered_path(root_, session_id), codec::string_array_json(record)));
  return appended;
}

}  // namespace c2c::broker
