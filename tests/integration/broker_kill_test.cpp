// Broker writers killed mid-write: a child process loops over sends (local inbox rewrite),
// remote sends (outbox append) and registrations (registry rewrite) and reports each completed
// operation on a pipe; it is SIGKILLed after a varying number of completions. Afterwards:
//  - registry.json, every inbox and the outbox read back without error (atomic replace, torn
//    outbox lines isolated),
//  - every operation the child completed is there exactly once (nothing lost, nothing doubled),
//  - no stale lock: a new writer in a fresh process completes within a bound.

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "support/temp_dir.hpp"

namespace c2c::itest {
namespace {

namespace fs = std::filesystem;

constexpr int kRounds = 12;

// The writer loop run by the child; never returns.
[[noreturn]] void writer(const fs::path& root, int round, int report_fd) {
  broker::Broker b(root);
  for (int i = 0;; ++i) {
    const std::string tag = "k" + std::to_string(round) + "-" + std::to_string(i);
    std::string line;
    switch (i % 3) {
      case 0:
        if (b.send("alice", "bob", tag)) line = "L " + tag;
        break;
      case 1:
        if (b.send("alice", "carol@machine-b", tag)) line = "R " + tag;
        break;
      default: {
        broker::RegisterRequest req;
        req.session_id = "w" + std::to_string(i % 7);
        req.alias = "worker" + std::to_string(i % 7);
        req.pid = ::getppid();
        req.guard_alias = false;
        if (b.register_session(req)) line = "G " + req.session_id;
      }
    }
    if (line.empty()) _exit(3);  // an operation failed on its own: the parent reports it
    line += "\n";
    if (::write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
  }
}

// Reads lines from fd until `want` lines arrived (or EOF / 20 s); returns them.
std::vector<std::string> read_lines(int fd, size_t want, std::string& pending) {
  std::vector<std::string> lines;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  char buf[4096];
  while (lines.size() < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      lines.push_back(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  }
  return lines;
}

// Runs `op` in a fresh process; true if it exits 0 within `limit` (false = stuck on a lock).
template <typename Op>
bool completes_in_child(Op op, std::chrono::seconds limit) {
  const pid_t pid = ::fork();
  if (pid == 0) _exit(op() ? 0 : 1);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    ::poll(nullptr, 0, 10);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return false;
}

TEST(BrokerKill, KilledWritersLeaveReadableFilesNoStaleLockAndLoseNothing) {
  test::TempDir dir;
  const fs::path root = dir / "broker";
  broker::Broker b(root);
  for (const char* who : {"alice", "bob"}) {
    broker::RegisterRequest req;
    req.session_id = std::string("s-") + who;
    req.alias = who;
    req.pid = ::getpid();
    ASSERT_TRUE(b.register_session(req)) << who;
  }

  std::multiset<std::string> local_acked, remote_acked;
  size_t registers = 0;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      writer(root, round, fds[1]);
    }
    ::close(fds[1]);
    // Kill after a growing number of completed operations: early, mid-stream, later.
    std::string pending;
    auto lines = read_lines(fds[0], 1 + static_cast<size_t>(round) * 7, pending);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "writer exited on its own with " << WEXITSTATUS(status) << " in round " << round;
    // Completions reported between our last read and the kill.
    for (auto& l : read_lines(fds[0], SIZE_MAX, pending)) lines.push_back(std::move(l));
    ::close(fds[0]);
    for (const auto& l : lines) {
      if (l.rfind("L ", 0) == 0) local_acked.insert(l.substr(2));
      if (l.rfind("R ", 0) == 0) remote_acked.insert(l.substr(2));
      if (l.rfind("G ", 0) == 0) ++registers;
    }

    // The files read back whole after every kill.
    auto regs = b.registrations();
    ASSERT_TRUE(regs) << "round " << round << ": " << regs.error().message;
    std::set<std::string> aliases;
    for (const auto& r : *regs) aliases.insert(r.alias);
    EXPECT_TRUE(aliases.count("alice") && aliases.count("bob")) << "round " << round;
    auto inbox = b.peek("s-bob");
    ASSERT_TRUE(inbox) << "round " << round << ": " << inbox.error().message;
    auto outbox = b.read_outbox();
    ASSERT_TRUE(outbox) << "round " << round << ": " << outbox.error().message;

    // No stale lock: a fresh process can take every lock the writer used.
    EXPECT_TRUE(completes_in_child(
        [&root] {
          broker::Broker fresh(root);
          broker::RegisterRequest req;
          req.session_id = "after-kill";
          req.alias = "after-kill";
          req.pid = ::getppid();
          return fresh.send("alice", "bob", "probe").has_value() &&
                 fresh.send("alice", "carol@machine-b", "probe").has_value() &&
                 fresh.register_session(req).has_value();
        },
        std::chrono::seconds(10)))
        << "round " << round << ": a writer after the kill did not complete (stale lock?)";
  }

  // Every completed operation is present exactly once.
  auto inbox = b.peek("s-bob");
  ASSERT_TRUE(inbox);
  std::multiset<std::string> in_inbox;
  for (const auto& m : *inbox) {
    if (m.content != "probe") in_inbox.insert(m.content);
  }
  size_t lost = 0, duplicated = 0;
  for (const auto& c : local_acked) {
    const size_t n = in_inbox.count(c);
    lost += n == 0;
    duplicated += n > 1;
  }
  auto outbox = b.read_outbox();
  ASSERT_TRUE(outbox);
  std::multiset<std::string> in_outbox;
  for (const auto& e : *outbox) {
    if (e.content != "probe") in_outbox.insert(e.content);
  }
  for (const auto& c : remote_acked) {
    const size_t n = in_outbox.count(c);
    lost += n == 0;
    duplicated += n > 1;
  }
  // Whatever else is there was written but not yet reported when the writer died.
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicated, 0u);
  EXPECT_LE(in_inbox.size(), local_acked.size() + kRounds);
  EXPECT_LE(in_outbox.size(), remote_acked.size() + kRounds);

  size_t leftovers = 0;
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) ++leftovers;
  }
  std::printf(
      "broker kill: %d kills, %zu local sends, %zu remote sends, %zu registrations "
      "acknowledged; lost %zu, duplicated %zu; %zu temp files left by killed writers\n",
      kRounds, local_acked.size(), remote_acked.size(), registers, lost, duplicated, leftovers);
}

}  // namespace
}  // namespace c2c::itest
