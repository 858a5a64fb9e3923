#include "c2c/core/ids.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>

namespace c2c {
namespace {

TEST(IdsTest, UuidV4Shape) {
  for (int i = 0; i < 100; ++i) {
    const auto id = new_uuid_v4();
    ASSERT_TRUE(looks_like_uuid(id)) << id;
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
  }
}

TEST(IdsTest, UuidsAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) EXPECT_TRUE(seen.insert(new_uuid_v4()).second);
}

// A forked child must not replay its parent's id sequence (two processes, the same ids).
TEST(IdsTest, AForkedChildMakesIdsOfItsOwn) {
  (void)new_uuid_v4();  // this thread's generator is seeded before the fork
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = new_uuid_v4();
    const bool written = ::write(fds[1], id.data(), id.size()) == static_cast<ssize_t>(id.size());
    ::_exit(written ? 0 : 1);
  }
  ::close(fds[1]);
  const std::string mine = new_uuid_v4();
  std::string theirs(36, '\0');
  ASSERT_EQ(::read(fds[0], theirs.data(), theirs.size()), 36);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(looks_like_uuid(theirs)) << theirs;
  EXPECT_NE(mine, theirs);
}

}  // namespace
}  // namespace c2c
