// Store::apply's default: the batch's parts one by one (see store.hpp for why that is atomic for
// the memory and SQLite backends).
#include "c2c/relay/store/store.hpp"

namespace c2c::relay {

Result<void> Store::apply(const WriteBatch& batch) {
  if (batch.binding) C2C_TRY(put_binding(batch.binding->first, batch.binding->second));
  if (batch.remove_binding) C2C_TRY(remove_binding(*batch.remove_binding));
  if (batch.move_inbox) C2C_TRY(move_inbox(batch.move_inbox->first, batch.move_inbox->second));
  if (batch.lease) C2C_TRY(put_lease(*batch.lease));
  for (const auto& alias : batch.remove_leases) C2C_TRY(remove_lease(alias));
  if (batch.room) C2C_TRY(put_room(*batch.room));
  if (batch.add_member) {
    C2C_TRY(add_member(batch.add_member->first, batch.add_member->second));
  }
  for (const auto& [room_id, alias] : batch.remove_members) C2C_TRY(remove_member(room_id, alias));
  for (const auto& key : batch.remove_inboxes) C2C_TRY(remove_inbox(key));
  for (const auto& dl : batch.dead_letters) C2C_TRY(add_dead_letter(dl));
  if (!batch.deliveries.empty()) C2C_TRY(append(batch.deliveries));
  for (const auto& [room_id, entry] : batch.history) C2C_TRY(append_history(room_id, entry));
  if (batch.remember_id) {
    C2C_TRY(remember_message_id(batch.remember_id->first, batch.remember_id->second));
  }
  return {};
}

}  // namespace c2c::relay
