// Issue 8.2 / 8.8: broker files are never followed through symlinks, broker directories of
// another user or writable by others are refused, and what the broker creates is private.
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "broker_fixture.hpp"
#include "c2c/broker/files.hpp"
#include "support/temp_dir.hpp"

namespace c2c::broker {
namespace {

using test_support::BrokerTest;
namespace fs = std::filesystem;

class FileSafety : public BrokerTest {
 protected:
  c2c::test::TempDir outside_{"c2c-outside"};

  // A symlink at `link` (inside the broker root) to a file outside the root.
  fs::path plant(const fs::path& link, bool target_exists) {
    const fs::path target = outside_.path() / ("target-" + link.filename().string());
    if (target_exists) c2c::test::write_file(target, "ORIGINAL");
    fs::create_directories(link.parent_path());
    fs::create_symlink(target, link);
    return target;
  }
  static void expect_untouched(const fs::path& target, bool existed) {
    if (existed) {
      EXPECT_EQ(c2c::test::read_file(target), "ORIGINAL") << target;
    } else {
      EXPECT_FALSE(fs::exists(target)) << target << " was created through the link";
    }
  }
  static void expect_refused(const Result<void>& r, const std::string& needle) {
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  }
  template <typename T>
  static void expect_refused(const Result<T>& r, const std::string& needle) {
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  }
  static mode_t mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }
};

TEST_F(FileSafety, SymlinkedRemoteOutboxIsNeitherCreatedNorAppendedThrough) {
  reg("alice", "ses-a");
  for (const bool exists : {false, true}) {
    const fs::path link = root() / "remote-outbox.jsonl";
    fs::remove(link);
    const fs::path target = plant(link, exists);
    expect_refused(broker_.send("alice", "bob@host", "secret"), "symbolic link");
    expect_refused(broker_.read_outbox(), "symbolic link");
    expect_untouched(target, exists);
    fs::remove(target);
  }
}

TEST_F(FileSafety, SymlinkedArchiveIsRefusedAndTheMessagesStayQueued) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  ASSERT_TRUE(broker_.send("alice", "bob", "hello").has_value());
  fs::create_directories(root() / "archive");
  fs::permissions(root() / "archive", fs::perms::owner_all);
  for (const bool exists : {false, true}) {
    const fs::path link = root() / "archive" / "ses-b.jsonl";
    fs::remove(link);
    const fs::path target = plant(link, exists);
    expect_refused(broker_.poll("ses-b"), "symbolic link");
    expect_refused(broker_.history("ses-b", 10), "symbolic link");
    expect_untouched(target, exists);
    fs::remove(target);
    ASSERT_EQ(broker_.peek("ses-b")->size(), 1u);  // nothing was drained
  }
}

TEST_F(FileSafety, SymlinkedLockFileIsNotCreatedThrough) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  const fs::path target = plant(root() / "ses-b.inbox.lock", false);
  expect_refused(broker_.send("alice", "bob", "hi"), "symbolic link");
  expect_untouched(target, false);
}

TEST_F(FileSafety, SymlinkedInboxIsNotRead) {
  reg("bob", "ses-b");
  const fs::path target = plant(root() / "ses-b.inbox.json", false);
  c2c::test::write_file(target,
                        R"([{"from_alias":"forged","to_alias":"bob","content":"x","ts":1.0}])");
  expect_refused(broker_.peek("ses-b"), "symbolic link");
  expect_refused(broker_.poll("ses-b"), "symbolic link");
  EXPECT_NE(c2c::test::read_file(target).find("forged"), std::string::npos);
}

TEST_F(FileSafety, SymlinkedArchiveOrRoomsDirectoryIsRefused) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  ASSERT_TRUE(broker_.send("alice", "bob", "hello").has_value());
  fs::create_directories(outside_.path() / "dir");
  fs::create_symlink(outside_.path() / "dir", root() / "archive");
  expect_refused(broker_.poll("ses-b"), "symbolic link");
  fs::create_symlink(outside_.path() / "dir", root() / "rooms");
  expect_refused(broker_.join_room("lounge", "alice", "ses-a"), "symbolic link");
  EXPECT_TRUE(fs::is_empty(outside_.path() / "dir"));
}

// Delivery receipts live in receipts/: a link there is refused like archive/, so receipt
// records are not written into, read from, or pruned (unlinked) in the directory it points to.
TEST_F(FileSafety, SymlinkedReceiptsDirectoryIsNeitherWrittenReadNorPruned) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  const fs::path dir = outside_.path() / "dir";
  fs::create_directories(dir);
  c2c::test::write_file(dir / "00000000-0000-4000-8000-000000000000.jsonl", "ORIGINAL");
  fs::create_symlink(dir, root() / "receipts");
  // The message is queued (receipts are best effort once it is stored), its receipts are not.
  auto sent = broker_.send("alice", "bob", "hello");
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  EXPECT_EQ(poll("ses-b").size(), 1u);
  ReceiptEvent e;
  e.message_id = sent->message_id;
  e.recipient = "bob";
  expect_refused(broker_.record_receipts({e}), "symbolic link");
  expect_refused(broker_.delivery_status("00000000-0000-4000-8000-000000000000"), "symbolic link");
  // Sweep prunes files older than a week: the old file behind the link stays.
  const timeval old[2] = {{1, 0}, {1, 0}};
  ASSERT_EQ(::utimes((dir / "00000000-0000-4000-8000-000000000000.jsonl").c_str(), old), 0);
  clock_.set(static_cast<double>(::time(nullptr)));
  auto swept = broker_.sweep();
  ASSERT_TRUE(swept.has_value()) << swept.error().message;
  EXPECT_EQ(swept->pruned_receipts, 0u);
  EXPECT_EQ(c2c::test::read_file(dir / "00000000-0000-4000-8000-000000000000.jsonl"), "ORIGINAL");
  EXPECT_FALSE(fs::exists(dir / (sent->message_id + ".jsonl")));
  EXPECT_FALSE(fs::exists(dir / "log-000001.jsonl"));
}

TEST_F(FileSafety, DirectoriesWritableByOthersAreRefused) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  ASSERT_TRUE(broker_.send("alice", "bob", "hello").has_value());
  ASSERT_TRUE(broker_.join_room("lounge", "alice", "ses-a").has_value());
  ASSERT_TRUE(broker_.poll("ses-b").has_value());

  for (const fs::path& dir : {root() / "archive", root() / "rooms", root()}) {
    ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
    if (dir == root() / "archive") {
      ASSERT_TRUE(broker_.send("alice", "bob", "again").has_value());
      expect_refused(broker_.poll("ses-b"), "lets other users write to it (run: chmod 700");
    } else if (dir == root() / "rooms") {
      expect_refused(broker_.send_room("lounge", "alice", "hi"), "mode 0777");
      expect_refused(broker_.list_rooms(), "mode 0777");
    } else {
      expect_refused(broker_.send("alice", "bob", "x"), "mode 0777");
      expect_refused(broker_.registrations(), "mode 0777");
      expect_refused(broker_.peek("ses-b"), "mode 0777");
    }
    ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  }
  ASSERT_TRUE(broker_.send("alice", "bob", "fine again").has_value());
  // A group-writable root (e.g. 0775 from a shared umask) is refused too.
  ASSERT_EQ(::chmod(root().c_str(), 0770), 0);
  expect_refused(broker_.send("alice", "bob", "x"), "mode 0770");
}

TEST_F(FileSafety, RootOwnedByAnotherUserIsRefused) {
  reg("alice", "ses-a");
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown the broker root to another user";
  ASSERT_EQ(::chown(root().c_str(), 65534, 65534), 0);
  expect_refused(broker_.registrations(), "owned by uid 65534, not by you");
  expect_refused(broker_.send("alice", "bob@host", "x"), "owned by uid 65534");
  ASSERT_EQ(::chown(root().c_str(), 0, 0), 0);
}

TEST_F(FileSafety, RootMayBeTheUsersOwnSymlink) {
  const fs::path real = outside_.path() / "real-root";
  const fs::path link = outside_.path() / "link-root";
  fs::create_directories(real);
  fs::permissions(real, fs::perms::owner_all, fs::perm_options::replace);
  fs::create_symlink(real, link);
  Broker b(link, clock_);
  ASSERT_TRUE(b.register_session({"ses-a", "alice", ::getpid(), "", "", true}).has_value());
  EXPECT_TRUE(fs::exists(real / "registry.json"));
}

// Issue 8.8: everything the broker creates is private (directories 0700, files 0600).
TEST_F(FileSafety, CreatedDirectoriesAre0700AndFiles0600) {
  ::umask(022);
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  ASSERT_TRUE(broker_.send("alice", "bob", "hello").has_value());
  ASSERT_TRUE(broker_.send("alice", "carol@host", "remote").has_value());
  ASSERT_TRUE(broker_.poll("ses-b").has_value());
  ASSERT_TRUE(broker_.join_room("lounge", "alice", "ses-a").has_value());
  ASSERT_TRUE(broker_.deliver("ses-a", {Message{"x", "alice", "pulled"}}).has_value());
  size_t dirs = 0, files = 0;
  EXPECT_EQ(mode_of(root()), 0700u);
  // Missing parents are created 0700 too (~/.c2c/repos/<fp>/broker).
  Broker deep(dir_.path() / "x" / "y" / "broker", clock_);
  ASSERT_TRUE(deep.register_session({"ses-d", "dee", ::getpid(), "", "", true}).has_value());
  EXPECT_EQ(mode_of(dir_.path() / "x"), 0700u);
  EXPECT_EQ(mode_of(dir_.path() / "x" / "y"), 0700u);
  for (const auto& e : fs::recursive_directory_iterator(root())) {
    if (e.is_directory()) {
      EXPECT_EQ(mode_of(e.path()), 0700u) << e.path();
      ++dirs;
    } else {
      EXPECT_EQ(mode_of(e.path()), 0600u) << e.path();
      ++files;
    }
  }
  EXPECT_GE(dirs, 4u);  // archive, delivered, rooms, rooms/lounge
  EXPECT_GE(files, 8u);
}

TEST(WriteAtomicTest, APlantedTempNameIsReplacedNotWrittenThrough) {
  c2c::test::TempDir dir;
  c2c::test::TempDir outside;
  const fs::path path = dir.path() / "registry.json";
  const fs::path target = outside.path() / "victim";
  c2c::test::write_file(target, "ORIGINAL");
  // A name some other process planted where this thread's temp file will go.
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." +
                       std::to_string(static_cast<long>(::gettid()));
  fs::create_symlink(target, tmp);
  ASSERT_TRUE(files::write_atomic(path, "[]").has_value());
  EXPECT_EQ(c2c::test::read_file(target), "ORIGINAL");
  EXPECT_EQ(c2c::test::read_file(path), "[]");
  EXPECT_FALSE(fs::is_symlink(path));
}

}  // namespace
}  // namespace c2c::broker
