#include "c2c/relay/store/sqlite_apply.hpp"

#include <utility>
#include <variant>

namespace c2c::relay::sql {
namespace {

// Binds the seven StoredMessage columns starting at parameter `first`.
void bind_message(Stmt& s, int first, const StoredMessage& m) {
  s.bind(first, m.message_id)
      .bind(first + 1, m.from_alias)
      .bind(first + 2, m.to_alias)
      .bind(first + 3, m.content)
      .bind(first + 4, m.ts)
      .bind(first + 5, m.room_id)
      .bind(first + 6, m.envelope);
}

}  // namespace

Result<Applier> Applier::prepare(Db& db) {
  Applier a;
  const std::pair<Stmt*, const char*> statements[] = {
      // REPLACE deletes the alias' old row, so the new row gets the next seq: loading in seq
      // order reproduces the put order find_lease() relies on.
      {&a.put_lease_,
       "INSERT OR REPLACE INTO leases (alias, node_id, session_id, client_type, registered_at,"
       " last_seen, ttl, identity_pk, enc_pubkey, signed_at, sig_b64)"
       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"},
      // Aliases are unique case-insensitively: the NOCASE unique indexes (schema version 2) make
      // REPLACE drop a row spelled in another case, and deletes match any case.
      {&a.remove_lease_, "DELETE FROM leases WHERE alias = ?1 COLLATE NOCASE"},
      {&a.put_binding_, "INSERT OR REPLACE INTO bindings (alias, identity_pk) VALUES (?1, ?2)"},
      {&a.remove_binding_, "DELETE FROM bindings WHERE alias = ?1 COLLATE NOCASE"},
      // The row id is the message's seq (AUTOINCREMENT keeps the highest ever used in
      // sqlite_sequence, which is how a reopened store never hands out a seq twice).
      {&a.append_,
       "INSERT INTO inboxes (node_id, session_id, message_id, from_alias, to_alias, content, ts,"
       " room_id, envelope, id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
      {&a.remove_inbox_, "DELETE FROM inboxes WHERE node_id = ?1 AND session_id = ?2"},
      // The row of a message the memory store removed: its id is the message's seq.
      {&a.remove_seq_, "DELETE FROM inboxes WHERE id = ?1"},
      // Re-inserting (rather than re-keying) gives the moved rows the new seqs the memory store
      // chose (?5, ?5 + 1, ... in their original order): they land at the end of the
      // destination queue.
      {&a.copy_inbox_,
       "INSERT INTO inboxes (id, node_id, session_id, message_id, from_alias, to_alias, content,"
       " ts, room_id, envelope) SELECT ?5 + row_number() OVER (ORDER BY id) - 1, ?3, ?4,"
       " message_id, from_alias, to_alias, content, ts, room_id, envelope FROM inboxes"
       " WHERE node_id = ?1 AND session_id = ?2 ORDER BY id"},
      {&a.remove_through_,
       "DELETE FROM inboxes WHERE node_id = ?1 AND session_id = ?2 AND id <= ?3"},
      {&a.put_room_,
       "INSERT INTO rooms (room_id, visibility) VALUES (?1, ?2)"
       " ON CONFLICT (room_id) DO UPDATE SET visibility = excluded.visibility"},
      {&a.clear_invites_, "DELETE FROM room_invites WHERE room_id = ?1"},
      {&a.add_invite_,
       "INSERT INTO room_invites (room_id, position, identity_pk) VALUES (?1, ?2, ?3)"},
      {&a.ensure_room_, "INSERT OR IGNORE INTO rooms (room_id, visibility) VALUES (?1, 'public')"},
      {&a.add_member_, "INSERT OR IGNORE INTO room_members (room_id, alias) VALUES (?1, ?2)"},
      {&a.remove_member_,
       "DELETE FROM room_members WHERE room_id = ?1 AND alias = ?2 COLLATE NOCASE"},
      {&a.append_history_,
       "INSERT INTO room_history (room, message_id, from_alias, to_alias, content, ts, room_id,"
       " envelope) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
      // The window's rows mirror the in-memory window in order (sqlite_schema.cpp, version 3):
      // an id is appended after the newest, evictions take the oldest.
      {&a.remember_id_, "INSERT INTO seen_ids (sender, message_id) VALUES (?1, ?2)"},
      {&a.forget_oldest_ids_,
       "DELETE FROM seen_ids WHERE seq IN (SELECT seq FROM seen_ids ORDER BY seq LIMIT ?1)"},
      {&a.remember_nonce_, "INSERT OR REPLACE INTO nonces (cache, nonce, ts) VALUES (?1, ?2, ?3)"},
      {&a.prune_nonces_, "DELETE FROM nonces WHERE cache = ?1 AND ts < ?2"},
      {&a.add_dead_letter_,
       "INSERT INTO dead_letters (message_id, from_alias, to_alias, content, ts, room_id,"
       " envelope, reason, dead_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
      // Memory stored the value only if the name had none (adopt_setting): the row mirrors it.
      {&a.put_setting_, "INSERT OR REPLACE INTO settings (name, value) VALUES (?1, ?2)"},
  };
  for (const auto& [stmt, text] : statements) {
    auto prepared = db.prepare(text);
    if (!prepared) return Unexpected{prepared.error()};
    *stmt = std::move(prepared.value());
  }
  return a;
}

Result<void> Applier::apply(const redo::Op& op) {
  return std::visit([this](const auto& r) { return (*this)(r); }, op);
}

Result<void> Applier::operator()(const redo::PutLease& r) {
  const Lease& l = r.lease;
  return put_lease_.bind(1, l.alias)
      .bind(2, l.node_id)
      .bind(3, l.session_id)
      .bind(4, l.client_type)
      .bind(5, l.registered_at)
      .bind(6, l.last_seen)
      .bind(7, l.ttl)
      .bind(8, l.identity_pk)
      .bind(9, l.enc_pubkey)
      .bind(10, l.signed_at)
      .bind(11, l.sig_b64)
      .run();
}

Result<void> Applier::operator()(const redo::RemoveLease& r) {
  return remove_lease_.bind(1, r.alias).run();
}

Result<void> Applier::operator()(const redo::PutBinding& r) {
  return put_binding_.bind(1, r.alias).bind(2, r.pk_b64u).run();
}

Result<void> Applier::operator()(const redo::RemoveBinding& r) {
  return remove_binding_.bind(1, r.alias).run();
}

Result<void> Applier::operator()(const redo::Append& r) {
  for (const auto& d : r.deliveries) {
    append_.bind(1, d.key.node_id).bind(2, d.key.session_id);
    bind_message(append_, 3, d.message);
    append_.bind_int(10, static_cast<int64_t>(d.message.seq));
    C2C_TRY(append_.run());
  }
  return {};
}

Result<void> Applier::operator()(const redo::RemoveInbox& r) {
  return remove_inbox_.bind(1, r.key.node_id).bind(2, r.key.session_id).run();
}

Result<void> Applier::operator()(const redo::RemoveSeqs& r) {
  for (const uint64_t seq : r.seqs)
    C2C_TRY(remove_seq_.bind_int(1, static_cast<int64_t>(seq)).run());
  return {};
}

Result<void> Applier::operator()(const redo::MoveInbox& r) {
  C2C_TRY(copy_inbox_.bind(1, r.from.node_id)
              .bind(2, r.from.session_id)
              .bind(3, r.to.node_id)
              .bind(4, r.to.session_id)
              .bind_int(5, static_cast<int64_t>(r.first_seq))
              .run());
  return remove_inbox_.bind(1, r.from.node_id).bind(2, r.from.session_id).run();
}

Result<void> Applier::operator()(const redo::RemoveThrough& r) {
  return remove_through_.bind(1, r.key.node_id)
      .bind(2, r.key.session_id)
      .bind_int(3, static_cast<int64_t>(r.through))
      .run();
}

Result<void> Applier::operator()(const redo::PutRoom& r) {
  C2C_TRY(put_room_.bind(1, r.room_id).bind(2, r.visibility).run());
  C2C_TRY(clear_invites_.bind(1, r.room_id).run());
  int64_t position = 0;
  for (const auto& pk : r.invited) {
    C2C_TRY(add_invite_.bind(1, r.room_id).bind_int(2, position++).bind(3, pk).run());
  }
  return {};
}

Result<void> Applier::operator()(const redo::AddMember& r) {
  C2C_TRY(ensure_room_.bind(1, r.room_id).run());
  return add_member_.bind(1, r.room_id).bind(2, r.alias).run();
}

Result<void> Applier::operator()(const redo::RemoveMember& r) {
  return remove_member_.bind(1, r.room_id).bind(2, r.alias).run();
}

Result<void> Applier::operator()(const redo::AppendHistory& r) {
  append_history_.bind(1, r.room_id);
  bind_message(append_history_, 2, r.entry);
  return append_history_.run();
}

Result<void> Applier::operator()(const redo::RememberId& r) {
  C2C_TRY(remember_id_.bind(1, r.id.sender).bind(2, r.id.message_id).run());
  if (r.evicted == 0) return {};
  return forget_oldest_ids_.bind_int(1, static_cast<int64_t>(r.evicted)).run();
}

Result<void> Applier::operator()(const redo::RememberNonce& r) {
  C2C_TRY(remember_nonce_.bind(1, r.cache).bind(2, r.nonce).bind(3, r.ts).run());
  return prune_nonces_.bind(1, r.cache).bind(2, r.prune_before).run();
}

Result<void> Applier::operator()(const redo::AddDeadLetter& r) {
  bind_message(add_dead_letter_, 1, r.dead_letter.message);
  return add_dead_letter_.bind(8, r.dead_letter.reason).bind(9, r.dead_letter.ts).run();
}

Result<void> Applier::operator()(const redo::PutSetting& r) {
  return put_setting_.bind(1, r.name).bind(2, r.value).run();
}

}  // namespace c2c::relay::sql
