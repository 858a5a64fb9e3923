#pragma once
// FaultyStore: a relay Store decorator that fails a chosen write, for fault-injection tests in the
// style of Beast's test::fail_count. Every call that can fail (returns Result: puts, removes,
// appends, drains, room and history writes, the dedup and nonce caches, commit) is counted; the
// armed one returns ErrorCode::kIo without reaching the wrapped store, so the wrapped store shows
// exactly what a failing backend would have kept. Reads pass through and are not counted.
//
// Typical loop: for n = 0, 1, 2, ...: arm(n), run the operation, check the observable state is
// either "before" or "after"; stop when the operation completes with no fault triggered.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "c2c/relay/store/store.hpp"

namespace c2c::test {

class FaultyStore final : public relay::Store {
 public:
  enum class Mode {
    kOnce,    // only the n-th call fails (a transient error: busy, timeout)
    kFromNth  // the n-th call and every later one fail (a dead disk, a full file system)
  };

  explicit FaultyStore(relay::Store& inner) : inner_(inner) {}

  // Counting restarts at 0; the n-th fallible call from now on fails (per `mode`).
  void arm(uint64_t n, Mode mode = Mode::kOnce);
  void disarm();
  // Fallible calls seen since the last arm()/disarm().
  uint64_t calls() const;
  // How many calls were made to fail since the last arm().
  uint64_t injected() const;
  // Names of the fallible calls since the last arm()/disarm(), in order ("append", "commit", ...).
  std::vector<std::string> trace() const;

  relay::Store& inner() { return inner_; }

  std::string_view kind() const override { return inner_.kind(); }

  std::optional<relay::Lease> get_lease(std::string_view alias) override;
  std::optional<relay::Lease> find_lease(const relay::InboxKey& key) override;
  std::vector<relay::Lease> list_leases() override;
  std::vector<relay::Lease> leases_on_node(std::string_view node_id) override;
  Result<void> put_lease(const relay::Lease& lease) override;
  Result<void> remove_lease(std::string_view alias) override;

  std::optional<std::string> get_binding(std::string_view alias) override;
  Result<void> put_binding(std::string_view alias, std::string_view pk_b64u) override;
  Result<bool> remove_binding(std::string_view alias) override;

  Result<void> append(const std::vector<relay::Delivery>& deliveries) override;
  std::vector<relay::StoredMessage> peek(const relay::InboxKey& key) override;
  Result<std::vector<relay::StoredMessage>> drain(const relay::InboxKey& key) override;
  Result<std::vector<relay::StoredMessage>> drain_ids(const relay::InboxKey& key,
                                                      const std::vector<std::string>& ids) override;
  std::vector<relay::StoredMessage> peek_page(const relay::InboxKey& key,
                                              const relay::PageLimit& limit, bool* more) override;
  Result<size_t> drop_through(const relay::InboxKey& key, uint64_t through) override;
  Result<void> move_inbox(const relay::InboxKey& from, const relay::InboxKey& to) override;
  std::vector<relay::InboxKey> inbox_keys() override;
  Result<size_t> remove_inbox(const relay::InboxKey& key) override;
  size_t queued_messages() override;

  std::optional<relay::Room> get_room(std::string_view room_id) override;
  std::vector<relay::Room> list_rooms() override;
  Result<void> put_room(const relay::Room& room_without_members) override;
  Result<bool> add_member(std::string_view room_id, std::string_view alias) override;
  Result<bool> remove_member(std::string_view room_id, std::string_view alias) override;
  Result<void> append_history(std::string_view room_id, const relay::StoredMessage& entry) override;
  std::vector<relay::StoredMessage> history(std::string_view room_id, size_t limit) override;

  bool seen_message_id(std::string_view sender, std::string_view message_id) override;
  Result<void> remember_message_id(std::string_view sender, std::string_view message_id,
                                   size_t window) override;

  Result<bool> remember_nonce(std::string_view cache, std::string_view nonce, double ts,
                              double ttl_seconds) override;

  Result<void> add_dead_letter(const relay::DeadLetter& dl) override;
  std::vector<relay::DeadLetter> dead_letters() override;

  // One fallible call: the whole batch fails, or the inner store applies all of it.
  Result<void> apply(const relay::WriteBatch& batch) override;
  Result<void> commit() override;
  void begin_atomic(relay::SectionScope scope = relay::SectionScope::kWhole) override {
    inner_.begin_atomic(scope);
  }
  bool orders_sections() const override { return inner_.orders_sections(); }
  void end_atomic() override { inner_.end_atomic(); }

 private:
  // Counts one fallible call; true when this one must fail.
  bool should_fail(const char* op);
  static Unexpected<> injected_error(const char* op);

  relay::Store& inner_;
  mutable std::mutex mu_;  // the counters may be hit from several request threads
  bool armed_ = false;
  uint64_t fail_at_ = 0;
  uint64_t calls_ = 0;
  uint64_t injected_ = 0;
  Mode mode_ = Mode::kOnce;
  std::vector<std::string> trace_;
};

}  // namespace c2c::test
