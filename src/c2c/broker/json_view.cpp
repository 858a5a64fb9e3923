#include "c2c/broker/json_view.hpp"

namespace c2c::broker::json_view {

using nlohmann::json;

namespace {

// Registration::extra's canonical_alias, when a string.
void add_canonical_alias(json& j, const Registration& r) {
  if (const auto it = r.extra.find("canonical_alias"); it != r.extra.end() && it->is_string()) {
    j["canonical_alias"] = *it;
  }
}

template <typename T, typename F>
json array_of(const std::vector<T>& items, F&& each) {
  json out = json::array();
  for (const auto& item : items) out.push_back(each(item));
  return out;
}

// [(a, b)] -> [{first: a, second: b}].
json pairs(const std::vector<std::pair<std::string, std::string>>& ps, const char* first,
           const char* second) {
  return array_of(ps, [&](const auto& p) { return json{{first, p.first}, {second, p.second}}; });
}

}  // namespace

json liveness(Liveness l) {
  if (l == Liveness::kUnknown) return nullptr;
  return l == Liveness::kAlive;
}

json message(const Message& m, View v) {
  json j = {
      {"from_alias", m.from_alias}, {"to_alias", m.to_alias}, {"content", m.content}, {"ts", m.ts}};
  if (m.deferrable) j["deferrable"] = true;
  if (v == View::kAgent) {
    if (m.enc_status) j["enc_status"] = *m.enc_status;
    return j;
  }
  if (m.ephemeral) j["ephemeral"] = true;
  if (m.message_id) j["message_id"] = *m.message_id;
  if (m.room_id) j["room_id"] = *m.room_id;
  return j;
}

json messages(const std::vector<Message>& msgs, View v) {
  return array_of(msgs, [v](const Message& m) { return message(m, v); });
}

json archive_entry(const ArchiveEntry& e, View v) {
  if (v == View::kAgent) {
    return {{"drained_at", e.drained_at},
            {"from_alias", e.message.from_alias},
            {"to_alias", e.message.to_alias},
            {"content", e.message.content}};
  }
  json j = message(e.message, v);
  j["drained_at"] = e.drained_at;
  j["drained_by"] = e.drained_by;
  return j;
}

json peer(const Registration& r, Liveness l, View v) {
  json j = {{"session_id", r.session_id}, {"alias", r.alias}, {"alive", liveness(l)}};
  if (r.pid) j["pid"] = *r.pid;
  if (r.registered_at) j["registered_at"] = *r.registered_at;
  if (v == View::kAgent) {
    add_canonical_alias(j, r);
    return j;
  }
  if (!r.client_type.empty()) j["client_type"] = r.client_type;
  if (!r.role.empty()) j["role"] = r.role;
  return j;
}

json whoami(const std::string& session_id, const std::optional<Registration>& r, View v) {
  json j = {{"session_id", session_id}, {"alias", r ? r->alias : std::string()}};
  if (v == View::kAgent) {
    j["registered"] = r.has_value();
    if (r) add_canonical_alias(j, *r);
  }
  return j;
}

json registered(const RegisterResult& r, View v) {
  json j = {{"alias", r.registration.alias},
            {"session_id", r.registration.session_id},
            {"redelivered_dead_letters", r.redelivered_dead_letters}};
  if (v == View::kRecord) {
    j["evicted_sessions"] = r.evicted_sessions;
    j["migrated_messages"] = r.migrated_messages;
    if (r.registration.pid) j["pid"] = *r.registration.pid;
  }
  return j;
}

json sent(const SendReceipt& r, const SendOptions& opts, View v) {
  json j = {{"queued", true},
            {"ts", r.ts},
            {"from_alias", r.from_alias},
            {"to_alias", r.to_alias},
            {"message_id", r.message_id}};
  if (v == View::kRecord) {
    j["remote"] = r.remote;
    return j;
  }
  if (opts.deferrable) j["deferrable"] = true;
  // alias@host: queued for the relay connector rather than delivered to a local inbox.
  if (r.remote) j["remote"] = true;
  return j;
}

json broadcast(const BroadcastResult& r) {
  json skipped = pairs(r.skipped, "alias", "reason");
  json ids = json::object();
  for (size_t i = 0; i < r.sent_to.size() && i < r.message_ids.size(); ++i) {
    ids[r.sent_to[i]] = r.message_ids[i];
  }
  return {{"sent_to", r.sent_to}, {"skipped", std::move(skipped)}, {"message_ids", std::move(ids)}};
}

json swept(const SweepResult& r, View v) {
  json j = {{"dropped_regs", pairs(r.dropped, "session_id", "alias")},
            {"deleted_inboxes", r.deleted_inboxes},
            {"preserved_messages", r.preserved_messages},
            {"evicted_room_members", pairs(r.evicted_room_members, "room_id", "alias")}};
  if (v == View::kRecord) {
    j["removed_temp_files"] = r.removed_temp_files;
    j["pruned_receipts"] = r.pruned_receipts;
  }
  return j;
}

json member(const RoomMember& m) {
  return {{"alias", m.alias}, {"session_id", m.session_id}, {"joined_at", m.joined_at}};
}

json members(const std::vector<RoomMember>& ms) {
  return array_of(ms, member);
}

namespace {
json history_entry(const RoomHistoryEntry& e) {
  return {{"ts", e.ts}, {"from_alias", e.from_alias}, {"content", e.content}};
}
}  // namespace

json history(const std::vector<RoomHistoryEntry>& entries) {
  return array_of(entries, history_entry);
}

}  // namespace c2c::broker::json_view
