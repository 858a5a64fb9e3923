// Registrations: the registry file, liveness, alias resolution and register (docs/cli.md Peers).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "c2c/broker/codec.hpp"
#include "c2c/broker/internal.hpp"
#include "c2c/core/text.hpp"

namespace c2c::broker {

namespace fs = std::filesystem;
using files::FileLock;

namespace detail {

namespace {

Result<RegistrySnapshot> make_view(std::string text) {
  auto index = std::make_unique<codec::RegistryIndex>();
  index->raw = std::move(text);
  C2C_TRY(codec::index_registry(*index));
  return std::make_shared<const RegistryView>(std::move(index));
}

}  // namespace

Result<Registration> RegistryView::row(size_t i) const {
  const auto& r = index_->rows[i];
  return codec::parse_registration(std::string_view(index_->raw).substr(r.begin, r.end - r.begin));
}

Result<std::shared_ptr<const std::vector<Registration>>> RegistryView::all() const {
  std::lock_guard guard(mu_);
  if (!all_) {
    auto rows = codec::parse_registry(index_->raw);
    if (!rows) return fail(rows.error());
    all_ = std::make_shared<const std::vector<Registration>>(std::move(*rows));
  }
  return all_;
}

Result<RegistrySnapshot> load_registry(const fs::path& root, RegistryCache& cache) {
  C2C_TRY(check_root(root));
  const fs::path path = registry_path(root);
  {
    std::lock_guard guard(cache.mu);
    if (cache.view && cache.pin && cache.pin->still_at(path)) return cache.view;
  }
  auto read = files::read_pinned(path);
  if (!read) return fail(read.error());
  std::string text = *read ? std::move((*read)->data) : std::string();
  std::optional<files::PinnedFile> pin;
  if (*read) pin.emplace(std::move((*read)->pin));
  std::lock_guard guard(cache.mu);
  if (!cache.view || cache.view->raw() != text) {
    auto view = make_view(std::move(text));
    if (!view) return view;
    cache.view = *view;
  }
  cache.pin = std::move(pin);
  return cache.view;
}

Result<void> save_registry(const fs::path& root, RegistryCache& cache,
                           const std::vector<Registration>& rows) {
  std::string text = codec::registry_json(rows);
  C2C_TRY(files::write_atomic(registry_path(root), text));
  auto view = make_view(std::move(text));
  if (!view) return fail(view.error());
  std::lock_guard guard(cache.mu);
  cache.view = *view;
  cache.pin.reset();  // the next load reads the new inode once and pins it
  return {};
}

Result<LockedRegistry> lock_registry(const fs::path& root, RegistryCache& cache,
                                     FileLock::Mode mode) {
  auto lock = FileLock::acquire(registry_lock(root), mode);
  if (!lock) return fail(lock.error());
  auto snap = load_registry(root, cache);
  if (!snap) return fail(snap.error());
  return LockedRegistry{std::move(*lock), std::move(*snap)};
}

Liveness liveness_of(const Registration& reg) {
  if (!reg.pid) return Liveness::kUnknown;
  const std::string proc = "/proc/" + std::to_string(*reg.pid);
  if (::access(proc.c_str(), F_OK) != 0) return Liveness::kDead;
  if (!reg.pid_start_time) return Liveness::kUnknown;
  const auto now = proc_start_time(*reg.pid);
  return now && *now == *reg.pid_start_time ? Liveness::kAlive : Liveness::kDead;
}

Result<Resolution> resolve_alias(const RegistryView& view, std::string_view alias) {
  Resolution res;
  for (size_t i = 0; i < view.size(); ++i) {
    if (!iequals(view.alias(i), alias)) continue;
    auto reg = view.row(i);
    if (!reg) return fail(reg.error());
    if (maybe_alive(*reg)) {
      res.kind = Resolve::kFound;
      res.reg = std::move(*reg);
      return res;
    }
    res.kind = Resolve::kAllDead;
  }
  return res;
}

Result<std::optional<Registration>> find_session_row(const RegistryView& view,
                                                     std::string_view session_id) {
  for (size_t i = 0; i < view.size(); ++i) {
    if (view.session_id(i) != session_id) continue;
    auto reg = view.row(i);
    if (!reg) return fail(reg.error());
    return std::optional<Registration>(std::move(*reg));
  }
  return std::optional<Registration>();
}

Result<void> check_session_id(std::string_view sid) {
  if (!is_safe_file_component(sid)) {
    return fail(ErrorCode::kBadRequest,
                "invalid session id '" + std::string(sid) + "' (1-128 chars of [A-Za-z0-9._:-])");
  }
  return {};
}

Result<void> ensure_root(const fs::path& root) {
  return files::ensure_private_dir(root, /*follow_link=*/true);
}

Result<void> check_root(const fs::path& root) {
  struct stat st {};
  if (::lstat(root.c_str(), &st) != 0 && errno == ENOENT) return {};  // nothing stored yet
  return files::ensure_private_dir(root, /*follow_link=*/true);
}

}  // namespace detail

using namespace detail;

Broker::Broker(fs::path root, Clock& clock)
    : root_(std::move(root)), clock_(clock), cache_(std::make_shared<RegistryCache>()) {}

Liveness Broker::liveness(const Registration& reg) const {
  return liveness_of(reg);
}

Result<std::vector<Registration>> Broker::registrations() {
  auto snap = load_registry(root_, *cache_);
  if (!snap) return fail(snap.error());
  auto rows = (*snap)->all();
  if (!rows) return fail(rows.error());
  return **rows;
}

Result<std::optional<Registration>> Broker::find_session(std::string_view session_id) {
  auto snap = load_registry(root_, *cache_);
  if (!snap) return fail(snap.error());
  return find_session_row(**snap, session_id);
}

Result<std::optional<Registration>> Broker::find_alias(std::string_view alias) {
  auto snap = load_registry(root_, *cache_);
  if (!snap) return fail(snap.error());
  auto res = resolve_alias(**snap, alias);
  if (!res) return fail(res.error());
  if (res->kind == Resolve::kFound) return std::optional<Registration>(std::move(*res->reg));
  for (size_t i = 0; i < (*snap)->size(); ++i) {
    if (!iequals((*snap)->alias(i), alias)) continue;
    auto reg = (*snap)->row(i);
    if (!reg) return fail(reg.error());
    return std::optional<Registration>(std::move(*reg));
  }
  return std::optional<Registration>();
}

namespace {

bool held_by_live_other(const std::vector<Registration>& rows, std::string_view alias,
                        std::string_view session_id) {
  for (const auto& r : rows) {
    if (r.session_id != session_id && iequals(r.alias, alias) && r.pid && maybe_alive(r)) {
      return true;
    }
  }
  return false;
}

// docs/cli.md (register): casefolded base + "-p" for p in 2,3,5,7,11; first not held by a live row.
std::optional<std::string> suggest_alias(const std::vector<Registration>& rows,
                                         std::string_view alias, std::string_view session_id) {
  for (int p : {2, 3, 5, 7, 11}) {
    const std::string suffix = "-" + std::to_string(p);
    std::string base = casefold(alias);
    if (base.size() + suffix.size() > 64) base.resize(64 - suffix.size());
    std::string candidate = base + suffix;
    if (!held_by_live_other(rows, candidate, session_id)) return candidate;
  }
  return std::nullopt;
}

// Removes from `sid`'s inbox the messages in `moved` (matched by their encoding), deleting
// the file once empty. Caller holds the registry lock, so nothing new lands there meanwhile.
Result<void> remove_moved(const fs::path& root, const std::string& sid,
                          const std::vector<Message>& moved) {
  auto lock = FileLock::acquire(inbox_lock(root, sid));
  if (!lock) return fail(lock.error());
  auto current = read_inbox(root, sid);
  if (!current) return fail(current.error());
  std::multiset<std::string> gone;
  for (const auto& m : moved) gone.insert(codec::message_json(m));
  std::vector<Message> keep;
  for (auto& m : *current) {
    auto it = gone.find(codec::message_json(m));
    if (it != gone.end()) {
      gone.erase(it);
    } else {
      keep.push_back(std::move(m));
    }
  }
  if (keep.empty()) return remove_inbox(root, sid);
  return write_inbox(root, sid, keep);
}

}  // namespace

Result<RegisterResult> Broker::register_session(const RegisterRequest& req) {
  C2C_TRY(check_session_id(req.session_id));
  if (is_reserved_alias(req.alias)) {
    return fail(ErrorCode::kReservedAlias,
                "register rejected: '" + req.alias + "' is a reserved system alias");
  }
  if (!is_valid_alias(req.alias)) {
    return fail(ErrorCode::kInvalidAlias, "register rejected: invalid alias '" + req.alias +
                                              "'. Allowed chars: [A-Za-z0-9._-], 1..64, no "
                                              "leading dot.");
  }
  C2C_TRY(ensure_root(root_));
  auto locked = lock_registry(root_, *cache_, FileLock::Mode::kExclusive);
  if (!locked) return fail(locked.error());
  auto all = locked->snap->all();
  if (!all) return fail(all.error());
  const auto& rows = **all;

  if (req.guard_alias) {
    for (const auto& r : rows) {
      if (r.session_id == req.session_id || !iequals(r.alias, req.alias) || !r.pid ||
          !maybe_alive(r)) {
        continue;
      }
      auto suggestion = suggest_alias(rows, req.alias, req.session_id);
      std::string msg = "register rejected: alias '" + req.alias +
                        "' is currently held by an alive session '" + r.session_id + "'.";
      if (suggestion) {
        msg += " Suggested free alias: '" + *suggestion + "'.";
      } else {
        msg += " No free variant of it was found; pick another alias.";
      }
      return fail(ErrorCode::kAliasConflict, msg);
    }
  }

  RegisterResult result;
  Registration row;
  const Registration* previous = nullptr;
  for (const auto& r : rows) {
    if (r.session_id == req.session_id) {
      previous = &r;
      break;
    }
  }
  if (previous != nullptr) row = *previous;  // keeps confirmed_at, role, unknown keys
  row.session_id = req.session_id;
  row.alias = req.alias;
  row.pid = req.pid;
  row.pid_start_time.reset();
  if (req.pid) row.pid_start_time = proc_start_time(*req.pid);
  row.registered_at = clock_.now();
  if (!req.client_type.empty()) row.client_type = req.client_type;
  if (!req.role.empty()) row.role = req.role;

  std::vector<Registration> next;
  next.reserve(rows.size() + 1);
  next.push_back(row);
  for (const auto& r : rows) {
    if (r.session_id == req.session_id) continue;
    if (iequals(r.alias, req.alias)) {
      result.evicted_sessions.push_back(r.session_id);
      continue;
    }
    next.push_back(r);
  }
  C2C_TRY(save_registry(root_, *cache_, next));
  result.registration = row;

  // Messages follow the alias: an evicted session's queue moves to the new session. Copy
  // first, remove from the old inbox second, so a crash in between duplicates, never loses.
  for (const auto& old_sid : result.evicted_sessions) {
    if (!is_safe_file_component(old_sid)) continue;
    std::vector<Message> moved;
    {
      auto lock = FileLock::acquire(inbox_lock(root_, old_sid));
      if (!lock) return fail(lock.error());
      auto msgs = read_inbox(root_, old_sid);
      if (!msgs) return fail(msgs.error());
      moved = std::move(*msgs);
    }
    if (moved.empty()) continue;
    C2C_TRY(append_to_inbox(root_, req.session_id, moved));
    C2C_TRY(remove_moved(root_, old_sid, moved));
    result.migrated_messages += moved.size();
  }

  auto redelivered = redeliver_dead_letters(root_, req.session_id, req.alias, clock_);
  if (!redelivered) return fail(redelivered.error());
  result.redelivered_dead_letters = *redelivered;
  return result;
}

}  // namespace c2c::broker
