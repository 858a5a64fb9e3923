// A full disk under the SQLite relay (issue 8.9, docs/reliability.md "Disk full"): on a small
// tmpfs the test mounts itself, in a private mount namespace (`unshare -m`), the relay
//   - answers writes it cannot persist with 503 storage_unavailable + Retry-After, never 200;
//   - keeps serving signed reads (their nonces are refused from memory, persisted best-effort),
//     replay protection included;
//   - recovers by itself, without a restart, once space returns, and its failed attempts have
//     not eaten the space that came back;
//   - kept every write it acknowledged (the database is reopened and checked).
// Without the privilege to mount (not root, no CAP_SYS_ADMIN) the test skips with the reason.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "c2c/relay/store/sqlite_store.hpp"
#include "support/process.hpp"
#include "support/relay_harness.hpp"
#include "support/temp_dir.hpp"

namespace c2c::relay {
namespace {

using testing::Harness;
using testing::HarnessOptions;
using testing::Json;
using testing::key;
using testing::session;

namespace fs = std::filesystem;

constexpr const char* kChildEnv = "C2C_DISK_FULL_CHILD_DIR";
constexpr const char* kTmpfsSize = "size=2m,mode=0700";

Json send_body(const std::string& id, const std::string& content) {
  return {{"from_alias", "alice"}, {"to_alias", "bob"}, {"content", content}, {"message_id", id}};
}

// Fills the file system holding `path` with one file until ENOSPC; true if it got there.
bool fill_disk(const fs::path& path) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  std::setvbuf(f, nullptr, _IONBF, 0);
  const std::string chunk(4096, 'x');
  bool full = false;
  for (int i = 0; i < 100'000 && !full; ++i) {  // bounded: 400 MB at most
    if (std::fwrite(chunk.data(), 1, chunk.size(), f) != chunk.size()) full = errno == ENOSPC;
  }
  // The last partial page too: byte by byte until nothing fits.
  for (int i = 0; i < 4096 && full; ++i) {
    if (std::fwrite("x", 1, 1, f) != 1) break;
  }
  std::fclose(f);
  return full;
}

uint64_t free_bytes(const fs::path& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

// Runs only inside the child started by RelayRecoversByItselfAndNeverAcksUnsavedWrites, in its
// own mount namespace.
TEST(SqliteDiskFullChild, Scenario) {
  const char* dir_env = std::getenv(kChildEnv);
  if (dir_env == nullptr) GTEST_SKIP() << "helper for SqliteDiskFull (runs under unshare -m)";
  const fs::path dir = dir_env;
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, kTmpfsSize) != 0) {
    std::printf("NO-MOUNT: mount -t tmpfs -o %s on %s: %s\n", kTmpfsSize, dir.c_str(),
                std::strerror(errno));
    GTEST_SKIP() << "cannot mount a tmpfs";
  }
  const fs::path db = dir / "relay.db";
  std::set<std::string> acknowledged;
  {
    HarnessOptions o;
    o.token = "admin-token";  // prod: every inbox read is signed and records a nonce
    o.store_url = "sqlite:" + db.string();
    o.config.inbox_page.max_messages = 100'000;  // one peek shows every acknowledged message
    Harness h(o);
    h.async = true;  // answered through Store::when_durable, as the server does
    auto ka = key(1), kb = key(2);
    ASSERT_TRUE(h.register_alias("alice", "na", "sa", &ka).ok());
    ASSERT_TRUE(h.register_alias("bob", "nb", "sb", &kb).ok());
    const std::string content(2000, 'c');
    int next = 0;
    auto send = [&]() {
      const std::string id = "m" + std::to_string(next++);
      auto r = h.signed_post(ka, "alice", "/send", send_body(id, content));
      if (r.status == 200) acknowledged.insert(id);
      return r;
    };
    for (int i = 0; i < 5; ++i) ASSERT_EQ(send().status, 200);

    // The disk fills up (another process, a log...): writes fail, and say so.
    ASSERT_TRUE(fill_disk(dir / "filler"));
    testing::Reply refused;
    for (int i = 0; i < 200 && refused.status != 503; ++i) {
      refused = send();
      ASSERT_TRUE(refused.status == 200 || refused.status == 503)
          << refused.status << " " << refused.raw.body;
    }
    ASSERT_EQ(refused.status, 503) << "200 writes were acknowledged on a full disk";
    EXPECT_EQ(refused.code(), "storage_unavailable") << refused.raw.body;
    bool retry_after = false;
    for (const auto& hd : refused.raw.headers) retry_after |= hd.name == "Retry-After";
    EXPECT_TRUE(retry_after) << "a 503 tells the client when to retry";
    for (int i = 0; i < 20; ++i) {
      auto r = send();
      EXPECT_EQ(r.status, 503) << "still full: " << r.raw.body;
      EXPECT_EQ(r.code(), "storage_unavailable");
    }

    // Reads that write nothing durable keep working, replay protection included.
    for (int i = 0; i < 50; ++i) {
      auto peek = h.signed_post(kb, "bob", "/peek_inbox", session("nb", "sb"));
      ASSERT_EQ(peek.status, 200) << "signed read on a full disk: " << peek.raw.body;
      ASSERT_GE(peek.body["messages"].size(), 5u);
    }
    const std::string body = session("nb", "sb").dump();
    const std::string auth = h.sign(kb, "bob", "POST", "/peek_inbox", body);
    EXPECT_EQ(h.call("POST", "/peek_inbox", body, {{"Authorization", auth}}).status, 200);
    auto replay = h.call("POST", "/peek_inbox", body, {{"Authorization", auth}});
    EXPECT_EQ(replay.status, 401) << replay.raw.body;
    EXPECT_EQ(replay.code(), "nonce_replay");

    // Space comes back: the relay recovers by itself (no restart), within its retry backoff.
    fs::remove(dir / "filler");
    const uint64_t freed = free_bytes(dir);
    ASSERT_GT(freed, 1u << 20);
    testing::Reply recovered;
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < std::chrono::seconds(15)) {
      recovered = send();
      if (recovered.status == 200) break;
      ASSERT_EQ(recovered.status, 503) << recovered.raw.body;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // no event marks recovery
    }
    ASSERT_EQ(recovered.status, 200) << "no recovery without a restart: " << recovered.raw.body;
    for (int i = 0; i < 20; ++i) ASSERT_EQ(send().status, 200);
    // The failed attempts did not eat the space that came back.
    EXPECT_GT(free_bytes(dir), freed / 2) << "free after recovery vs when the filler went";
    // The recipient drains what was acknowledged.
    auto poll = h.signed_post(kb, "bob", "/peek_inbox", session("nb", "sb"));
    ASSERT_EQ(poll.status, 200);
    std::set<std::string> seen;
    for (const auto& m : poll.body["messages"]) seen.insert(m["message_id"].get<std::string>());
    for (const auto& id : acknowledged) EXPECT_TRUE(seen.contains(id)) << id << " in memory";
  }
  // Everything acknowledged is in the database.
  auto reopened = SqliteStore::open(db.string());
  ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
  std::set<std::string> stored;
  for (const auto& m : reopened.value()->peek(InboxKey{"nb", "sb"})) stored.insert(m.message_id);
  for (const auto& id : acknowledged) EXPECT_TRUE(stored.contains(id)) << id << " on disk";
  std::printf("DISK-FULL-OK acknowledged=%zu stored=%zu\n", acknowledged.size(), stored.size());
}

// unshare(1) from util-linux, found on $PATH ("" if missing).
std::string unshare_bin() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / "unshare";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return {};
}

TEST(SqliteDiskFull, RelayRecoversByItselfAndNeverAcksUnsavedWrites) {
  const std::string unshare = unshare_bin();
  if (unshare.empty()) {
    GTEST_SKIP() << "SKIPPED, NOT TESTED: the disk-full test needs unshare(1) (util-linux) to "
                    "mount its own tmpfs in a private mount namespace";
  }
  auto probe = test::run({unshare, "-m", "--propagation", "private", "/bin/true"});
  if (probe.exit_code != 0) {
    GTEST_SKIP() << "SKIPPED, NOT TESTED: the disk-full test needs a private mount namespace "
                    "(root or CAP_SYS_ADMIN) to mount its own tmpfs; `unshare -m` said: "
                 << probe.err;
  }
  test::TempDir dir("c2c-disk-full");
  test::ProcessOptions opts;
  opts.env[kChildEnv] = dir.str();
  opts.timeout = std::chrono::seconds(120);
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  auto r = test::run({unshare, "-m", "--propagation", "private", self,
                      "--gtest_filter=SqliteDiskFullChild.Scenario"},
                     opts);
  if (r.out.find("NO-MOUNT:") != std::string::npos) {
    GTEST_SKIP() << "SKIPPED, NOT TESTED: cannot mount a tmpfs in the private namespace: " << r.out;
  }
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("DISK-FULL-OK"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace c2c::relay
