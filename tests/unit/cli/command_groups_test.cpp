// `c2c <word>` registers only the command group that defines <word>, a peer command only itself
// (a start-up speed-up, docs/performance.md "Start-up"). Every top-level word of the full tree
// must come out the same when only its commands are registered: same subcommand, same help
// text, nested commands included.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "c2c/cli/cli_common.hpp"

namespace c2c::cli {
namespace {

std::unique_ptr<CLI::App> make_app(std::vector<std::string> args) {
  auto app = std::make_unique<CLI::App>("c2c", "c2c");
  args.insert(args.begin(), "c2c");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  register_commands(*app, static_cast<int>(argv.size()), argv.data());
  return app;
}

std::vector<CLI::App*> top_level(CLI::App& app) {
  return app.get_subcommands([](CLI::App*) { return true; });
}

// A command's help and that of every command below it.
std::string full_help(CLI::App* app) {
  std::string out = app->help();
  for (CLI::App* sub : top_level(*app)) out += full_help(sub);
  return out;
}

TEST(CommandGroups, EveryWordGetsItsCommandsAndNothingChanges) {
  const auto all = make_app({});
  std::vector<std::string> words;
  for (CLI::App* sub : top_level(*all)) {
    words.push_back(sub->get_name());
    for (const auto& alias : sub->get_aliases()) words.push_back(alias);
  }
  ASSERT_GE(words.size(), 20u);
  for (const auto& w : words) {
    SCOPED_TRACE(w);
    const auto one = make_app({w, "--help"});
    CLI::App* got = nullptr;
    ASSERT_NO_THROW(got = one->get_subcommand(w)) << "its group does not define it";
    EXPECT_EQ(full_help(got), full_help(all->get_subcommand(w)));
    EXPECT_LT(top_level(*one).size(), top_level(*all).size()) << "not a speed-up: all registered";
  }
}

// The commands agents run per message are built alone, without their group's siblings.
TEST(CommandGroups, APeerCommandComesAlone) {
  for (const char* word : {"send", "send-all", "list", "whoami", "register", "delivery-status"}) {
    SCOPED_TRACE(word);
    const auto app = make_app({word, "x"});
    const auto subs = top_level(*app);
    ASSERT_EQ(subs.size(), 1u);
    EXPECT_EQ(subs.front()->get_name(), word);
  }
}

TEST(CommandGroups, UnknownWordsOptionsAndNoWordRegisterEverything) {
  const size_t n = top_level(*make_app({})).size();
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"sned"}, {"--help"}, {""}, {"--version", "send"}, {"-j", "send"}}) {
    EXPECT_EQ(top_level(*make_app(args)).size(), n) << args[0];
  }
  // A lone --version needs no command at all.
  for (const char* flag : {"--version", "-V"}) {
    EXPECT_TRUE(top_level(*make_app({flag})).empty()) << flag;
  }
}

}  // namespace
}  // namespace c2c::cli
