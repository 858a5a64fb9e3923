#pragma once
// The Tx of a backend whose transaction lives in the store itself (memory and SQLite: the store's
// lock and undo log; PostgreSQL: the thread's transaction connection): each write checks the
// transaction's scope (Tx::admit_write), then runs the backend's own write of the same name.
// A backend declares those writes private and befriends BackendTx<itself>.

#include "c2c/relay/store/store.hpp"

namespace c2c::relay {

template <typename Backend>
class BackendTx final : public Tx {
 public:
  BackendTx(Backend& s, TxScope scope) : Tx(s, scope), s_(s) {}

  Result<void> put_lease(const Lease& lease) override {
    return write([&] { return s_.put_lease(lease); });
  }
  Result<void> remove_lease(std::string_view alias) override {
    return write([&] { return s_.remove_lease(alias); });
  }
  Result<void> put_binding(std::string_view alias, std::string_view pk_b64u) override {
    return write([&] { return s_.put_binding(alias, pk_b64u); });
  }
  Result<bool> remove_binding(std::string_view alias) override {
    return write([&] { return s_.remove_binding(alias); });
  }
  Result<void> append(const std::vector<Delivery>& deliveries) override {
    return write([&] { return s_.append(deliveries); });
  }
  Result<std::vector<StoredMessage>> drain(const InboxKey& key) override {
    return write([&] { return s_.drain(key); });
  }
  Result<std::vector<StoredMessage>> drain_ids(const InboxKey& key,
                                               const std::vector<std::string>& ids) override {
    return write([&] { return s_.drain_ids(key, ids); });
  }
  Result<std::vector<StoredMessage>> drain_page(const InboxKey& key, const PageLimit& limit,
                                                bool* more) override {
    return write([&] { return s_.drain_page(key, limit, more); });
  }
  Result<size_t> drop_through(const InboxKey& key, uint64_t through) override {
    return write([&] { return s_.drop_through(key, through); });
  }
  Result<void> move_inbox(const InboxKey& from, const InboxKey& to) override {
    return write([&] { return s_.move_inbox(from, to); });
  }
  Result<size_t> remove_inbox(const InboxKey& key) override {
    return write([&] { return s_.remove_inbox(key); });
  }
  Result<void> put_room(const Room& room_without_members) override {
    return write([&] { return s_.put_room(room_without_members); });
  }
  Result<bool> add_member(std::string_view room_id, std::string_view alias) override {
    return write([&] { return s_.add_member(room_id, alias); });
  }
  Result<bool> remove_member(std::string_view room_id, std::string_view alias) override {
    return write([&] { return s_.remove_member(room_id, alias); });
  }
  Result<void> append_history(std::string_view room_id, const StoredMessage& entry) override {
    return write([&] { return s_.append_history(room_id, entry); });
  }
  Result<bool> remember_message_id(std::string_view sender, std::string_view message_id,
                                   size_t window) override {
    return write([&] { return s_.remember_message_id(sender, message_id, window); });
  }
  Result<bool> remember_nonce(std::string_view cache, std::string_view nonce, double ts,
                              double ttl_seconds) override {
    return write([&] { return s_.remember_nonce(cache, nonce, ts, ttl_seconds); });
  }
  Result<void> add_dead_letter(const DeadLetter& dl) override {
    return write([&] { return s_.add_dead_letter(dl); });
  }
  Result<std::string> adopt_setting(std::string_view name, std::string_view proposed) override {
    return write([&] { return s_.adopt_setting(name, proposed); });
  }

 private:
  template <typename F>
  auto write(F&& f) -> decltype(f()) {
    if (auto admitted = admit_write(); !admitted) return Unexpected{admitted.error()};
    return f();
  }

  Backend& s_;
};

}  // namespace c2c::relay
