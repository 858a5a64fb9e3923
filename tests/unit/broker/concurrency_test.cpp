// Many writers, one inbox: processes (fork) and threads sending while another drains. Every
// message must arrive exactly once and, per sender, in send order (FIFO). Also: writers
// killed mid-write leave only whole, parseable files behind.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "broker_fixture.hpp"
#include "c2c/broker/codec.hpp"
#include "c2c/broker/files.hpp"

namespace c2c::broker {
namespace {

using test_support::BrokerTest;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kWriters = 8;
constexpr int kPerWriter = 500;

// Parses "w<writer>-<seq>" and checks each writer's sequence arrives in order, once.
void account(const std::vector<Message>& msgs, std::map<int, int>& next_seq,
             std::set<std::string>& ids, std::vector<std::string>& problems) {
  for (const auto& m : msgs) {
    int writer = -1, seq = -1;
    if (std::sscanf(m.content.c_str(), "w%d-%d", &writer, &seq) != 2) {
      problems.push_back("unexpected content: " + m.content);
      continue;
    }
    if (seq != next_seq[writer]) {
      problems.push_back("writer " + std::to_string(writer) + ": got " + std::to_string(seq) +
                         ", expected " + std::to_string(next_seq[writer]));
    }
    next_seq[writer] = seq + 1;
    if (!m.message_id || !ids.insert(*m.message_id).second) {
      problems.push_back("duplicate or missing message_id for " + m.content);
    }
  }
}

// These tests are about mutual exclusion, which fsync does not affect; with it, 4,000 sends
// on a loaded CI disk take a minute (one fsync per inbox rewrite, all serialized on one
// inbox lock). Forked writers inherit the setting.
class NoFsync {
 public:
  NoFsync() { files::set_fsync_enabled(false); }
  ~NoFsync() { files::set_fsync_enabled(true); }
};

TEST_F(BrokerTest, EightProcessesSendWhileAnotherDrainsExactlyOnce) {
  NoFsync no_fsync;
  reg("sink", "ses-sink");
  for (int w = 0; w < kWriters; ++w) reg("w" + std::to_string(w), "ses-w" + std::to_string(w));

  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Child: its own Broker on the same root, as a separate c2c process would have.
      Broker b(root());
      int failures = 0;
      for (int i = 0; i < kPerWriter; ++i) {
        auto r = b.send("w" + std::to_string(w), "sink",
                        "w" + std::to_string(w) + "-" + std::to_string(i));
        if (!r) ++failures;
      }
      ::_exit(failures == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }

  // This process drains concurrently, bounded in time.
  std::map<int, int> next_seq;
  std::set<std::string> ids;
  std::vector<std::string> problems;
  size_t received = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(240);
  while (received < kWriters * kPerWriter && Clock::now() < deadline) {
    auto msgs = broker_.poll("ses-sink");
    ASSERT_TRUE(msgs.has_value()) << msgs.error().message;
    account(*msgs, next_seq, ids, problems);
    received += msgs->size();
    if (msgs->empty()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (pid_t pid : children) {
    if (Clock::now() >= deadline) ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer failed: " << status;
  }
  // Anything that landed after the last poll.
  auto rest = broker_.poll("ses-sink");
  ASSERT_TRUE(rest.has_value());
  account(*rest, next_seq, ids, problems);
  received += rest->size();

  EXPECT_EQ(received, static_cast<size_t>(kWriters * kPerWriter));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kWriters * kPerWriter));
  for (int w = 0; w < kWriters; ++w) EXPECT_EQ(next_seq[w], kPerWriter) << "writer " << w;
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: " << problems.front();
  // The archive holds every drained message exactly once too.
  auto hist = broker_.history("ses-sink", 100000);
  ASSERT_TRUE(hist.has_value());
  EXPECT_EQ(hist->size(), static_cast<size_t>(kWriters * kPerWriter));
}

TEST_F(BrokerTest, ThreadsOfOneProcessExcludeEachOther) {
  NoFsync no_fsync;
  reg("sink", "ses-sink");
  constexpr int kThreads = 4, kEach = 100;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Separate Broker objects (like separate MCP sessions) and a shared one.
      Broker own(root());
      Broker& b = t % 2 == 0 ? own : broker_;
      for (int i = 0; i < kEach; ++i) {
        if (!b.send("w" + std::to_string(t), "sink",
                    "w" + std::to_string(t) + "-" + std::to_string(i))) {
          ++failures;
        }
      }
    });
  }
  std::map<int, int> next_seq;
  std::set<std::string> ids;
  std::vector<std::string> problems;
  size_t received = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  std::thread drainer([&] {
    Broker b(root());
    while (received < kThreads * kEach && Clock::now() < deadline) {
      auto msgs = b.poll("ses-sink");
      if (!msgs) {
        problems.push_back(msgs.error().message);
        return;
      }
      account(*msgs, next_seq, ids, problems);
      received += msgs->size();
    }
  });
  for (auto& t : threads) t.join();
  drainer.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(received, static_cast<size_t>(kThreads * kEach));
  EXPECT_TRUE(problems.empty()) << problems.front();
}

// A writer SIGKILLed at arbitrary points (with large inboxes, so writes take a while) never
// leaves a torn registry or inbox: readers always get the old or the new whole file.
TEST_F(BrokerTest, WritersKilledMidWriteLeaveNoCorruptJson) {
  reg("sink", "ses-sink");
  const std::string big(64 * 1024, 'x');
  for (int round = 0; round < 12; ++round) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Broker b(root());
      for (int i = 0; i < 1000; ++i) {
        (void)b.send("writer", "sink", big);
        RegisterRequest req{"ses-x" + std::to_string(i % 7), "x" + std::to_string(i % 7),
                            std::nullopt};
        (void)b.register_session(req);
        (void)b.send("writer", "far@host", "remote");
      }
      ::_exit(0);
    }
    // Kill after a varying delay, so deaths land at different points of the write path.
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + round * 7));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);

    auto regs = broker_.registrations();
    ASSERT_TRUE(regs.has_value()) << "round " << round << ": " << regs.error().message;
    auto inbox = broker_.peek("ses-sink");
    ASSERT_TRUE(inbox.has_value()) << "round " << round << ": " << inbox.error().message;
    for (const auto& m : *inbox) ASSERT_EQ(m.content, big);
    // A torn outbox line (if the kill hit an append) is moved aside, never fatal.
    auto outbox = broker_.read_outbox();
    ASSERT_TRUE(outbox.has_value()) << outbox.error().message;
    for (const auto& e : *outbox) ASSERT_EQ(e.content, "remote");
    // Drain so the next round starts small; the drain itself must work after a kill.
    ASSERT_TRUE(broker_.poll("ses-sink").has_value());
  }
  // Every stray tmp file belongs to a killed writer; none replaced a real file.
  for (const auto& e : fs::directory_iterator(root())) {
    const auto name = e.path().filename().string();
    if (name.find(".tmp.") != std::string::npos) continue;
    if (name.size() > 5 && name.substr(name.size() - 5) == ".json") {
      auto j = nlohmann::json::parse(c2c::test::read_file(e.path()), nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << name;
    }
  }
}

// Issue 8.12: the torn tail of a writer killed mid-append (never acknowledged: appenders hold
// the lock and report success only after the whole line) is cut off, so no reader ever meets a
// torn line; it used to stay in the file as a line of its own.
TEST(AppendLineTest, TornLastLineOfAKilledWriterIsCutOff) {
  c2c::test::TempDir dir;
  const auto path = dir.path() / "log.jsonl";
  c2c::test::write_file(path, "{\"a\":1}\n{\"torn\":");
  ASSERT_TRUE(files::append_line(path, "{\"b\":2}").has_value());
  EXPECT_EQ(c2c::test::read_file(path), "{\"a\":1}\n{\"b\":2}\n");
  // A torn first line (longer than one read chunk) goes too.
  c2c::test::write_file(path, "{\"torn\":\"" + std::string(200'000, 'x'));
  ASSERT_TRUE(files::append_line(path, "{\"c\":3}\n{\"d\":4}").has_value());
  EXPECT_EQ(c2c::test::read_file(path), "{\"c\":3}\n{\"d\":4}\n");
}

}  // namespace
}  // namespace c2c::broker
