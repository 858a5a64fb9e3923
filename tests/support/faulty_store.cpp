#include "support/faulty_store.hpp"

namespace c2c::test {

void FaultyStore::arm(uint64_t n, Mode mode) {
  std::lock_guard lock(mu_);
  mode_ = mode;
  fail_at_ = n;
  calls_ = 0;
  injected_ = 0;
  trace_.clear();
  armed_ = true;
}

void FaultyStore::disarm() {
  std::lock_guard lock(mu_);
  armed_ = false;
  calls_ = 0;
  trace_.clear();
}

uint64_t FaultyStore::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

uint64_t FaultyStore::injected() const {
  std::lock_guard lock(mu_);
  return injected_;
}

std::vector<std::string> FaultyStore::trace() const {
  std::lock_guard lock(mu_);
  return trace_;
}

bool FaultyStore::should_fail(const char* op) {
  std::lock_guard lock(mu_);
  trace_.emplace_back(op);
  const uint64_t i = calls_++;
  if (!armed_) return false;
  const bool fail = mode_ == Mode::kOnce ? i == fail_at_ : i >= fail_at_;
  if (fail) ++injected_;
  return fail;
}

Unexpected<> FaultyStore::injected_error(const char* op) {
  return fail(ErrorCode::kIo, std::string("injected fault in ") + op);
}

std::optional<relay::Lease> FaultyStore::get_lease(std::string_view alias) {
  return inner_.get_lease(alias);
}
std::optional<relay::Lease> FaultyStore::find_lease(const relay::InboxKey& key) {
  return inner_.find_lease(key);
}
std::vector<relay::Lease> FaultyStore::list_leases() {
  return inner_.list_leases();
}
std::vector<relay::Lease> FaultyStore::leases_on_node(std::string_view node_id) {
  return inner_.leases_on_node(node_id);
}
Result<void> FaultyStore::put_lease(const relay::Lease& lease) {
  if (should_fail("put_lease")) return injected_error("put_lease");
  return inner_.put_lease(lease);
}
Result<void> FaultyStore::remove_lease(std::string_view alias) {
  if (should_fail("remove_lease")) return injected_error("remove_lease");
  return inner_.remove_lease(alias);
}

std::optional<std::string> FaultyStore::get_binding(std::string_view alias) {
  return inner_.get_binding(alias);
}
Result<void> FaultyStore::put_binding(std::string_view alias, std::string_view pk_b64u) {
  if (should_fail("put_binding")) return injected_error("put_binding");
  return inner_.put_binding(alias, pk_b64u);
}
Result<bool> FaultyStore::remove_binding(std::string_view alias) {
  if (should_fail("remove_binding")) return injected_error("remove_binding");
  return inner_.remove_binding(alias);
}

Result<void> FaultyStore::append(const std::vector<relay::Delivery>& deliveries) {
  if (should_fail("append")) return injected_error("append");
  return inner_.append(deliveries);
}
std::vector<relay::StoredMessage> FaultyStore::peek(const relay::InboxKey& key) {
  return inner_.peek(key);
}
Result<std::vector<relay::StoredMessage>> FaultyStore::drain(const relay::InboxKey& key) {
  if (should_fail("drain")) return injected_error("drain");
  return inner_.drain(key);
}
Result<std::vector<relay::StoredMessage>> FaultyStore::drain_ids(
    const relay::InboxKey& key, const std::vector<std::string>& ids) {
  if (should_fail("drain_ids")) return injected_error("drain_ids");
  return inner_.drain_ids(key, ids);
}
std::vector<relay::StoredMessage> FaultyStore::peek_page(const relay::InboxKey& key,
                                                         const relay::PageLimit& limit,
                                                         bool* more) {
  return inner_.peek_page(key, limit, more);
}
Result<size_t> FaultyStore::drop_through(const relay::InboxKey& key, uint64_t through) {
  if (should_fail("drop_through")) return injected_error("drop_through");
  return inner_.drop_through(key, through);
}
Result<void> FaultyStore::move_inbox(const relay::InboxKey& from, const relay::InboxKey& to) {
  if (should_fail("move_inbox")) return injected_error("move_inbox");
  return inner_.move_inbox(from, to);
}
std::vector<relay::InboxKey> FaultyStore::inbox_keys() {
  return inner_.inbox_keys();
}
Result<size_t> FaultyStore::remove_inbox(const relay::InboxKey& key) {
  if (should_fail("remove_inbox")) return injected_error("remove_inbox");
  return inner_.remove_inbox(key);
}
size_t FaultyStore::queued_messages() {
  return inner_.queued_messages();
}

std::optional<relay::Room> FaultyStore::get_room(std::string_view room_id) {
  return inner_.get_room(room_id);
}
std::vector<relay::Room> FaultyStore::list_rooms() {
  return inner_.list_rooms();
}
Result<void> FaultyStore::put_room(const relay::Room& room_without_members) {
  if (should_fail("put_room")) return injected_error("put_room");
  return inner_.put_room(room_without_members);
}
Result<bool> FaultyStore::add_member(std::string_view room_id, std::string_view alias) {
  if (should_fail("add_member")) return injected_error("add_member");
  return inner_.add_member(room_id, alias);
}
Result<bool> FaultyStore::remove_member(std::string_view room_id, std::string_view alias) {
  if (should_fail("remove_member")) return injected_error("remove_member");
  return inner_.remove_member(room_id, alias);
}
Result<void> FaultyStore::append_history(std::string_view room_id,
                                         const relay::StoredMessage& entry) {
  if (should_fail("append_history")) return injected_error("append_history");
  return inner_.append_history(room_id, entry);
}
std::vector<relay::StoredMessage> FaultyStore::history(std::string_view room_id, size_t limit) {
  return inner_.history(room_id, limit);
}

bool FaultyStore::seen_message_id(std::string_view sender, std::string_view message_id) {
  return inner_.seen_message_id(sender, message_id);
}
Result<void> FaultyStore::remember_message_id(std::string_view sender, std::string_view message_id,
                                              size_t window) {
  if (should_fail("remember_message_id")) return injected_error("remember_message_id");
  return inner_.remember_message_id(sender, message_id, window);
}

Result<bool> FaultyStore::remember_nonce(std::string_view cache, std::string_view nonce, double ts,
                                         double ttl_seconds) {
  if (should_fail("remember_nonce")) return injected_error("remember_nonce");
  return inner_.remember_nonce(cache, nonce, ts, ttl_seconds);
}

Result<void> FaultyStore::add_dead_letter(const relay::DeadLetter& dl) {
  if (should_fail("add_dead_letter")) return injected_error("add_dead_letter");
  return inner_.add_dead_letter(dl);
}
std::vector<relay::DeadLetter> FaultyStore::dead_letters() {
  return inner_.dead_letters();
}

Result<void> FaultyStore::apply(const relay::WriteBatch& batch) {
  if (should_fail("apply")) return injected_error("apply");
  return inner_.apply(batch);
}

Result<void> FaultyStore::commit() {
  if (should_fail("commit")) return injected_error("commit");
  return inner_.commit();
}

}  // namespace c2c::test
