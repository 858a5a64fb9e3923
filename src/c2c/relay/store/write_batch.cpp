// apply_batch(): a WriteBatch's parts on one transaction, in order; Tx::one_write_error(); the
// default inbox page.
#include "c2c/relay/store/store.hpp"

namespace c2c::relay {

Result<void> apply_batch(Tx& tx, const WriteBatch& batch) {
  if (batch.binding) C2C_TRY(tx.put_binding(batch.binding->first, batch.binding->second));
  if (batch.remove_binding) C2C_TRY(tx.remove_binding(*batch.remove_binding));
  if (batch.move_inbox) C2C_TRY(tx.move_inbox(batch.move_inbox->first, batch.move_inbox->second));
  if (batch.lease) C2C_TRY(tx.put_lease(*batch.lease));
  for (const auto& alias : batch.remove_leases) C2C_TRY(tx.remove_lease(alias));
  if (batch.room) C2C_TRY(tx.put_room(*batch.room));
  if (batch.add_member) {
    C2C_TRY(tx.add_member(batch.add_member->first, batch.add_member->second));
  }
  for (const auto& [room_id, alias] : batch.remove_members) {
    C2C_TRY(tx.remove_member(room_id, alias));
  }
  for (const auto& key : batch.remove_inboxes) C2C_TRY(tx.remove_inbox(key));
  for (const auto& dl : batch.dead_letters) C2C_TRY(tx.add_dead_letter(dl));
  if (!batch.deliveries.empty()) C2C_TRY(tx.append(batch.deliveries));
  for (const auto& [room_id, entry] : batch.history) C2C_TRY(tx.append_history(room_id, entry));
  return {};
}

Unexpected<> Tx::one_write_error() {
  return fail(ErrorCode::kInternal, "store: a kOneWrite transaction made a second write");
}

std::vector<StoredMessage> Store::peek_page(const InboxKey& key, const PageLimit& limit,
                                            bool* more) {
  auto all = peek(key);
  size_t n = 0;
  size_t bytes = 0;
  while (n < all.size() && n < limit.max_messages) {
    bytes += page_bytes(all[n]);
    if (n > 0 && bytes > limit.max_bytes) break;
    ++n;
  }
  if (more != nullptr) *more = n < all.size();
  all.resize(n);
  return all;
}

}  // namespace c2c::relay
