#pragma once
// writes(store).put_lease(l): one Tx write in a transaction of its own, for tests that set up or
// change state one call at a time (the relay itself groups a request's writes in one
// Store::transact).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "c2c/relay/store/store.hpp"

namespace c2c::test {

class OneWrite {
 public:
  explicit OneWrite(relay::Store& s, relay::TxScope scope = relay::TxScope::kWhole)
      : s_(s), scope_(scope) {}

  // Runs f(tx) in one transaction; its result, or the transaction's error.
  template <typename F>
  auto run(F f) -> decltype(f(std::declval<relay::Tx&>())) {
    return relay::transact_value(s_, scope_, f);
  }

  Result<void> put_lease(const relay::Lease& l) {
    return run([&](relay::Tx& tx) { return tx.put_lease(l); });
  }
  Result<void> remove_lease(std::string_view alias) {
    return run([&](relay::Tx& tx) { return tx.remove_lease(alias); });
  }
  Result<void> put_binding(std::string_view alias, std::string_view pk) {
    return run([&](relay::Tx& tx) { return tx.put_binding(alias, pk); });
  }
  Result<bool> remove_binding(std::string_view alias) {
    return run([&](relay::Tx& tx) { return tx.remove_binding(alias); });
  }
  Result<void> append(const std::vector<relay::Delivery>& deliveries) {
    return run([&](relay::Tx& tx) { return tx.append(deliveries); });
  }
  Result<std::vector<relay::StoredMessage>> drain(const relay::InboxKey& key) {
    return run([&](relay::Tx& tx) { return tx.drain(key); });
  }
  Result<std::vector<relay::StoredMessage>> drain_ids(const relay::InboxKey& key,
                                                      const std::vector<std::string>& ids) {
    return run([&](relay::Tx& tx) { return tx.drain_ids(key, ids); });
  }
  Result<std::vector<relay::StoredMessage>> drain_page(const relay::InboxKey& key,
                                                       const relay::PageLimit& limit, bool* more) {
    return run([&](relay::Tx& tx) { return tx.drain_page(key, limit, more); });
  }
  Result<size_t> drop_through(const relay::InboxKey& key, uint64_t through) {
    return run([&](relay::Tx& tx) { return tx.drop_through(key, through); });
  }
  Result<void> move_inbox(const relay::InboxKey& from, const relay::InboxKey& to) {
    return run([&](relay::Tx& tx) { return tx.move_inbox(from, to); });
  }
  Result<size_t> remove_inbox(const relay::InboxKey& key) {
    return run([&](relay::Tx& tx) { return tx.remove_inbox(key); });
  }
  Result<void> put_room(const relay::Room& room) {
    return run([&](relay::Tx& tx) { return tx.put_room(room); });
  }
  Result<bool> add_member(std::string_view room_id, std::string_view alias) {
    return run([&](relay::Tx& tx) { return tx.add_member(room_id, alias); });
  }
  Result<bool> remove_member(std::string_view room_id, std::string_view alias) {
    return run([&](relay::Tx& tx) { return tx.remove_member(room_id, alias); });
  }
  Result<void> append_history(std::string_view room_id, const relay::StoredMessage& entry) {
    return run([&](relay::Tx& tx) { return tx.append_history(room_id, entry); });
  }
  Result<bool> remember_message_id(std::string_view sender, std::string_view message_id,
                                   size_t window) {
    return run([&](relay::Tx& tx) { return tx.remember_message_id(sender, message_id, window); });
  }
  Result<bool> remember_nonce(std::string_view cache, std::string_view nonce, double ts,
                              double ttl_seconds) {
    return run([&](relay::Tx& tx) { return tx.remember_nonce(cache, nonce, ts, ttl_seconds); });
  }
  Result<void> add_dead_letter(const relay::DeadLetter& dl) {
    return run([&](relay::Tx& tx) { return tx.add_dead_letter(dl); });
  }
  Result<std::string> adopt_setting(std::string_view name, std::string_view proposed) {
    return run([&](relay::Tx& tx) { return tx.adopt_setting(name, proposed); });
  }

 private:
  relay::Store& s_;
  relay::TxScope scope_;
};

inline OneWrite writes(relay::Store& s, relay::TxScope scope = relay::TxScope::kWhole) {
  return OneWrite(s, scope);
}

}  // namespace c2c::test
