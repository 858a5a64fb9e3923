#include "c2c/core/ids.hpp"

#include <gtest/gtest.h>

#include <set>

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

}  // namespace
}  // namespace c2c
