#include <nlohmann/json.hpp>

#include "broker_fixture.hpp"

namespace c2c::broker {
namespace {

using test_support::BrokerTest;
using test_support::kDeadPid;
namespace fs = std::filesystem;

TEST_F(BrokerTest, SweepDropsDeadRowsAndDeadLettersTheirQueue) {
  reg("alice", "ses-a");
  reg("bob", "ses-b", std::nullopt);  // pidless: liveness unknown, never swept
  reg("gone", "ses-g", std::nullopt);
  ASSERT_TRUE(broker_.join_room("r", "gone", "ses-g").has_value());
  ASSERT_TRUE(broker_.join_room("r", "alice", "ses-a").has_value());
  poll("ses-g");  // drop the join notices so only the two DMs below stay queued
  ASSERT_TRUE(broker_.send("alice", "gone", "one").has_value());
  ASSERT_TRUE(broker_.send("alice", "gone", "two").has_value());
  reg("gone", "ses-g", kDeadPid);  // its process is gone now

  auto r = broker_.sweep();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->dropped.size(), 1u);
  EXPECT_EQ(r->dropped[0], (std::pair<std::string, std::string>{"ses-g", "gone"}));
  EXPECT_EQ(r->deleted_inboxes, std::vector<std::string>{"ses-g"});
  EXPECT_EQ(r->preserved_messages, 2u);
  ASSERT_EQ(r->evicted_room_members.size(), 1u);
  EXPECT_EQ(r->evicted_room_members[0], (std::pair<std::string, std::string>{"r", "gone"}));
  EXPECT_FALSE(fs::exists(root() / "ses-g.inbox.json"));
  EXPECT_EQ(broker_.registrations()->size(), 2u);

  auto dl = broker_.dead_letters();
  ASSERT_TRUE(dl.has_value());
  ASSERT_EQ(dl->size(), 2u);
  EXPECT_EQ((*dl)[0].from_session_id, "ses-g");
  EXPECT_EQ((*dl)[0].message.content, "one");
  EXPECT_EQ((*dl)[1].message.content, "two");

  // Sweeping again changes nothing.
  auto again = broker_.sweep();
  EXPECT_TRUE(again->dropped.empty());
  EXPECT_EQ(again->preserved_messages, 0u);
}

TEST_F(BrokerTest, DeadLettersAreRedeliveredWhenTheAliasRegistersAgain) {
  reg("alice", "ses-a");
  reg("gone", "ses-g", std::nullopt);
  ASSERT_TRUE(broker_.send("alice", "gone", "keep me").has_value());
  reg("gone", "ses-g", kDeadPid);
  ASSERT_TRUE(broker_.sweep().has_value());
  // Another session's letter stays put.
  reg("other", "ses-o", std::nullopt);
  ASSERT_TRUE(broker_.send("alice", "other", "not yours").has_value());
  reg("other", "ses-o", kDeadPid);
  ASSERT_TRUE(broker_.sweep().has_value());
  ASSERT_EQ(broker_.dead_letters()->size(), 2u);

  auto r = broker_.register_session(RegisterRequest{"ses-new", "GONE", ::getpid()});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->redelivered_dead_letters, 1u);
  auto msgs = poll("ses-new");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].content, "keep me");
  auto left = broker_.dead_letters();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().message.content, "not yours");
  // By session id too.
  auto o = broker_.register_session(RegisterRequest{"ses-o", "renamed", ::getpid()});
  EXPECT_EQ(o->redelivered_dead_letters, 1u);
  EXPECT_TRUE(broker_.dead_letters()->empty());
}

TEST_F(BrokerTest, TornDeadLetterLineIsKeptOnRewrite) {
  fs::create_directories(root());
  const std::string good = R"({"deleted_at":1.0,"from_session_id":"s9","message":)"
                           R"({"from_alias":"a","to_alias":"z","content":"hi","ts":1.0}})";
  c2c::test::write_file(root() / "dead-letter.jsonl", "{\"deleted_at\":1,\"fr\n" + good + "\n");
  auto r = broker_.register_session(RegisterRequest{"s9", "zz", ::getpid()});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->redelivered_dead_letters, 1u);
  EXPECT_EQ(c2c::test::read_file(root() / "dead-letter.jsonl"), "{\"deleted_at\":1,\"fr\n");
}

TEST_F(BrokerTest, SweepRemovesTempFilesOfDeadWritersOnly) {
  reg("alice", "ses-a");
  ASSERT_TRUE(broker_.join_room("r", "alice", "ses-a").has_value());
  const std::string live = std::to_string(::getpid());
  const std::string dead = std::to_string(kDeadPid);
  const std::vector<fs::path> litter = {root() / ("registry.json.tmp." + dead + ".7"),
                                        root() / ("rooms/r/members.json.tmp." + dead + ".1")};
  const std::vector<fs::path> kept = {root() / ("ses-a.inbox.json.tmp." + live + ".3"),
                                      root() / "notes.tmp.txt", root() / ("x.tmp." + dead)};
  for (const auto& p : litter) c2c::test::write_file(p, "{torn");
  for (const auto& p : kept) c2c::test::write_file(p, "{");
  auto r = broker_.sweep();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->removed_temp_files,
            (std::vector<std::string>{"registry.json.tmp." + dead + ".7",
                                      "rooms/r/members.json.tmp." + dead + ".1"}));
  for (const auto& p : litter) EXPECT_FALSE(fs::exists(p)) << p;
  for (const auto& p : kept) EXPECT_TRUE(fs::exists(p)) << p << ": a live writer's or no temp";
  EXPECT_EQ(broker_.registrations()->size(), 1u) << "the registry itself is untouched";
}

TEST_F(BrokerTest, SweepOfMissingRootIsEmptyAndCreatesNothing) {
  auto r = broker_.sweep();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->dropped.empty());
  EXPECT_FALSE(fs::exists(root()));
}

}  // namespace
}  // namespace c2c::broker
