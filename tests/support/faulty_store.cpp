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
std::optional<std::string> FaultyStore::get_binding(std::string_view alias) {
  return inner_.get_binding(alias);
}
std::vector<relay::StoredMessage> FaultyStore::peek(const relay::InboxKey& key) {
  return inner_.peek(key);
}
std::vector<relay::StoredMessage> FaultyStore::peek_page(const relay::InboxKey& key,
                                                         const relay::PageLimit& limit,
                                                         bool* more) {
  return inner_.peek_page(key, limit, more);
}
std::vector<relay::InboxKey> FaultyStore::inbox_keys() {
  return inner_.inbox_keys();
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
std::vector<relay::StoredMessage> FaultyStore::history(std::string_view room_id, size_t limit) {
  return inner_.history(room_id, limit);
}
bool FaultyStore::seen_message_id(std::string_view sender, std::string_view message_id) {
  return inner_.seen_message_id(sender, message_id);
}
std::vector<relay::DeadLetter> FaultyStore::dead_letters() {
  return inner_.dead_letters();
}
Result<std::optional<std::string>> FaultyStore::get_setting(std::string_view name) {
  return inner_.get_setting(name);
}

// Each write: counted, failed when armed, else the inner transaction's.
class FaultyTx final : public relay::Tx {
 public:
  FaultyTx(FaultyStore& s, relay::TxScope scope, relay::Tx& inner)
      : Tx(s, scope), s_(s), inner_(inner) {}

#define C2C_FAULTY_WRITE(name, ...)                                     \
  if (s_.should_fail(#name)) return FaultyStore::injected_error(#name); \
  return inner_.name(__VA_ARGS__)

  Result<void> put_lease(const relay::Lease& lease) override {
    C2C_FAULTY_WRITE(put_lease, lease);
  }
  Result<void> remove_lease(std::string_view alias) override {
    C2C_FAULTY_WRITE(remove_lease, alias);
  }
  Result<void> put_binding(std::string_view alias, std::string_view pk_b64u) override {
    C2C_FAULTY_WRITE(put_binding, alias, pk_b64u);
  }
  Result<bool> remove_binding(std::string_view alias) override {
    C2C_FAULTY_WRITE(remove_binding, alias);
  }
  Result<void> append(const std::vector<relay::Delivery>& deliveries) override {
    C2C_FAULTY_WRITE(append, deliveries);
  }
  Result<std::vector<relay::StoredMessage>> drain(const relay::InboxKey& key) override {
    C2C_FAULTY_WRITE(drain, key);
  }
  Result<std::vector<relay::StoredMessage>> drain_ids(
      const relay::InboxKey& key, const std::vector<std::string>& ids) override {
    C2C_FAULTY_WRITE(drain_ids, key, ids);
  }
  Result<std::vector<relay::StoredMessage>> drain_page(const relay::InboxKey& key,
                                                       const relay::PageLimit& limit,
                                                       bool* more) override {
    C2C_FAULTY_WRITE(drain_page, key, limit, more);
  }
  Result<size_t> drop_through(const relay::InboxKey& key, uint64_t through) override {
    C2C_FAULTY_WRITE(drop_through, key, through);
  }
  Result<void> move_inbox(const relay::InboxKey& from, const relay::InboxKey& to) override {
    C2C_FAULTY_WRITE(move_inbox, from, to);
  }
  Result<size_t> remove_inbox(const relay::InboxKey& key) override {
    C2C_FAULTY_WRITE(remove_inbox, key);
  }
  Result<void> put_room(const relay::Room& room_without_members) override {
    C2C_FAULTY_WRITE(put_room, room_without_members);
  }
  Result<bool> add_member(std::string_view room_id, std::string_view alias) override {
    C2C_FAULTY_WRITE(add_member, room_id, alias);
  }
  Result<bool> remove_member(std::string_view room_id, std::string_view alias) override {
    C2C_FAULTY_WRITE(remove_member, room_id, alias);
  }
  Result<void> append_history(std::string_view room_id,
                              const relay::StoredMessage& entry) override {
    C2C_FAULTY_WRITE(append_history, room_id, entry);
  }
  Result<bool> remember_message_id(std::string_view sender, std::string_view message_id,
                                   size_t window) override {
    C2C_FAULTY_WRITE(remember_message_id, sender, message_id, window);
  }
  Result<bool> remember_nonce(std::string_view cache, std::string_view nonce, double ts,
                              double ttl_seconds) override {
    C2C_FAULTY_WRITE(remember_nonce, cache, nonce, ts, ttl_seconds);
  }
  Result<void> add_dead_letter(const relay::DeadLetter& dl) override {
    C2C_FAULTY_WRITE(add_dead_letter, dl);
  }
  Result<std::string> adopt_setting(std::string_view name, std::string_view proposed) override {
    C2C_FAULTY_WRITE(adopt_setting, name, proposed);
  }
#undef C2C_FAULTY_WRITE

 private:
  FaultyStore& s_;
  relay::Tx& inner_;
};

Result<void> FaultyStore::transact(relay::TxScope scope, const Body& body) {
  return inner_.transact(scope, [&](relay::Tx& inner) {
    FaultyTx tx(*this, scope, inner);
    return body(tx);
  });
}

Result<void> FaultyStore::wait_durable() {
  if (should_fail("wait_durable")) return injected_error("wait_durable");
  return inner_.wait_durable();
}

}  // namespace c2c::test
