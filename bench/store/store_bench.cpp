// Micro-benchmarks of the relay Store backends. See docs/performance/store.md for results.
//   store_bench --benchmark_filter=AppendCommit      throughput, 1 and 32 threads, per backend
//   store_bench --benchmark_filter=Drain             drain of a 1,000-message inbox
//   store_bench --benchmark_filter=MemoryPerMessage  RSS for 10,000 leases + 1,000,000 messages
//   store_bench --benchmark_filter=SqliteReopen      restart: open + load 200,000 queued messages
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "c2c/relay/store/store.hpp"

namespace c2c::relay {
namespace {

enum Backend { kMemory = 0, kSqlite = 1 };

// A scratch directory for SQLite files under $TMPDIR (or /tmp), removed on destruction.
class Scratch {
 public:
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr ? tmp : "/tmp") + "/c2c-store-bench-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) std::abort();
    path_ = templ;
  }
  ~Scratch() { std::filesystem::remove_all(path_); }
  std::string db() const { return (path_ / "relay.db").string(); }

 private:
  std::filesystem::path path_;
};

struct Fixture {
  std::unique_ptr<Scratch> scratch;
  std::unique_ptr<Store> store;
};
Fixture g;  // shared by the threads of one benchmark run; set up and torn down by thread 0

void open_fixture(Backend backend) {
  std::string url = "memory:";
  if (backend == kSqlite) {
    g.scratch = std::make_unique<Scratch>();
    url = "sqlite:" + g.scratch->db();
  }
  auto s = open_store(url);
  if (!s) {
    std::fprintf(stderr, "open_store: %s\n", s.error().message.c_str());
    std::abort();
  }
  g.store = std::move(s.value());
}

void close_fixture() {
  g.store.reset();
  g.scratch.reset();
}

// A 100-byte DM with a UUID-sized id, as the relay queues them.
StoredMessage hundred_byte_message(uint64_t n) {
  StoredMessage m;
  char id[40];
  std::snprintf(id, sizeof id, "%08llx-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(n >> 20), static_cast<unsigned long long>(n));
  m.message_id = id;
  m.from_alias = "agent-sender";
  m.to_alias = "agent-recipient";
  m.content = std::string(100, 'x');
  m.ts = 1'776'730'000.0 + static_cast<double>(n);
  return m;
}

// One append in its own transaction (the relay's /send writes its delivery in a kMessages one).
Result<void> append(Store& store, const std::vector<Delivery>& deliveries) {
  return store.transact(TxScope::kMessages, [&](Tx& tx) { return tx.append(deliveries); });
}

// Each iteration: one append of one message to the thread's own inbox, then wait_durable()
// (the relay's /send path: store the message, make it durable, acknowledge).
void BM_AppendCommit(benchmark::State& state) {
  const auto backend = static_cast<Backend>(state.range(0));
  if (state.thread_index() == 0) open_fixture(backend);
  const InboxKey key{"node", "session-" + std::to_string(state.thread_index())};
  uint64_t n = static_cast<uint64_t>(state.thread_index()) << 40;
  for (auto _ : state) {
    if (!append(*g.store, {{key, hundred_byte_message(n++)}}) || !g.store->wait_durable()) {
      state.SkipWithError("store write failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.SetLabel(std::string(g.store->kind()));
    close_fixture();
  }
}
BENCHMARK(BM_AppendCommit)->Arg(kMemory)->Threads(1)->Threads(32)->UseRealTime();
BENCHMARK(BM_AppendCommit)->Arg(kSqlite)->Threads(1)->Threads(32)->UseRealTime();

// Each iteration drains (and commits the removal of) an inbox holding 1,000 messages.
void BM_Drain(benchmark::State& state) {
  constexpr int kQueued = 1000;
  open_fixture(static_cast<Backend>(state.range(0)));
  const InboxKey key{"node", "session"};
  std::vector<Delivery> batch;
  for (int i = 0; i < kQueued; ++i) batch.push_back({key, hundred_byte_message(i)});
  for (auto _ : state) {
    state.PauseTiming();
    if (!append(*g.store, batch) || !g.store->wait_durable()) std::abort();
    state.ResumeTiming();
    auto taken =
        transact_value(*g.store, TxScope::kOneWrite, [&](Tx& tx) { return tx.drain(key); });
    if (!taken || taken->size() != kQueued || !g.store->wait_durable()) {
      state.SkipWithError("drain failed");
      break;
    }
    benchmark::DoNotOptimize(taken);
  }
  state.SetItemsProcessed(state.iterations() * kQueued);
  state.SetLabel(std::string(g.store->kind()));
  close_fixture();
}
BENCHMARK(BM_Drain)->Arg(kMemory)->Arg(kSqlite)->Unit(benchmark::kMicrosecond);

size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages_total = 0;
  size_t pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// RSS growth for the relay's sizing target: 10,000 leases, then 1,000,000 queued 100-byte
// messages spread over their 10,000 inboxes, in a MemoryStore.
void BM_MemoryPerMessage(benchmark::State& state) {
  constexpr int kLeases = 10'000;
  constexpr int kMessages = 1'000'000;
  for (auto _ : state) {
    const size_t before = rss_bytes();
    auto opened = open_store("memory:");
    if (!opened) std::abort();
    auto& store = *opened.value();
    for (int i = 0; i < kLeases; ++i) {
      Lease l;
      l.alias = "agent-" + std::to_string(i);
      l.node_id = "host-" + std::to_string(i % 100) + "-local";
      l.session_id = "session-" + std::to_string(i);
      l.identity_pk = std::string(43, 'k');
      l.enc_pubkey = std::string(43, 'e');
      l.sig_b64 = std::string(86, 's');
      if (!store.transact(TxScope::kWhole, [&](Tx& tx) { return tx.put_lease(l); })) std::abort();
    }
    const size_t after_leases = rss_bytes();
    for (int i = 0; i < kMessages; ++i) {
      const int r = i % kLeases;
      const InboxKey key{"host-" + std::to_string(r % 100) + "-local",
                         "session-" + std::to_string(r)};
      if (!append(store, {{key, hundred_byte_message(static_cast<uint64_t>(i))}})) std::abort();
    }
    const size_t after = rss_bytes();
    if (store.queued_messages() != kMessages) std::abort();
    state.counters["leases_MB"] = static_cast<double>(after_leases - before) / 1e6;
    state.counters["messages_MB"] = static_cast<double>(after - after_leases) / 1e6;
    state.counters["total_MB"] = static_cast<double>(after - before) / 1e6;
    state.counters["bytes_per_msg"] =
        static_cast<double>(after - after_leases) / static_cast<double>(kMessages);
    state.counters["process_RSS_MB"] = static_cast<double>(after) / 1e6;
  }
}
BENCHMARK(BM_MemoryPerMessage)->Iterations(1)->Unit(benchmark::kMillisecond);

// A relay restart with SQLite storage: opening the database loads every queued message.
void BM_SqliteReopen(benchmark::State& state) {
  constexpr int kMessages = 200'000;
  Scratch scratch;
  const std::string url = "sqlite:" + scratch.db();
  {
    auto s = open_store(url);
    if (!s) std::abort();
    std::vector<Delivery> batch;
    for (int i = 0; i < kMessages; ++i) {
      const InboxKey key{"node", "session-" + std::to_string(i % 1000)};
      batch.push_back({key, hundred_byte_message(static_cast<uint64_t>(i))});
      if (batch.size() == 10'000) {
        if (!append(*s.value(), batch)) std::abort();
        batch.clear();
      }
    }
    if (!s.value()->wait_durable()) std::abort();
  }
  for (auto _ : state) {
    auto s = open_store(url);
    if (!s || s.value()->queued_messages() != kMessages) {
      state.SkipWithError("reopen lost messages");
      break;
    }
    state.PauseTiming();
    s.value().reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kMessages);
}
BENCHMARK(BM_SqliteReopen)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace c2c::relay

BENCHMARK_MAIN();
