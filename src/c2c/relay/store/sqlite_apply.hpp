#pragma once
// Replays redo records onto the relay database with prepared statements. Used only by the
// SQLite store's writer thread, inside its BEGIN IMMEDIATE ... COMMIT.

#include "c2c/core/result.hpp"
#include "c2c/relay/store/redo.hpp"
#include "c2c/relay/store/sqlite_db.hpp"

namespace c2c::relay::sql {

class Applier {
 public:
  static Result<Applier> prepare(Db& db);
  Result<void> apply(const redo::Op& op);

 private:
  Result<void> operator()(const redo::PutLease& r);
  Result<void> operator()(const redo::RemoveLease& r);
  Result<void> operator()(const redo::PutBinding& r);
  Result<void> operator()(const redo::RemoveBinding& r);
  Result<void> operator()(const redo::Append& r);
  Result<void> operator()(const redo::RemoveInbox& r);
  Result<void> operator()(const redo::RemoveSeqs& r);
  Result<void> operator()(const redo::MoveInbox& r);
  Result<void> operator()(const redo::RemoveThrough& r);
  Result<void> operator()(const redo::PutRoom& r);
  Result<void> operator()(const redo::AddMember& r);
  Result<void> operator()(const redo::RemoveMember& r);
  Result<void> operator()(const redo::AppendHistory& r);
  Result<void> operator()(const redo::RememberId& r);
  Result<void> operator()(const redo::RememberNonce& r);
  Result<void> operator()(const redo::AddDeadLetter& r);
  Result<void> operator()(const redo::PutSetting& r);

  Stmt put_lease_, remove_lease_, put_binding_, remove_binding_;
  Stmt append_, remove_inbox_, remove_seq_, copy_inbox_, remove_through_;
  Stmt put_room_, clear_invites_, add_invite_, ensure_room_, add_member_, remove_member_;
  Stmt append_history_, remember_id_, forget_oldest_ids_, remember_nonce_, prune_nonces_;
  Stmt add_dead_letter_, put_setting_;
};

}  // namespace c2c::relay::sql
