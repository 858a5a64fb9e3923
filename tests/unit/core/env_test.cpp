#include "c2c/core/env.hpp"

#include <gtest/gtest.h>

#include <map>

namespace c2c {
namespace {

TEST(Env, ABlankVariableCountsAsUnset) {
  EXPECT_EQ(env_non_blank(env_of({{"A", "x"}}), "A"), "x");
  EXPECT_EQ(env_non_blank(env_of({{"A", " x "}}), "A"), " x ");
  EXPECT_FALSE(env_non_blank(env_of({{"A", ""}}), "A"));
  EXPECT_FALSE(env_non_blank(env_of({{"A", " \t"}}), "A"));
  EXPECT_FALSE(env_non_blank(env_of({}), "A"));
}

TEST(Env, XdgBaseDirectoriesFollowTheVariablesThenHome) {
  const auto home = env_of({{"HOME", "/home/u"}});
  EXPECT_EQ(xdg_base_dir(XdgBase::kConfig, home), std::filesystem::path("/home/u/.config"));
  EXPECT_EQ(xdg_base_dir(XdgBase::kData, home), std::filesystem::path("/home/u/.local/share"));
  EXPECT_EQ(xdg_base_dir(XdgBase::kState, home), std::filesystem::path("/home/u/.local/state"));

  const auto xdg = env_of({{"HOME", "/home/u"},
                           {"XDG_CONFIG_HOME", "/x/config"},
                           {"XDG_DATA_HOME", "/x/data"},
                           {"XDG_STATE_HOME", "/x/state"}});
  EXPECT_EQ(xdg_base_dir(XdgBase::kConfig, xdg), std::filesystem::path("/x/config"));
  EXPECT_EQ(xdg_base_dir(XdgBase::kData, xdg), std::filesystem::path("/x/data"));
  EXPECT_EQ(xdg_base_dir(XdgBase::kState, xdg), std::filesystem::path("/x/state"));

  // An empty XDG variable is unset; with neither it nor HOME there is no base directory.
  EXPECT_EQ(xdg_base_dir(XdgBase::kConfig, env_of({{"HOME", "/h"}, {"XDG_CONFIG_HOME", ""}})),
            std::filesystem::path("/h/.config"));
  EXPECT_FALSE(xdg_base_dir(XdgBase::kData, env_of({{"HOME", " "}})));
  EXPECT_EQ(xdg_base_dir(XdgBase::kData, env_of({{"XDG_DATA_HOME", "/d"}})),
            std::filesystem::path("/d"));
}

}  // namespace
}  // namespace c2c
