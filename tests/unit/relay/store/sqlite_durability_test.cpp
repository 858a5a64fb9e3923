// SQLite store durability: a writer SIGKILLed after wait_durable() loses nothing it committed,
// wait_durable() from many threads shares transactions (group commit), and a Store transaction's
// writes are never split across transactions.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store_test_util.hpp"
#include "support/process.hpp"
#include "support/store_writes.hpp"
#include "support/temp_dir.hpp"

namespace c2c::relay {
namespace {

using testing::message;
using testing::open_sqlite;

constexpr const char* kChildEnv = "C2C_STORE_KILL_CHILD_DB";
const InboxKey kKey{"node", "session"};
constexpr int kCommittedBatch = 300;

void say(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

// Runs only inside the child process started by KillAfterCommitLosesNothingCommitted.
TEST(SqliteStoreKillChild, WriteCommitThenKeepWriting) {
  const char* path = std::getenv(kChildEnv);
  if (path == nullptr) GTEST_SKIP() << "helper for the SIGKILL test";
  auto s = open_sqlite(path);
  ASSERT_NE(s, nullptr);
  Lease l;
  l.alias = "bob";
  l.node_id = kKey.node_id;
  l.session_id = kKey.session_id;
  ASSERT_TRUE(test::writes(*s).put_lease(l));
  ASSERT_TRUE(test::writes(*s).put_binding("bob", "pk-bob"));
  ASSERT_TRUE(test::writes(*s).add_member("lobby", "bob"));
  ASSERT_TRUE(test::writes(*s).append_history("lobby", message("h1")));
  ASSERT_TRUE(test::writes(*s).remember_message_id("alice", "seen-1", 10000));
  ASSERT_TRUE(test::writes(*s).remember_nonce("request", "nonce-1", 1000, 120));
  ASSERT_TRUE(test::writes(*s).add_dead_letter(DeadLetter{message("dead-1"), "unknown_alias", 5}));
  for (int i = 0; i < kCommittedBatch; ++i) {
    ASSERT_TRUE(test::writes(*s).append({{kKey, message("a" + std::to_string(i))}}));
  }
  ASSERT_TRUE(s->wait_durable());
  say("committed");
  // Keep writing until killed; every "durable N" line promises b0..bN are committed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int i = 0; i < 10'000'000 && std::chrono::steady_clock::now() < deadline; ++i) {
    ASSERT_TRUE(test::writes(*s).append({{kKey, message("b" + std::to_string(i))}}));
    if (i % 50 == 49) {
      ASSERT_TRUE(s->wait_durable());
      say("durable " + std::to_string(i));
    }
  }
  FAIL() << "was not killed";
}

TEST(SqliteStoreDurability, KillAfterCommitLosesNothingCommitted) {
  test::TempDir dir("c2c-store-kill");
  const std::string path = (dir / "relay.db").string();
  test::ProcessOptions opts;
  opts.env[kChildEnv] = path;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  test::Child child({self, "--gtest_filter=SqliteStoreKillChild.WriteCommitThenKeepWriting"}, opts);
  auto committed = child.wait_for_line([](const std::string& l) { return l == "committed"; },
                                       std::chrono::seconds(60));
  ASSERT_TRUE(committed.has_value()) << child.out() << child.err();
  // Let it commit a few more batches so the kill lands in the middle of the write traffic.
  auto durable =
      child.wait_for_line([](const std::string& l) { return l.rfind("durable 499", 0) == 0; },
                          std::chrono::seconds(60));
  ASSERT_TRUE(durable.has_value()) << child.out() << child.err();
  child.signal(SIGKILL);
  EXPECT_EQ(child.wait(), 128 + SIGKILL);

  int last_durable = -1;
  std::istringstream lines(child.out());
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("durable ", 0) == 0) last_durable = std::stoi(line.substr(8));
  }
  ASSERT_GE(last_durable, 499);

  auto s = open_sqlite(path);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->get_lease("bob").value_or(Lease{}).session_id, "session");
  EXPECT_EQ(s->get_binding("bob").value_or(""), "pk-bob");
  EXPECT_EQ(s->get_room("lobby").value_or(Room{}).members, (std::vector<std::string>{"bob"}));
  EXPECT_EQ(s->history("lobby", 5).size(), 1u);
  EXPECT_TRUE(s->seen_message_id("alice", "seen-1"));
  EXPECT_FALSE(test::writes(*s).remember_nonce("request", "nonce-1", 1000, 120).value());
  EXPECT_EQ(s->dead_letters().size(), 1u);

  // The queue is a0..a299 then a gap-free prefix b0..bK with K >= the last durable promise:
  // transactions are atomic and applied in order.
  auto inbox = s->peek(kKey);
  ASSERT_GE(inbox.size(), static_cast<size_t>(kCommittedBatch + last_durable + 1));
  for (size_t i = 0; i < inbox.size(); ++i) {
    const std::string want =
        i < kCommittedBatch ? "a" + std::to_string(i) : "b" + std::to_string(i - kCommittedBatch);
    ASSERT_EQ(inbox[i].message_id, want) << "at position " << i;
  }
}

TEST(SqliteStoreDurability, ConcurrentCommitsShareTransactions) {
  test::TempDir dir("c2c-store-group");
  const std::string path = (dir / "relay.db").string();
  constexpr int kThreads = 32;
  constexpr int kRounds = 10;
  {
    auto s = open_sqlite(path);
    ASSERT_NE(s, nullptr);
    const auto before = s->stats();
    std::atomic<int> ready{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ++ready;
        while (ready.load() < kThreads) std::this_thread::yield();
        for (int r = 0; r < kRounds; ++r) {
          const std::string id = std::to_string(t) + "-" + std::to_string(r);
          if (!test::writes(*s).append({{kKey, message(id)}}) || !s->wait_durable()) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    const auto after = s->stats();
    const uint64_t commits = after.commit_calls - before.commit_calls;
    const uint64_t transactions = after.transactions - before.transactions;
    EXPECT_EQ(commits, uint64_t{kThreads * kRounds});
    EXPECT_LT(transactions, commits) << "group commit should share transactions";
    EXPECT_GE(transactions, 1u);
    std::printf("wait_durable() calls: %llu, transactions: %llu\n",
                static_cast<unsigned long long>(commits),
                static_cast<unsigned long long>(transactions));
  }
  auto s = open_sqlite(path);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->queued_messages(), size_t{kThreads * kRounds});
}

// The writer thread wakes on every record; if it took a running transaction's records it would
// commit the first write of an operation alone (a crash then keeps a message without its dedup
// entry). Each transaction here is two writes with a yield between them, then wait_durable():
// exactly one database transaction per Store transaction.
TEST(SqliteStoreTransaction, WritesOfATransactionShareOneDatabaseTransaction) {
  test::TempDir dir("c2c-store-tx");
  const std::string path = (dir / "relay.db").string();
  constexpr int kTransactions = 50;
  {
    auto s = open_sqlite(path);
    ASSERT_NE(s, nullptr);
    const auto before = s->stats();
    for (int i = 0; i < kTransactions; ++i) {
      ASSERT_TRUE(s->transact(relay::TxScope::kWhole, [&](relay::Tx& tx) -> Result<void> {
        C2C_TRY(tx.append({{kKey, message("m" + std::to_string(i))}}));
        std::this_thread::yield();
        C2C_TRY(tx.remember_message_id("alice", "m" + std::to_string(i), 10000));
        return {};
      }));
      ASSERT_TRUE(s->wait_durable());
    }
    const auto after = s->stats();
    EXPECT_EQ(after.records - before.records, uint64_t{2 * kTransactions});
    EXPECT_EQ(after.transactions - before.transactions, uint64_t{kTransactions})
        << "a database transaction held part of a Store transaction";
  }
  auto s = open_sqlite(path);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->queued_messages(), size_t{kTransactions});
  EXPECT_TRUE(s->seen_message_id("alice", "m0"));
  EXPECT_TRUE(s->seen_message_id("alice", "m" + std::to_string(kTransactions - 1)));
}

// Transactions run one at a time: another thread's transaction waits for the running one, whose
// records no database transaction takes before it ends; an undone transaction's records never
// reach the database, and a durability barrier does not wait for them.
TEST(SqliteStoreTransaction, AnotherTransactionWaitsAndUndoneRecordsAreDropped) {
  test::TempDir dir("c2c-store-tx2");
  const std::string path = (dir / "relay.db").string();
  {
    auto s = open_sqlite(path);
    ASSERT_NE(s, nullptr);
    const auto before = s->stats();
    std::promise<void> inside;
    std::promise<void> go_on;
    std::atomic<bool> other_done{false};
    std::thread first([&] {
      EXPECT_TRUE(s->transact(relay::TxScope::kWhole, [&](relay::Tx& tx) -> Result<void> {
        C2C_TRY(tx.append({{kKey, message("in-tx")}}));
        inside.set_value();
        go_on.get_future().wait();
        C2C_TRY(tx.remember_message_id("alice", "in-tx", 10000));
        return {};
      }));
    });
    inside.get_future().wait();
    std::thread other([&] {
      EXPECT_TRUE(test::writes(*s).remember_nonce("request", "n-1", 1000, 120).has_value());
      other_done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(other_done.load()) << "a transaction ran while another was running";
    EXPECT_EQ(s->stats().transactions, before.transactions);
    go_on.set_value();
    first.join();
    other.join();
    // Undone: neither write of this body is kept, in memory or on disk.
    auto undone = s->transact(relay::TxScope::kWhole, [&](relay::Tx& tx) -> Result<void> {
      C2C_TRY(tx.append({{kKey, message("undone")}}));
      C2C_TRY(tx.remember_message_id("alice", "undone", 10000));
      return fail(ErrorCode::kBadRequest, "changed my mind");
    });
    EXPECT_FALSE(undone);
    EXPECT_TRUE(s->wait_durable());
    const auto after = s->stats();
    EXPECT_EQ(after.records - before.records, 3u);
    EXPECT_EQ(s->queued_messages(), 1u);
    EXPECT_FALSE(s->seen_message_id("alice", "undone"));
  }
  auto s = open_sqlite(path);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->queued_messages(), 1u);
  EXPECT_TRUE(s->seen_message_id("alice", "in-tx"));
  EXPECT_FALSE(s->seen_message_id("alice", "undone"));
}

}  // namespace
}  // namespace c2c::relay
