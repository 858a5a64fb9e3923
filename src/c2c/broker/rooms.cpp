// Local rooms (docs/protocol.md §6, docs/cli.md Rooms): members.json + meta.json under the room's
// members lock, history.jsonl under its history lock, fan-out into each member's inbox with
// to_alias "<member>#<room>". The members lock is never held while taking the registry lock.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "c2c/broker/codec.hpp"
#include "c2c/broker/internal.hpp"
#include "c2c/core/ids.hpp"
#include "c2c/core/text.hpp"

namespace c2c::broker {

namespace fs = std::filesystem;
using files::FileLock;
using namespace detail;

namespace {

constexpr const char* kSystemAlias = "c2c-system";
constexpr size_t kMaxJoinHistory = 200;
constexpr size_t kDedupLines = 20;
constexpr double kDedupWindow = 60.0;

fs::path members_path(const fs::path& root, std::string_view room) {
  return room_dir(root, room) / "members.json";
}
fs::path members_lock(const fs::path& root, std::string_view room) {
  return room_dir(root, room) / "members.lock";
}
fs::path history_path(const fs::path& root, std::string_view room) {
  return room_dir(root, room) / "history.jsonl";
}
fs::path history_lock(const fs::path& root, std::string_view room) {
  return room_dir(root, room) / "history.lock";
}
fs::path meta_path(const fs::path& root, std::string_view room) {
  return room_dir(root, room) / "meta.json";
}

Result<void> check_room(std::string_view room) {
  if (!is_valid_room_id(room)) {
    return fail(ErrorCode::kInvalidRoom,
                "invalid room_id: '" + std::string(room) + "' (1-64 chars of [A-Za-z0-9_-])");
  }
  return {};
}

// rooms/ and a room's directory follow the root's rule (files::ensure_private_dir): real
// directories of this user that nobody else can write. Missing ones are fine for readers.
Result<void> check_room_dirs(const fs::path& root, std::string_view room) {
  C2C_TRY(check_root(root));
  std::vector<fs::path> dirs{rooms_dir(root)};
  if (!room.empty()) dirs.push_back(room_dir(root, room));
  for (const auto& dir : dirs) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) return {};  // missing: nothing below it either
    C2C_TRY(files::ensure_private_dir(dir));
  }
  return {};
}

bool room_exists(const fs::path& root, std::string_view room) {
  std::error_code ec;
  return fs::is_directory(room_dir(root, room), ec);
}

Unexpected<> no_such_room(std::string_view room) {
  return fail(ErrorCode::kNotFound, "no such room '" + std::string(room) +
                                        "' (create it by joining: c2c rooms join " +
                                        std::string(room) + ")");
}

Result<std::vector<RoomMember>> read_members(const fs::path& root, std::string_view room) {
  auto raw = files::read_file(members_path(root, room));
  if (!raw) return fail(raw.error());
  if (!raw->has_value()) return std::vector<RoomMember>();
  return codec::parse_members(**raw);
}

Result<RoomMeta> read_meta(const fs::path& root, std::string_view room) {
  auto raw = files::read_file(meta_path(root, room));
  if (!raw) return fail(raw.error());
  if (!raw->has_value()) return RoomMeta{};
  return codec::parse_meta(**raw);
}

bool is_member(const std::vector<RoomMember>& members, std::string_view alias) {
  return std::any_of(members.begin(), members.end(),
                     [&](const RoomMember& m) { return iequals(m.alias, alias); });
}

std::vector<RoomHistoryEntry> parse_history(std::string_view text) {
  std::vector<RoomHistoryEntry> out;
  for (auto line : files::lines_of(text)) {
    auto j = codec::parse_object_line(line);
    if (!j) continue;  // a torn line from a killed writer
    auto e = codec::room_history_from(*j);
    if (e) out.push_back(std::move(*e));
  }
  return out;
}

Result<std::vector<RoomHistoryEntry>> read_history(const fs::path& root, std::string_view room) {
  auto raw = files::read_file(history_path(root, room));
  if (!raw) return fail(raw.error());
  if (!raw->has_value()) return std::vector<RoomHistoryEntry>();
  return parse_history(**raw);
}

Result<void> append_history(const fs::path& root, std::string_view room,
                            const RoomHistoryEntry& e) {
  auto lock = FileLock::acquire(history_lock(root, room));
  if (!lock) return fail(lock.error());
  return files::append_line(history_path(root, room), codec::room_history_line(e));
}

// The member's registration by session, else by alias; none = dead (docs/mcp.md).
Result<Liveness> member_liveness(const RegistryView& view, const RoomMember& m) {
  auto by_session = find_session_row(view, m.session_id);
  if (!by_session) return fail(by_session.error());
  if (*by_session) return liveness_of(**by_session);
  for (size_t i = 0; i < view.size(); ++i) {
    if (!iequals(view.alias(i), m.alias)) continue;
    auto reg = view.row(i);
    if (!reg) return fail(reg.error());
    return liveness_of(*reg);
  }
  return Liveness::kDead;
}

}  // namespace

namespace detail {

Result<std::vector<std::string>> evict_room_members(
    const fs::path& root, std::string_view room,
    const std::function<bool(const RoomMember&)>& pred) {
  std::vector<std::string> evicted;
  auto lock = FileLock::acquire(members_lock(root, room));
  if (!lock) return fail(lock.error());
  auto members = read_members(root, room);
  if (!members) return fail(members.error());
  std::vector<RoomMember> keep;
  for (auto& m : *members) {
    if (pred(m)) {
      evicted.push_back(m.alias);
    } else {
      keep.push_back(std::move(m));
    }
  }
  if (!evicted.empty()) {
    C2C_TRY(files::write_atomic(members_path(root, room), codec::members_json(keep)));
  }
  return evicted;
}

}  // namespace detail

namespace {

struct FanOut {
  std::vector<std::string> delivered;
  std::vector<std::string> skipped;
  std::string message_id;  // shared by every member's copy
};

// Appends `content` to the inbox of every member except `skip_alias`, addressed
// "<member>#<room>". Registry shared lock -> each inbox lock, one at a time.
Result<FanOut> fan_out(const fs::path& root, RegistryCache& cache, Clock& clock,
                       std::string_view room, const std::vector<RoomMember>& members,
                       std::string_view from, const std::string& content,
                       std::string_view skip_alias) {
  FanOut out;
  out.message_id = new_uuid_v4();
  std::vector<ReceiptEvent> receipts;
  auto locked = lock_registry(root, cache, FileLock::Mode::kShared);
  if (!locked) return fail(locked.error());
  for (const auto& member : members) {
    if (!skip_alias.empty() && iequals(member.alias, skip_alias)) continue;
    auto resolved = resolve_alias(*locked->snap, member.alias);
    if (!resolved) return fail(resolved.error());
    const auto& res = *resolved;
    if (res.kind != Resolve::kFound) {
      out.skipped.push_back(member.alias);
      continue;
    }
    Message m;
    m.from_alias = std::string(from);
    m.to_alias = member.alias + "#" + std::string(room);
    m.content = content;
    m.ts = clock.now();
    m.message_id = out.message_id;
    C2C_TRY(append_to_inbox(root, res.reg->session_id, {m}));
    out.delivered.push_back(member.alias);
    for (auto state : {ReceiptState::kAccepted, ReceiptState::kDelivered}) {
      ReceiptEvent e;
      e.message_id = out.message_id;
      e.state = state;
      e.recipient = m.to_alias;
      e.ts = m.ts;
      e.via = "local";
      e.from_alias = m.from_alias;
      receipts.push_back(std::move(e));
    }
  }
  // Best effort: every copy is in its inbox already.
  (void)record_receipts(root, receipts);
  return out;
}

// A c2c-system notice: history line + delivery to every member.
Result<void> post_notice(const fs::path& root, RegistryCache& cache, Clock& clock,
                         std::string_view room, const std::string& text) {
  C2C_TRY(append_history(root, room, RoomHistoryEntry{clock.now(), kSystemAlias, text}));
  auto members = read_members(root, room);
  if (!members) return fail(members.error());
  auto sent = fan_out(root, cache, clock, room, *members, kSystemAlias, text, "");
  if (!sent) return fail(sent.error());
  return {};
}

}  // namespace

Result<JoinResult> Broker::join_room(std::string_view room_id, std::string_view alias,
                                     std::string_view session_id, size_t history_limit) {
  C2C_TRY(check_room(room_id));
  if (is_reserved_alias(alias)) {
    return fail(ErrorCode::kReservedAlias, "'" + std::string(alias) + "' is a reserved alias");
  }
  if (!is_valid_alias(alias)) {
    return fail(ErrorCode::kInvalidAlias, "invalid alias '" + std::string(alias) + "'");
  }
  C2C_TRY(check_session_id(session_id));
  C2C_TRY(ensure_root(root_));
  C2C_TRY(files::ensure_private_dir(rooms_dir(root_)));
  C2C_TRY(files::ensure_private_dir(room_dir(root_, room_id)));
  JoinResult out;
  out.room_id = std::string(room_id);
  {
    auto lock = FileLock::acquire(members_lock(root_, room_id));
    if (!lock) return fail(lock.error());
    auto members = read_members(root_, room_id);
    if (!members) return fail(members.error());
    auto meta = read_meta(root_, room_id);
    if (!meta) return fail(meta.error());
    auto match = std::find_if(members->begin(), members->end(), [&](const RoomMember& m) {
      return iequals(m.alias, alias) || m.session_id == session_id;
    });
    const bool member_before = match != members->end();
    if (meta->visibility == "invite_only" && !member_before &&
        std::none_of(meta->invited_members.begin(), meta->invited_members.end(),
                     [&](const std::string& a) { return iequals(a, alias); })) {
      return fail(ErrorCode::kNotInvited, "join_room rejected: room '" + std::string(room_id) +
                                              "' is invite-only and '" + std::string(alias) +
                                              "' is not on the invite list");
    }
    bool changed = false;
    if (!member_before) {
      members->push_back(RoomMember{std::string(alias), std::string(session_id), clock_.now()});
      changed = true;
    } else if (match->alias != alias || match->session_id != session_id) {
      // Same agent under a new session (restart) or a renamed alias: update in place, keep
      // joined_at, and drop any later row that matches either key.
      match->alias = std::string(alias);
      match->session_id = std::string(session_id);
      const auto first = match - members->begin();
      for (auto i = members->size(); i-- > static_cast<size_t>(first) + 1;) {
        auto& m = (*members)[i];
        if (iequals(m.alias, alias) || m.session_id == session_id) {
          members->erase(members->begin() + static_cast<long>(i));
        }
      }
      changed = true;
    }
    if (changed) {
      C2C_TRY(files::write_atomic(members_path(root_, room_id), codec::members_json(*members)));
    }
    if (meta->created_by.empty()) {
      meta->created_by = casefold(alias);
      C2C_TRY(files::write_atomic(meta_path(root_, room_id), codec::meta_json(*meta)));
    }
    out.members = *members;
    out.joined_now = !member_before;
  }
  if (out.joined_now) {
    C2C_TRY(post_notice(root_, *cache_, clock_, room_id,
                        std::string(alias) + " joined room " + std::string(room_id)));
  }
  auto history = read_history(root_, room_id);
  if (!history) return fail(history.error());
  const size_t limit = std::min(history_limit, kMaxJoinHistory);
  const size_t skip = history->size() > limit ? history->size() - limit : 0;
  out.history.assign(history->begin() + static_cast<long>(skip), history->end());
  return out;
}

Result<std::vector<RoomMember>> Broker::leave_room(std::string_view room_id,
                                                   std::string_view alias) {
  C2C_TRY(check_room(room_id));
  C2C_TRY(check_room_dirs(root_, room_id));
  if (!room_exists(root_, room_id)) return no_such_room(room_id);
  auto evicted = evict_room_members(root_, room_id,
                                    [&](const RoomMember& m) { return iequals(m.alias, alias); });
  if (!evicted) return fail(evicted.error());
  if (evicted->empty()) {
    return fail(ErrorCode::kNotAMember, "'" + std::string(alias) + "' is not a member of room '" +
                                            std::string(room_id) + "'");
  }
  C2C_TRY(post_notice(root_, *cache_, clock_, room_id,
                      std::string(alias) + " left room " + std::string(room_id)));
  return read_members(root_, room_id);
}

Result<RoomSendResult> Broker::send_room(std::string_view room_id, std::string_view from_alias,
                                         std::string_view content, const SendOptions& opts) {
  C2C_TRY(check_room(room_id));
  C2C_TRY(check_room_dirs(root_, room_id));
  if (from_alias.empty()) return fail(ErrorCode::kBadRequest, "missing sender alias");
  if (is_reserved_alias(from_alias)) {
    return fail(ErrorCode::kReservedAlias, "send rejected: from_alias '" + std::string(from_alias) +
                                               "' is a reserved system alias");
  }
  auto prefix = tag_prefix(opts.tag);
  if (!prefix) return fail(prefix.error());
  C2C_TRY(check_content(content, prefix->size()));
  if (!room_exists(root_, room_id)) return no_such_room(room_id);
  auto members = read_members(root_, room_id);
  if (!members) return fail(members.error());
  auto meta = read_meta(root_, room_id);
  if (!meta) return fail(meta.error());
  if (meta->visibility == "invite_only" && !is_member(*members, from_alias)) {
    return fail(ErrorCode::kNotAMember, "room '" + std::string(room_id) + "' is invite-only and '" +
                                            std::string(from_alias) + "' is not a member");
  }
  RoomSendResult out;
  out.ts = clock_.now();
  {
    auto lock = FileLock::acquire(history_lock(root_, room_id));
    if (!lock) return fail(lock.error());
    // The same body from the same sender within a minute is a retry: not posted twice.
    auto tail = files::read_tail(history_path(root_, room_id), 64 * 1024);
    if (!tail) return fail(tail.error());
    if (tail->has_value()) {
      auto recent = parse_history(**tail);
      const size_t skip = recent.size() > kDedupLines ? recent.size() - kDedupLines : 0;
      for (size_t i = skip; i < recent.size(); ++i) {
        const auto& e = recent[i];
        if (e.from_alias == from_alias && e.content == content && out.ts - e.ts <= kDedupWindow) {
          return out;
        }
      }
    }
    C2C_TRY(files::append_line(history_path(root_, room_id),
                               codec::room_history_line(RoomHistoryEntry{
                                   out.ts, std::string(from_alias), std::string(content)})));
  }
  auto sent = fan_out(root_, *cache_, clock_, room_id, *members, from_alias,
                      *prefix + std::string(content), from_alias);
  if (!sent) return fail(sent.error());
  out.delivered_to = std::move(sent->delivered);
  out.skipped = std::move(sent->skipped);
  out.message_id = std::move(sent->message_id);
  return out;
}

Result<std::vector<RoomInfo>> Broker::list_rooms() {
  std::vector<RoomInfo> out;
  std::vector<std::string> names;
  std::error_code ec;
  C2C_TRY(check_room_dirs(root_, ""));
  for (const auto& entry : fs::directory_iterator(rooms_dir(root_), ec)) {
    const std::string name = entry.path().filename().string();
    if (is_valid_room_id(name) && entry.is_directory(ec)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    auto info = room(name);
    if (!info) return fail(info.error());
    if (*info) out.push_back(std::move(**info));
  }
  return out;
}

Result<std::optional<RoomInfo>> Broker::room(std::string_view room_id) {
  C2C_TRY(check_room(room_id));
  C2C_TRY(check_room_dirs(root_, room_id));
  if (!room_exists(root_, room_id)) return std::optional<RoomInfo>();
  auto snap = load_registry(root_, *cache_);
  if (!snap) return fail(snap.error());
  RoomInfo info;
  info.room_id = std::string(room_id);
  auto members = read_members(root_, room_id);
  if (!members) return fail(members.error());
  auto meta = read_meta(root_, room_id);
  if (!meta) return fail(meta.error());
  info.members = std::move(*members);
  info.meta = std::move(*meta);
  for (const auto& m : info.members) {
    auto l = member_liveness(**snap, m);
    if (!l) return fail(l.error());
    info.member_liveness.push_back(*l);
  }
  return std::optional<RoomInfo>(std::move(info));
}

Result<std::vector<RoomHistoryEntry>> Broker::room_history(std::string_view room_id, size_t limit,
                                                           std::optional<double> since,
                                                           std::string_view caller_alias) {
  C2C_TRY(check_room(room_id));
  C2C_TRY(check_room_dirs(root_, room_id));
  if (!room_exists(root_, room_id)) return std::vector<RoomHistoryEntry>();
  if (!caller_alias.empty()) {
    auto meta = read_meta(root_, room_id);
    if (!meta) return fail(meta.error());
    if (meta->visibility == "invite_only") {
      auto members = read_members(root_, room_id);
      if (!members) return fail(members.error());
      if (!is_member(*members, caller_alias)) {
        return fail(ErrorCode::kNotAMember, "not a member of " + std::string(room_id));
      }
    }
  }
  auto history = read_history(root_, room_id);
  if (!history) return fail(history.error());
  std::vector<RoomHistoryEntry> out;
  for (auto& e : *history) {
    if (!since || e.ts >= *since) out.push_back(std::move(e));
  }
  if (limit > 0 && out.size() > limit) out.erase(out.begin(), out.end() - static_cast<long>(limit));
  return out;
}

Result<void> Broker::invite(std::string_view room_id, std::string_view inviter,
                            std::string_view invitee) {
  C2C_TRY(check_room(room_id));
  C2C_TRY(check_room_dirs(root_, room_id));
  if (!is_valid_alias(invitee)) {
    return fail(ErrorCode::kInvalidAlias, "invalid alias '" + std::string(invitee) + "'");
  }
  if (!room_exists(root_, room_id)) return no_such_room(room_id);
  bool added = false;
  {
    auto lock = FileLock::acquire(members_lock(root_, room_id));
    if (!lock) return fail(lock.error());
    auto members = read_members(root_, room_id);
    if (!members) return fail(members.error());
    if (!is_member(*members, inviter)) {
      return fail(ErrorCode::kNotAMember, "only members can invite: '" + std::string(inviter) +
                                              "' is not a member of room '" + std::string(room_id) +
                                              "'");
    }
    auto meta = read_meta(root_, room_id);
    if (!meta) return fail(meta.error());
    auto& inv = meta->invited_members;
    if (std::none_of(inv.begin(), inv.end(), [&](const auto& a) { return iequals(a, invitee); })) {
      inv.emplace_back(invitee);
      C2C_TRY(files::write_atomic(meta_path(root_, room_id), codec::meta_json(*meta)));
      added = true;
    }
  }
  if (added && !iequals(inviter, invitee)) {
    // Best effort: the invitee may not be registered here yet; the invite still stands.
    const std::string r(room_id), from(inviter);
    auto sent = send(inviter, invitee,
                     "<c2c event=\"room-invite\" from=\"" + from + "\" room=\"" + r +
                         "\">You've been invited to room " + r + " by " + from +
                         ". Run `c2c rooms join " + r + "` to accept.</c2c>");
    if (!sent && sent.error().code != ErrorCode::kUnknownAlias &&
        sent.error().code != ErrorCode::kRecipientDead) {
      return fail(sent.error());
    }
  }
  return {};
}

Result<void> Broker::set_visibility(std::string_view room_id, std::string_view caller,
                                    std::string_view visibility) {
  C2C_TRY(check_room(room_id));
  C2C_TRY(check_room_dirs(root_, room_id));
  if (visibility != "public" && visibility != "invite_only") {
    return fail(ErrorCode::kBadRequest, "invalid visibility '" + std::string(visibility) +
                                            "' (expected public or invite_only)");
  }
  if (!room_exists(root_, room_id)) return no_such_room(room_id);
  auto lock = FileLock::acquire(members_lock(root_, room_id));
  if (!lock) return fail(lock.error());
  auto members = read_members(root_, room_id);
  if (!members) return fail(members.error());
  if (!is_member(*members, caller)) {
    return fail(ErrorCode::kNotAMember, "only members can change visibility: '" +
                                            std::string(caller) + "' is not a member of room '" +
                                            std::string(room_id) + "'");
  }
  auto meta = read_meta(root_, room_id);
  if (!meta) return fail(meta.error());
  meta->visibility = std::string(visibility);
  return files::write_atomic(meta_path(root_, room_id), codec::meta_json(*meta));
}

}  // namespace c2c::broker
