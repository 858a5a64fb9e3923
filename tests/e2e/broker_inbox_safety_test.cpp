// Data safety of the inbox commands with the real binary (issue 8.12, 8.23, 8.25): poll-inbox
// drains only what reached its stdout, history reports torn archive lines, dead-letter shows
// remote dead letters, and one content limit applies to every send.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "broker_cli_fixture.hpp"
#include "c2c/broker/broker.hpp"

namespace c2c::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class InboxSafety : public BrokerCli {
 protected:
  // Starts `c2c args` (environment: PATH and this fixture's env) with stdout on out_fd and
  // stderr on err_fd.
  pid_t spawn(const std::vector<std::string>& args, int out_fd, int err_fd) {
    std::vector<std::string> words = {c2c_bin()};
    words.insert(words.end(), args.begin(), args.end());
    // The fixture's root explicitly: this process's cwd is not the fixture's (outside a repo).
    std::vector<std::string> env_words = {"PATH=/usr/bin:/bin",
                                          "C2C_MCP_BROKER_ROOT=" + root().string()};
    for (const auto& [k, v] : env) env_words.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    for (auto& w : env_words) envp.push_back(w.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0);
    return pid;
  }
  static int wait_exit(pid_t pid) {
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void send_many(int n, size_t size) {
    for (int i = 0; i < n; ++i) {
      const std::string body = "m" + std::to_string(i) + " " + std::string(size, 'x');
      ASSERT_EQ(c2c({"send", "bob", body, "--from", "alice"}).exit_code, 0);
    }
  }
  size_t queued() { return json_of(c2c({"peek-inbox", "--json", "-s", "ses-b"})).size(); }
};

// Issue 8.12: the reader went away before anything was written (`c2c poll-inbox | head` with a
// head that already exited): the poll fails and drains nothing (it used to drain first and
// then die of SIGPIPE, losing every message).
TEST_F(InboxSafety, PollInboxIntoAClosedPipeDrainsNothing) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  send_many(5, 10);
  int out[2], err[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
  ::close(out[0]);  // nobody will ever read stdout
  const pid_t pid = spawn({"poll-inbox", "-s", "ses-b"}, out[1], err[1]);
  ::close(out[1]);
  ::close(err[1]);
  const int code = wait_exit(pid);
  std::string stderr_text;
  char buf[4096];
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;) stderr_text.append(buf, n);
  ::close(err[0]);
  EXPECT_EQ(code, 1) << stderr_text;
  EXPECT_TRUE(has(stderr_text, "error: cannot write the messages to stdout")) << stderr_text;
  EXPECT_TRUE(has(stderr_text, "nothing was drained")) << stderr_text;
  EXPECT_EQ(queued(), 5u);
  // Nothing was removed, so nothing is reported read to the sender either.
  const std::string id =
      json_of(c2c({"peek-inbox", "--json", "-s", "ses-b"}))[0]["message_id"].get<std::string>();
  EXPECT_EQ(json_of(c2c({"delivery-status", id, "--json"}))["state"], "delivered");
  // The next poll gets all of them, once.
  EXPECT_EQ(json_of(c2c({"poll-inbox", "--json", "-s", "ses-b"})).size(), 5u);
  EXPECT_EQ(queued(), 0u);
  EXPECT_EQ(json_of(c2c({"delivery-status", id, "--json"}))["state"], "read");
}

// Issue 8.12: kill -9 while poll-inbox is still writing (its reader is slow: the pipe is full)
// loses nothing, and the archive gets each message once, with no torn line.
TEST_F(InboxSafety, PollInboxKilledMidWriteLosesNothing) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  send_many(4, 32 * 1024);  // ~128 KiB of output: more than a pipe holds (64 KiB)
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const pid_t pid = spawn({"poll-inbox", "-s", "ses-b"}, out[1], devnull);
  ::close(out[1]);
  ::close(devnull);
  // Readiness: the pipe is full, so poll-inbox is blocked in write(2).
  const int capacity = ::fcntl(out[0], F_GETPIPE_SZ);
  ASSERT_GT(capacity, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int pending = 0;
  while ((::ioctl(out[0], FIONREAD, &pending), pending) < capacity &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(pending, capacity) << "poll-inbox never filled its stdout pipe";
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_exit(pid), 128 + SIGKILL);
  ::close(out[0]);

  EXPECT_EQ(queued(), 4u);  // nothing acknowledged, nothing lost
  const auto polled = json_of(c2c({"poll-inbox", "--json", "-s", "ses-b"}));
  ASSERT_EQ(polled.size(), 4u);
  auto hist = c2c({"history", "--json", "--limit", "1000", "-s", "ses-b"});
  EXPECT_EQ(hist.err, "");  // no torn line to warn about
  const auto entries = json_of(hist);
  EXPECT_EQ(entries.size(), 4u);
  std::set<std::string> ids;
  for (const auto& e : entries) ids.insert(e.value("message_id", ""));
  EXPECT_EQ(ids.size(), 4u);
}

// Issue 8.12: a torn line in the archive (left by an older c2c killed mid-append) is reported,
// not silently skipped.
TEST_F(InboxSafety, HistoryWarnsAboutATornArchiveLine) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  send_many(2, 10);
  ASSERT_EQ(c2c({"poll-inbox", "-s", "ses-b"}).exit_code, 0);
  const fs::path archive = root() / "archive" / "ses-b.jsonl";
  std::string text = read_file(archive);
  const size_t first_end = text.find('\n');
  ASSERT_NE(first_end, std::string::npos);
  text.insert(first_end + 1, "{\"drained_at\":1.0,\"drained_by\":\"cli_po\n");
  write_file(archive, text);
  auto r = c2c({"history", "-s", "ses-b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.err, "warning: skipped 1 unreadable line(s) of the archive")) << r.err;
  EXPECT_TRUE(has(r.out, "alice -> bob: m0")) << r.out;
  EXPECT_TRUE(has(r.out, "alice -> bob: m1")) << r.out;
}

// Issue 8.23: a remote send the connector dead-lettered shows in `c2c dead-letter`, with the
// relay's reason (it used to say "No dead letters.").
TEST_F(InboxSafety, DeadLetterShowsRemoteDeadLettersWithTheReason) {
  reg("alice", "ses-a");
  ASSERT_EQ(c2c({"send", "bob@machine-b", "hello B", "--from", "alice"}).exit_code, 0);
  // What the connector does when the relay refuses the send for good.
  broker::Broker b(root());
  auto outbox = b.read_outbox();
  ASSERT_TRUE(outbox && outbox->size() == 1u);
  ASSERT_TRUE(b.settle_outbox(
      {{(*outbox)[0].message_id, broker::OutboxOutcome::Kind::kDeadLetter, "unknown_host"}}));
  auto r = c2c({"dead-letter"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "alice -> bob@machine-b (remote, not delivered: unknown_host): hello B"))
      << r.out;
  const auto j = json_of(c2c({"dead-letter", "--json"}));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["kind"], "remote");
  EXPECT_EQ(j[0]["reason"], "unknown_host");
  EXPECT_EQ(j[0]["message"]["to_alias"], "bob@machine-b");
  EXPECT_EQ(j[0]["message"]["message_id"], (*outbox)[0].message_id);
}

// Issue 8.25: one content limit (256 KiB, the relay's) at send time, local and remote alike.
TEST_F(InboxSafety, SendOverTheContentLimitIsRefusedBeforeQueueing) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  // One argv word may hold at most 128 KiB: the body is four words joined with spaces.
  auto send = [&](const std::string& to, size_t total, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"send", to};
    const size_t word = (total - 3) / 4;
    for (int i = 0; i < 4; ++i)
      args.push_back(std::string(i < 3 ? word : total - 3 - 3 * word, 'a'));
    args.insert(args.end(), {"--from", "alice"});
    args.insert(args.end(), extra.begin(), extra.end());
    return c2c(args);
  };
  ASSERT_EQ(send("bob", 256 * 1024).exit_code, 0);
  for (const char* to : {"bob", "bob@machine-b"}) {
    auto r = send(to, 256 * 1024 + 1);
    EXPECT_EQ(r.exit_code, 1);
    expect_one_error_line(r, "message content is 262145 bytes; the limit is 262144 bytes");
  }
  // The tag prefix counts.
  auto tagged = send("bob", 256 * 1024, {"--urgent"});
  EXPECT_EQ(tagged.exit_code, 1) << tagged.err;
  EXPECT_EQ(queued(), 1u);
  EXPECT_FALSE(fs::exists(root() / "remote-outbox.jsonl"));
}

}  // namespace
}  // namespace c2c::test
