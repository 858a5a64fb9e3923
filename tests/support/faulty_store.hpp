#pragma once
// FaultyStore: a relay Store decorator that fails a chosen write, for fault-injection tests in the
// style of Beast's test::fail_count. Every call that can fail (every Tx write: puts, removes,
// appends, drains, room and history writes, the dedup and nonce caches, settings; and wait_durable)
// is counted; the armed one returns ErrorCode::kIo without reaching the wrapped store, so the
// wrapped store shows exactly what a failing backend would have kept. Reads pass through and are
// not counted.
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
  std::optional<std::string> get_binding(std::string_view alias) override;
  std::vector<relay::StoredMessage> peek(const relay::InboxKey& key) override;
  std::vector<relay::StoredMessage> peek_page(const relay::InboxKey& key,
                                              const relay::PageLimit& limit, bool* more) override;
  std::vector<relay::InboxKey> inbox_keys() override;
  size_t queued_messages() override;
  std::optional<relay::Room> get_room(std::string_view room_id) override;
  std::vector<relay::Room> list_rooms() override;
  std::vector<relay::StoredMessage> history(std::string_view room_id, size_t limit) override;
  bool seen_message_id(std::string_view sender, std::string_view message_id) override;
  std::vector<relay::DeadLetter> dead_letters() override;
  Result<std::optional<std::string>> get_setting(std::string_view name) override;

  // The inner store's transaction, whose writes go through a counting Tx: the armed write fails
  // without reaching the inner store, and the body's error then undoes what it wrote before.
  Result<void> transact(relay::TxScope scope, const Body& body) override;
  Result<void> wait_durable() override;  // counted as "wait_durable"
  std::optional<Error> write_blocked() override { return inner_.write_blocked(); }
  std::optional<Error> take_failure() override { return inner_.take_failure(); }

 private:
  friend class FaultyTx;
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
