// replace_file and the descriptor loops under it: the one way c2c rewrites a file (inboxes,
// identities, configs, agent-client settings), so every caller inherits what is checked here.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "c2c/core/fd_io.hpp"
#include "c2c/core/secret_file.hpp"

namespace c2c {
namespace {

namespace fs = std::filesystem;

class ReplaceFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/c2c-replace-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  static unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  // Names in the directory other than `keep`: a leftover temporary would show here.
  std::vector<std::string> others(const std::string& keep) const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename() != keep) names.push_back(e.path().filename());
    }
    return names;
  }

  fs::path dir_;
};

TEST_F(ReplaceFileTest, WritesTheDataWithTheModeWhateverTheUmaskAndLeavesNoTemporary) {
  const mode_t old = ::umask(0);  // a umask of 0 would give 0666 to a plain creat
  const fs::path p = dir_ / "inbox.json";
  auto r = replace_file(p, "[1]");
  ::umask(old);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(slurp(p), "[1]");
  EXPECT_EQ(mode_of(p), 0600u);
  EXPECT_TRUE(others("inbox.json").empty());

  ASSERT_TRUE(replace_file(p, "[1,2]", 0644, /*sync=*/false).has_value());
  EXPECT_EQ(slurp(p), "[1,2]");
  EXPECT_EQ(mode_of(p), 0644u);
  EXPECT_TRUE(others("inbox.json").empty());
}

TEST_F(ReplaceFileTest, ReplacesASymlinkInsteadOfWritingThroughIt) {
  const fs::path target = dir_ / "victim";
  { std::ofstream(target) << "precious"; }
  const fs::path p = dir_ / "config.json";
  fs::create_symlink(target, p);
  ASSERT_TRUE(replace_file(p, "{}").has_value());
  EXPECT_EQ(slurp(target), "precious");
  EXPECT_FALSE(fs::is_symlink(p));
  EXPECT_EQ(slurp(p), "{}");
}

TEST_F(ReplaceFileTest, ALinkPlantedUnderTheTemporaryNameIsRemovedNotFollowed) {
  const fs::path target = dir_ / "victim";
  { std::ofstream(target) << "precious"; }
  const fs::path p = dir_ / "key";
  // The name replace_file will use in this process and thread.
  const fs::path planted = p.string() + ".tmp." + std::to_string(::getpid()) + "." +
                           std::to_string(static_cast<long>(::gettid()));
  fs::create_symlink(target, planted);
  ASSERT_TRUE(replace_file(p, "secret").has_value());
  EXPECT_EQ(slurp(target), "precious");
  EXPECT_EQ(slurp(p), "secret");
  EXPECT_FALSE(fs::exists(fs::symlink_status(planted)));
}

TEST_F(ReplaceFileTest, AFailureLeavesTheOldFileAndNoTemporary) {
  const fs::path p = dir_ / "inbox.json";
  ASSERT_TRUE(replace_file(p, "old").has_value());
  // The rename fails: `path` names a non-empty directory.
  const fs::path d = dir_ / "taken";
  fs::create_directories(d / "child");
  auto r = replace_file(d, "new");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_NE(r.error().message.find("cannot rename onto"), std::string::npos) << r.error().message;
  EXPECT_EQ(slurp(p), "old");
  EXPECT_EQ(others("inbox.json"), std::vector<std::string>{"taken"});

  // The create fails: the parent does not exist.
  auto missing = replace_file(dir_ / "nope" / "x", "y");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("cannot create"), std::string::npos);
}

TEST(FdIoTest, WriteFullyAndReadToEofMoveMoreThanOnePipeBuffer) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string data(1 << 20, '\0');  // 1 MiB: many short writes and reads through a 64 KiB pipe
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + 7);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    ::_exit(write_fully(fds[1], data) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string got = "prefix:";
  EXPECT_TRUE(read_to_eof(fds[0], got));
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(got, "prefix:" + data);
}

TEST(FdIoTest, ErrorsAreReportedWithErrno) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  ::signal(SIGPIPE, SIG_IGN);
  errno = 0;
  EXPECT_FALSE(write_fully(fds[1], "x"));
  EXPECT_EQ(errno, EPIPE);
  ::close(fds[1]);
  std::string out;
  errno = 0;
  EXPECT_FALSE(read_to_eof(-1, out));
  EXPECT_EQ(errno, EBADF);
}

}  // namespace
}  // namespace c2c
