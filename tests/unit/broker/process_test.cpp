// broker/process.hpp: the /proc/<pid>/stat reader behind registration liveness and
// `c2c register`'s default pid (docs/cli.md Peers).
#include "c2c/broker/process.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace c2c::broker {
namespace {

TEST(BrokerProcessTest, StatFieldsCountFromTheLastParenthesis) {
  // The command name may hold spaces and ')': "(we ird) name)" is one field.
  const std::string stat =
      "4242 (we ird) name) S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 1 2\n";
  EXPECT_EQ(stat_field(stat, 4), 17);
  EXPECT_EQ(stat_field(stat, 5), 4242);
  EXPECT_EQ(stat_field(stat, 22), 98765);
  EXPECT_EQ(stat_field(stat, 3), std::nullopt);   // "S" is not a number
  EXPECT_EQ(stat_field(stat, 8), std::nullopt);   // "-1" is not a pid-like number
  EXPECT_EQ(stat_field(stat, 40), std::nullopt);  // beyond the text
  EXPECT_EQ(stat_field(stat, 2), std::nullopt);   // the command name is not a number
  EXPECT_EQ(stat_field("no parenthesis 1 2 3", 4), std::nullopt);
  EXPECT_EQ(stat_field("", 4), std::nullopt);
}

TEST(BrokerProcessTest, ReadsTheRunningProcess) {
  EXPECT_EQ(parent_pid(::getpid()), static_cast<long long>(::getppid()));
  EXPECT_TRUE(proc_start_time(::getpid()).has_value());
  EXPECT_EQ(parent_pid(0), std::nullopt);
  EXPECT_EQ(proc_start_time(-1), std::nullopt);
}

}  // namespace
}  // namespace c2c::broker
