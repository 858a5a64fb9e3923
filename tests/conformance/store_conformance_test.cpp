// One suite, every Store backend (docs/decisions.md D2): each case runs against memory:, sqlite:
// and PostgreSQL (a private server the suite starts; skipped loudly without the server binaries).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "c2c/relay/store/store.hpp"
#include "support/pg_server.hpp"
#include "support/store_writes.hpp"
#include "support/stored_message.hpp"
#include "support/temp_dir.hpp"

namespace c2c::relay {
namespace {

StoredMessage msg(std::string id, std::string content = "hi", double ts = 1.0) {
  return test::stored_message(std::move(id), std::move(content), ts);
}

Lease lease(std::string alias, std::string node, std::string session) {
  Lease l;
  l.alias = std::move(alias);
  l.node_id = std::move(node);
  l.session_id = std::move(session);
  l.client_type = "claude";
  l.registered_at = 100;
  l.last_seen = 150.5;
  l.ttl = 60;
  l.identity_pk = "pk-" + l.alias;
  l.enc_pubkey = "enc";
  l.signed_at = 99.25;
  l.sig_b64 = "sig";
  return l;
}

std::vector<std::string> ids_of(const std::vector<StoredMessage>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.message_id);
  return out;
}

class StoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url;
    if (GetParam() == "memory") {
      url = "memory:";
    } else if (GetParam() == "sqlite") {
      url = "sqlite:" + (dir_ / "relay.db").string();
    } else {
      std::string why;
      test::PgServer* pg = test::shared_pg_server(&why);
      if (pg == nullptr) GTEST_SKIP() << test::pg_skip_message(why);
      url = pg->create_database();
      ASSERT_FALSE(url.empty()) << "createdb failed";
    }
    url_ = url;
    auto opened = open_store(url);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(opened.value());
    ASSERT_EQ(store_->kind(), GetParam());
  }
  Store& s() { return *store_; }
  // Closes the store and opens it again (durable backends): what a relay restart sees.
  void reopen() {
    store_.reset();
    auto reopened = open_store(url_);
    ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
    store_ = std::move(reopened.value());
  }

  test::TempDir dir_{"c2c-store-conf"};
  std::string url_;
  std::unique_ptr<Store> store_;
};

const InboxKey kBob{"node-b", "sess-b"};
const InboxKey kCarol{"node-c", "sess-c"};

TEST_P(StoreConformance, LeasesPutGetFindListRemove) {
  EXPECT_FALSE(s().get_lease("bob").has_value());
  ASSERT_TRUE(test::writes(s()).put_lease(lease("bob", "node-b", "sess-b")));
  ASSERT_TRUE(test::writes(s()).put_lease(lease("alice", "node-a", "sess-a")));
  auto got = s().get_lease("bob");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->node_id, "node-b");
  EXPECT_EQ(got->client_type, "claude");
  EXPECT_DOUBLE_EQ(got->last_seen, 150.5);
  EXPECT_EQ(got->identity_pk, "pk-bob");
  EXPECT_DOUBLE_EQ(got->signed_at, 99.25);
  EXPECT_EQ(s().get_lease("BOB")->alias, "bob") << "aliases match in any case (8.6)";

  auto found = s().find_lease(kBob);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->alias, "bob");
  EXPECT_FALSE(s().find_lease(kCarol).has_value());

  // Replace by alias: the old session no longer finds it.
  ASSERT_TRUE(test::writes(s()).put_lease(lease("bob", "node-b", "sess-b2")));
  EXPECT_FALSE(s().find_lease(kBob).has_value());
  EXPECT_EQ(s().find_lease({"node-b", "sess-b2"})->alias, "bob");

  auto all = s().list_leases();
  ASSERT_EQ(all.size(), 2u);
  std::vector<std::string> aliases{all[0].alias, all[1].alias};
  std::sort(aliases.begin(), aliases.end());
  EXPECT_EQ(aliases, (std::vector<std::string>{"alice", "bob"}));

  ASSERT_TRUE(test::writes(s()).remove_lease("bob"));
  EXPECT_FALSE(s().get_lease("bob").has_value());
  EXPECT_FALSE(s().find_lease({"node-b", "sess-b2"}).has_value());
  ASSERT_TRUE(test::writes(s()).remove_lease("nobody"));
  EXPECT_EQ(s().list_leases().size(), 1u);
}

TEST_P(StoreConformance, FindLeaseAnswersWithTheLatestSharer) {
  ASSERT_TRUE(test::writes(s()).put_lease(lease("zed", "node-b", "sess-b")));
  ASSERT_TRUE(test::writes(s()).put_lease(lease("amy", "node-b", "sess-b")));
  ASSERT_TRUE(test::writes(s()).put_lease(lease("other", "node-c", "sess-c")));
  EXPECT_EQ(s().find_lease(kBob)->alias, "amy") << "the one put last";
  ASSERT_TRUE(test::writes(s()).put_lease(lease("zed", "node-b", "sess-b")));  // e.g. a heartbeat
  EXPECT_EQ(s().find_lease(kBob)->alias, "zed");
  ASSERT_TRUE(test::writes(s()).remove_lease("zed"));
  EXPECT_EQ(s().find_lease(kBob)->alias, "amy");
  ASSERT_TRUE(test::writes(s()).remove_lease("amy"));
  EXPECT_FALSE(s().find_lease(kBob).has_value());
}

TEST_P(StoreConformance, BindingsSurviveLeaseRemoval) {
  EXPECT_FALSE(s().get_binding("bob").has_value());
  ASSERT_TRUE(test::writes(s()).put_lease(lease("bob", "n", "s")));
  ASSERT_TRUE(test::writes(s()).put_binding("bob", "pk1"));
  ASSERT_TRUE(test::writes(s()).remove_lease("bob"));
  EXPECT_EQ(s().get_binding("bob").value_or(""), "pk1");
  ASSERT_TRUE(test::writes(s()).put_binding("bob", "pk2"));
  EXPECT_EQ(s().get_binding("bob").value_or(""), "pk2");
  auto removed = test::writes(s()).remove_binding("bob");
  ASSERT_TRUE(removed.has_value());
  EXPECT_TRUE(removed.value());
  EXPECT_FALSE(s().get_binding("bob").has_value());
  auto again = test::writes(s()).remove_binding("bob");
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again.value());
}

TEST_P(StoreConformance, InboxIsFifoAndKeepsEveryField) {
  StoredMessage full = msg("m1", "first", 10.5);
  full.room_id = "lobby";
  full.to_alias = "bob#lobby";
  full.envelope = R"({"enc":"none"})";
  ASSERT_TRUE(test::writes(s()).append({{kBob, full}}));
  ASSERT_TRUE(
      test::writes(s()).append({{kBob, msg("m2", std::string(300, 'x'))}, {kBob, msg("m3")}}));
  EXPECT_EQ(s().queued_messages(), 3u);

  auto peeked = s().peek(kBob);
  EXPECT_EQ(ids_of(peeked), (std::vector<std::string>{"m1", "m2", "m3"}));
  ASSERT_EQ(peeked.size(), 3u);
  EXPECT_EQ(peeked[0].from_alias, "alice");
  EXPECT_EQ(peeked[0].to_alias, "bob#lobby");
  EXPECT_EQ(peeked[0].content, "first");
  EXPECT_DOUBLE_EQ(peeked[0].ts, 10.5);
  EXPECT_EQ(peeked[0].room_id, "lobby");
  EXPECT_EQ(peeked[0].envelope, R"({"enc":"none"})");
  EXPECT_EQ(peeked[1].content, std::string(300, 'x'));
  EXPECT_EQ(s().queued_messages(), 3u) << "peek does not remove";

  auto drained = test::writes(s()).drain(kBob);
  ASSERT_TRUE(drained.has_value());
  EXPECT_EQ(ids_of(drained.value()), (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_TRUE(s().peek(kBob).empty());
  EXPECT_EQ(s().queued_messages(), 0u);
  auto empty = test::writes(s()).drain(kBob);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST_P(StoreConformance, DrainIdsRemovesOnlyListedIdsAndKeepsOrder) {
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("a")},
                                        {kBob, msg("b")},
                                        {kBob, msg("c")},
                                        {kBob, msg("d")},
                                        {kCarol, msg("b")}}));
  auto got = test::writes(s()).drain_ids(kBob, {"d", "b", "zz"});
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(ids_of(got.value()), (std::vector<std::string>{"b", "d"})) << "queue order, not list";
  EXPECT_EQ(ids_of(s().peek(kBob)), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(ids_of(s().peek(kCarol)), (std::vector<std::string>{"b"})) << "other keys untouched";
  EXPECT_EQ(s().queued_messages(), 3u);
  auto none = test::writes(s()).drain_ids(kBob, {"nope"});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(ids_of(s().peek(kBob)), (std::vector<std::string>{"a", "c"}));
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("e")}}));
  EXPECT_EQ(ids_of(s().peek(kBob)), (std::vector<std::string>{"a", "c", "e"}));
}

TEST_P(StoreConformance, FanOutAppendIsAtomic) {
  // A fan-out is one call: a concurrent reader sees all of it or none of it.
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    for (int i = 0; i < 100000 && !stop.load(); ++i) {
      const size_t n = s().queued_messages();
      if (n % 3 != 0) ++torn;
    }
  });
  for (int i = 0; i < 200; ++i) {
    const std::string id = "f" + std::to_string(i);
    ASSERT_TRUE(
        test::writes(s()).append({{kBob, msg(id)}, {kCarol, msg(id)}, {{"n", "s"}, msg(id)}}));
  }
  stop = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(s().peek(kBob).size(), 200u);
  EXPECT_EQ(s().peek(kCarol).size(), 200u);
  EXPECT_EQ(s().queued_messages(), 600u);
}

TEST_P(StoreConformance, MoveInboxAppendsToTheEnd) {
  ASSERT_TRUE(
      test::writes(s()).append({{kBob, msg("old1")}, {kCarol, msg("new1")}, {kBob, msg("old2")}}));
  ASSERT_TRUE(test::writes(s()).move_inbox(kBob, kCarol));
  EXPECT_TRUE(s().peek(kBob).empty());
  EXPECT_EQ(ids_of(s().peek(kCarol)), (std::vector<std::string>{"new1", "old1", "old2"}));
  ASSERT_TRUE(test::writes(s()).append({{kCarol, msg("new2")}}));
  EXPECT_EQ(ids_of(s().peek(kCarol)), (std::vector<std::string>{"new1", "old1", "old2", "new2"}));
  ASSERT_TRUE(test::writes(s()).move_inbox(kCarol, kCarol));
  ASSERT_TRUE(test::writes(s()).move_inbox({"x", "y"}, kCarol));
  EXPECT_EQ(s().peek(kCarol).size(), 4u);
  EXPECT_EQ(s().queued_messages(), 4u);
}

std::vector<uint64_t> seqs_of(const std::vector<StoredMessage>& ms) {
  std::vector<uint64_t> out;
  for (const auto& m : ms) out.push_back(m.seq);
  return out;
}

bool strictly_increasing(const std::vector<uint64_t>& v) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == 0 || (i > 0 && v[i] <= v[i - 1])) return false;
  }
  return true;
}

TEST_P(StoreConformance, AppendAssignsIncreasingSeqsAlongEveryInbox) {
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("a")}, {kCarol, msg("x")}, {kBob, msg("b")}}));
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("c")}}));
  const auto bob = s().peek(kBob);
  EXPECT_EQ(ids_of(bob), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(strictly_increasing(seqs_of(bob)));
  ASSERT_EQ(s().peek(kCarol).size(), 1u);
  EXPECT_NE(s().peek(kCarol)[0].seq, 0u);
  // drain and drain_ids report the seqs too.
  auto drained = test::writes(s()).drain_ids(kBob, {"b"});
  ASSERT_TRUE(drained.has_value());
  ASSERT_EQ(drained->size(), 1u);
  EXPECT_EQ(drained->front().seq, bob[1].seq);
}

TEST_P(StoreConformance, PeekPageCarriesTheSeqsPeekReports) {
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("1", std::string(1000, 'a'))},
                                        {kBob, msg("2", std::string(1000, 'b'))},
                                        {kBob, msg("3")}}));
  const auto all = s().peek(kBob);
  bool more = false;
  const auto page = s().peek_page(kBob, {2, 1 << 20}, &more);
  ASSERT_EQ(ids_of(page), (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(more);
  EXPECT_EQ(seqs_of(page), (std::vector<uint64_t>{all[0].seq, all[1].seq}));
  EXPECT_EQ(s().queued_messages(), 3u) << "peek_page does not remove";
}

TEST_P(StoreConformance, DropThroughRemovesOnlyTheAcknowledgedHead) {
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("a")}, {kBob, msg("b")}, {kCarol, msg("x")}}));
  const auto bob = s().peek(kBob);
  ASSERT_EQ(bob.size(), 2u);
  auto none = test::writes(s()).drop_through(kBob, bob[0].seq - 1);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none.value(), 0u);
  auto one = test::writes(s()).drop_through(kBob, bob[0].seq);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one.value(), 1u);
  EXPECT_EQ(ids_of(s().peek(kBob)), (std::vector<std::string>{"b"}));
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("c")}}));
  // A stale acknowledgement (an older frame's seq) never reaches a later message.
  auto stale = test::writes(s()).drop_through(kBob, bob[1].seq);
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(stale.value(), 1u);
  EXPECT_EQ(ids_of(s().peek(kBob)), (std::vector<std::string>{"c"}));
  EXPECT_EQ(ids_of(s().peek(kCarol)), (std::vector<std::string>{"x"})) << "other keys untouched";
  auto all = test::writes(s()).drop_through(kBob, UINT64_MAX);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all.value(), 1u);
  EXPECT_EQ(s().queued_messages(), 1u);
  EXPECT_EQ(s().inbox_keys().size(), 1u) << "an emptied inbox has no key left";
}

TEST_P(StoreConformance, MoveInboxRenumbersMovedMessagesAfterTheDestination) {
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("old1")}, {kBob, msg("old2")}}));
  ASSERT_TRUE(test::writes(s()).append({{kCarol, msg("new1")}}));
  ASSERT_TRUE(test::writes(s()).move_inbox(kBob, kCarol));
  const auto carol = s().peek(kCarol);
  EXPECT_EQ(ids_of(carol), (std::vector<std::string>{"new1", "old1", "old2"}));
  EXPECT_TRUE(strictly_increasing(seqs_of(carol)));
  // A cumulative acknowledgement of the destination's old head leaves the moved ones queued.
  ASSERT_TRUE(test::writes(s()).drop_through(kCarol, carol[0].seq));
  EXPECT_EQ(ids_of(s().peek(kCarol)), (std::vector<std::string>{"old1", "old2"}));
}

TEST_P(StoreConformance, LeasesOnNodeFollowPutsAndRemoves) {
  ASSERT_TRUE(test::writes(s()).put_lease(lease("bob", "node-b", "s1")));
  ASSERT_TRUE(test::writes(s()).put_lease(lease("bea", "node-b", "s2")));
  ASSERT_TRUE(test::writes(s()).put_lease(lease("carol", "node-c", "s3")));
  auto aliases = [&](std::string_view node) {
    std::vector<std::string> out;
    for (const auto& l : s().leases_on_node(node)) out.push_back(l.alias);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(aliases("node-b"), (std::vector<std::string>{"bea", "bob"}));
  EXPECT_EQ(aliases("node-c"), (std::vector<std::string>{"carol"}));
  EXPECT_TRUE(aliases("node-x").empty());
  ASSERT_TRUE(test::writes(s()).put_lease(lease("bob", "node-c", "s4")));  // bob moved machines
  EXPECT_EQ(aliases("node-b"), (std::vector<std::string>{"bea"}));
  EXPECT_EQ(aliases("node-c"), (std::vector<std::string>{"bob", "carol"}));
  ASSERT_TRUE(test::writes(s()).remove_lease("bea"));
  EXPECT_TRUE(aliases("node-b").empty());
}

TEST_P(StoreConformance, SeqsSurviveReopenAndAreNeverReused) {
  if (GetParam() == "memory") GTEST_SKIP() << "nothing to reopen";
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("a")}, {kBob, msg("b")}, {kBob, msg("c")}}));
  const auto before = s().peek(kBob);
  ASSERT_TRUE(test::writes(s()).drop_through(kBob, before[2].seq - 1));  // a and b acknowledged
  ASSERT_TRUE(test::writes(s()).append({{kCarol, msg("x")}}));
  const uint64_t highest = s().peek(kCarol)[0].seq;
  ASSERT_TRUE(test::writes(s()).drop_through(
      kCarol, highest));  // the highest seq is gone before the reopen
  ASSERT_TRUE(s().wait_durable());
  ASSERT_NO_FATAL_FAILURE(reopen());
  const auto after = s().peek(kBob);
  ASSERT_EQ(ids_of(after), (std::vector<std::string>{"c"}));
  EXPECT_EQ(after[0].seq, before[2].seq) << "a message keeps its seq across a restart";
  ASSERT_TRUE(test::writes(s()).append({{kCarol, msg("y")}}));
  EXPECT_GT(s().peek(kCarol)[0].seq, highest)
      << "a dropped message's seq is never handed out again";
  // Renumbered moves persist too.
  ASSERT_TRUE(test::writes(s()).move_inbox(kBob, kCarol));
  const auto moved = s().peek(kCarol);
  ASSERT_TRUE(s().wait_durable());
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(seqs_of(s().peek(kCarol)), seqs_of(moved));
  EXPECT_EQ(ids_of(s().peek(kCarol)), (std::vector<std::string>{"y", "c"}));
}

TEST_P(StoreConformance, InboxKeysRemoveInboxQueuedMessages) {
  EXPECT_TRUE(s().inbox_keys().empty());
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("1")}, {kBob, msg("2")}, {kCarol, msg("3")}}));
  auto keys = s().inbox_keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_TRUE(std::find(keys.begin(), keys.end(), kBob) != keys.end());
  EXPECT_TRUE(std::find(keys.begin(), keys.end(), kCarol) != keys.end());
  auto removed = test::writes(s()).remove_inbox(kBob);
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed.value(), 2u);
  EXPECT_EQ(s().queued_messages(), 1u);
  ASSERT_EQ(s().inbox_keys().size(), 1u);
  EXPECT_EQ(s().inbox_keys()[0], kCarol);
  auto again = test::writes(s()).remove_inbox(kBob);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again.value(), 0u);
  ASSERT_TRUE(test::writes(s()).drain(kCarol).has_value());
  EXPECT_TRUE(s().inbox_keys().empty()) << "a drained inbox has no key left";
}

TEST_P(StoreConformance, RoomsPutGetList) {
  EXPECT_FALSE(s().get_room("lobby").has_value());
  Room r;
  r.room_id = "lobby";
  r.visibility = "invite";
  r.invited = {"pk1", "pk2"};
  r.members = {"ignored"};
  ASSERT_TRUE(test::writes(s()).put_room(r));
  auto got = s().get_room("lobby");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->room_id, "lobby");
  EXPECT_EQ(got->visibility, "invite");
  EXPECT_EQ(got->invited, (std::vector<std::string>{"pk1", "pk2"}));
  EXPECT_TRUE(got->members.empty()) << "put_room does not take members";

  ASSERT_TRUE(test::writes(s()).add_member("lobby", "bob").value());
  r.visibility = "public";
  r.invited = {"pk3"};
  ASSERT_TRUE(test::writes(s()).put_room(r));
  got = s().get_room("lobby");
  EXPECT_EQ(got->visibility, "public");
  EXPECT_EQ(got->invited, (std::vector<std::string>{"pk3"}));
  EXPECT_EQ(got->members, (std::vector<std::string>{"bob"})) << "members kept by put_room";

  Room other;
  other.room_id = "dev";
  ASSERT_TRUE(test::writes(s()).put_room(other));
  auto rooms = s().list_rooms();
  ASSERT_EQ(rooms.size(), 2u);
  std::vector<std::string> ids{rooms[0].room_id, rooms[1].room_id};
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"dev", "lobby"}));
}

TEST_P(StoreConformance, MembersAddRemoveIdempotentInJoinOrder) {
  auto first = test::writes(s()).add_member("lobby", "carol");
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first.value());
  auto room = s().get_room("lobby");
  ASSERT_TRUE(room.has_value()) << "joining creates the room";
  EXPECT_EQ(room->visibility, "public");
  EXPECT_TRUE(test::writes(s()).add_member("lobby", "alice").value());
  EXPECT_FALSE(test::writes(s()).add_member("lobby", "carol").value()) << "already a member";
  EXPECT_TRUE(test::writes(s()).add_member("lobby", "bob").value());
  EXPECT_EQ(s().get_room("lobby")->members, (std::vector<std::string>{"carol", "alice", "bob"}));
  EXPECT_TRUE(test::writes(s()).remove_member("lobby", "alice").value());
  EXPECT_FALSE(test::writes(s()).remove_member("lobby", "alice").value());
  EXPECT_FALSE(test::writes(s()).remove_member("nowhere", "alice").value());
  EXPECT_TRUE(test::writes(s()).add_member("lobby", "alice").value());
  EXPECT_EQ(s().get_room("lobby")->members, (std::vector<std::string>{"carol", "bob", "alice"}));
}

TEST_P(StoreConformance, HistoryLimitIsLastNOldestFirst) {
  EXPECT_TRUE(s().history("lobby", 10).empty());
  for (int i = 1; i <= 5; ++i) {
    StoredMessage e = msg("h" + std::to_string(i));
    e.to_alias = "";
    e.room_id = "lobby";
    e.envelope = "env" + std::to_string(i);
    ASSERT_TRUE(test::writes(s()).append_history("lobby", e));
  }
  ASSERT_TRUE(test::writes(s()).append_history("dev", msg("other")));
  EXPECT_EQ(ids_of(s().history("lobby", 3)), (std::vector<std::string>{"h3", "h4", "h5"}));
  EXPECT_EQ(ids_of(s().history("lobby", 100)),
            (std::vector<std::string>{"h1", "h2", "h3", "h4", "h5"}));
  EXPECT_TRUE(s().history("lobby", 0).empty());
  EXPECT_EQ(s().history("lobby", 1)[0].envelope, "env5") << "envelopes kept in history (D2)";
  EXPECT_EQ(ids_of(s().history("dev", 5)), (std::vector<std::string>{"other"}));
}

TEST_P(StoreConformance, DedupWindowEvictsOldest) {
  EXPECT_FALSE(s().seen_message_id("alice", "a"));
  ASSERT_TRUE(test::writes(s()).remember_message_id("alice", "a", 3));
  ASSERT_TRUE(test::writes(s()).remember_message_id("alice", "b", 3));
  ASSERT_TRUE(test::writes(s()).remember_message_id("alice", "c", 3));
  EXPECT_TRUE(s().seen_message_id("alice", "a"));
  EXPECT_TRUE(s().seen_message_id("alice", "c"));
  ASSERT_TRUE(test::writes(s()).remember_message_id("alice", "d", 3));
  EXPECT_FALSE(s().seen_message_id("alice", "a")) << "4th id evicts the oldest";
  EXPECT_TRUE(s().seen_message_id("alice", "b"));
  EXPECT_TRUE(s().seen_message_id("alice", "d"));
  EXPECT_TRUE(test::writes(s()).remember_message_id("alice", "a", 3).value_or(false))
      << "counts as new again, evicts b";
  EXPECT_TRUE(s().seen_message_id("alice", "a"));
  EXPECT_FALSE(s().seen_message_id("alice", "b"));
  EXPECT_TRUE(s().seen_message_id("alice", "c"));
}

// The check and the write are one call: true for a new pair, false for one the window holds (a
// retry), and nothing changes then.
TEST_P(StoreConformance, RememberMessageIdTellsANewPairFromARetry) {
  auto remember = [&](std::string_view sender, std::string_view id) {
    auto r = test::writes(s()).remember_message_id(sender, id, 10);
    EXPECT_TRUE(r.has_value());
    return r.value_or(false);
  };
  EXPECT_TRUE(remember("alice", "m-1"));
  EXPECT_FALSE(remember("alice", "m-1")) << "a retry";
  EXPECT_FALSE(remember("ALICE", "m-1")) << "senders compare case-insensitively";
  EXPECT_TRUE(remember("bob", "m-1")) << "another sender's id";
  EXPECT_TRUE(remember("alice", "m-2"));
  EXPECT_TRUE(remember("alice", "m-3"));
  EXPECT_TRUE(s().seen_message_id("alice", "m-1")) << "a retry does not move or add the pair";
  // Twice in one transaction (a /send_batch listing one id twice): the second is the retry.
  std::vector<bool> answers;
  ASSERT_TRUE(s().transact(relay::TxScope::kMessages, [&](Tx& tx) -> Result<void> {
    for (int i = 0; i < 2; ++i) {
      auto r = tx.remember_message_id("carol", "twice", 10);
      if (!r) return Unexpected{r.error()};
      answers.push_back(*r);
    }
    return {};
  }));
  EXPECT_EQ(answers, (std::vector<bool>{true, false}));
}

// However a backend evicts (at once, or in rounds), the newest `window` pairs are always held.
TEST_P(StoreConformance, DedupWindowAlwaysHoldsTheNewestPairs) {
  constexpr size_t kWindow = 100;
  for (size_t i = 0; i < 3 * kWindow; ++i) {
    ASSERT_TRUE(test::writes(s())
                    .remember_message_id("alice", "w" + std::to_string(i), kWindow)
                    .value_or(false));
    const size_t newest = i + 1 < kWindow ? 0 : i + 1 - kWindow;
    ASSERT_TRUE(s().seen_message_id("alice", "w" + std::to_string(newest))) << "after " << i;
  }
  EXPECT_FALSE(s().seen_message_id("alice", "w0")) << "old pairs do leave the window";
}

// docs/security.md finding 8.7: one sender's id never marks another's message.
TEST_P(StoreConformance, DedupWindowIsPerSender) {
  ASSERT_TRUE(test::writes(s()).remember_message_id("mallory", "m-1", 3));
  EXPECT_TRUE(s().seen_message_id("mallory", "m-1"));
  EXPECT_TRUE(s().seen_message_id("MALLORY", "m-1")) << "senders compare case-insensitively";
  EXPECT_FALSE(s().seen_message_id("alice", "m-1"));
  ASSERT_TRUE(test::writes(s()).remember_message_id("alice", "m-1", 3));
  EXPECT_TRUE(s().seen_message_id("alice", "m-1"));
  // The window counts (sender, id) pairs: two more pairs evict mallory's, not alice's.
  ASSERT_TRUE(test::writes(s()).remember_message_id("bob", "m-2", 3));
  ASSERT_TRUE(test::writes(s()).remember_message_id("bob", "m-3", 3));
  EXPECT_FALSE(s().seen_message_id("mallory", "m-1"));
  EXPECT_TRUE(s().seen_message_id("alice", "m-1"));
}

// docs/security.md finding 8.6: one lease, binding and membership per alias in any case.
TEST_P(StoreConformance, AliasesAreUniqueCaseInsensitively) {
  ASSERT_TRUE(test::writes(s()).put_lease(lease("xa1", "node-a", "sa")));
  ASSERT_TRUE(test::writes(s()).put_binding("xa1", "pk-a"));
  auto got = s().get_lease("XA1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->alias, "xa1") << "case kept for display";
  EXPECT_EQ(s().get_binding("Xa1"), "pk-a");
  ASSERT_TRUE(test::writes(s()).put_lease(lease("XA1", "node-a", "sa2")));
  ASSERT_EQ(s().list_leases().size(), 1u);
  EXPECT_EQ(s().get_lease("xa1")->alias, "XA1");
  EXPECT_EQ(s().get_lease("xa1")->session_id, "sa2");
  EXPECT_FALSE(s().find_lease({"node-a", "sa"}).has_value());
  EXPECT_EQ(s().find_lease({"node-a", "sa2"})->alias, "XA1");
  ASSERT_TRUE(test::writes(s()).put_binding("XA1", "pk-b"));
  EXPECT_EQ(s().get_binding("xa1"), "pk-b");
  EXPECT_EQ(test::writes(s()).remove_binding("xA1").value(), true);
  EXPECT_FALSE(s().get_binding("XA1").has_value());
  ASSERT_TRUE(test::writes(s()).remove_lease("xa1"));
  EXPECT_TRUE(s().list_leases().empty());

  EXPECT_EQ(test::writes(s()).add_member("lounge", "Bob").value(), true);
  EXPECT_EQ(test::writes(s()).add_member("lounge", "BOB").value(), false);
  EXPECT_EQ(s().get_room("lounge")->members, (std::vector<std::string>{"Bob"}));
  EXPECT_EQ(test::writes(s()).remove_member("lounge", "bob").value(), true);
  EXPECT_TRUE(s().get_room("lounge")->members.empty());
  ASSERT_TRUE(s().wait_durable());
}

// docs/relay-server.md "Inbox pages": bounded by count and bytes, never empty while queued.
TEST_P(StoreConformance, InboxPagesAreBoundedByCountAndBytes) {
  const std::string kb(1000, 'x');
  std::vector<Delivery> ds;
  for (int i = 0; i < 5; ++i) ds.push_back({kBob, msg("p" + std::to_string(i), kb)});
  ASSERT_TRUE(test::writes(s()).append(ds));
  bool more = false;
  auto page = s().peek_page(kBob, {2, 1 << 20}, &more);
  EXPECT_EQ(ids_of(page), (std::vector<std::string>{"p0", "p1"}));
  EXPECT_TRUE(more);
  // 2,500 bytes hold two messages of ~1,010 bytes (page_bytes counts every field).
  page = s().peek_page(kBob, {100, 2500}, &more);
  EXPECT_EQ(ids_of(page), (std::vector<std::string>{"p0", "p1"}));
  // A budget smaller than one message still yields that message, alone.
  page = s().peek_page(kBob, {100, 10}, &more);
  EXPECT_EQ(ids_of(page), (std::vector<std::string>{"p0"}));
  EXPECT_TRUE(more);
  auto drained = test::writes(s()).drain_page(kBob, {3, 1 << 20}, &more);
  ASSERT_TRUE(drained);
  EXPECT_EQ(ids_of(*drained), (std::vector<std::string>{"p0", "p1", "p2"}));
  EXPECT_TRUE(more);
  EXPECT_EQ(s().queued_messages(), 2u);
  drained = test::writes(s()).drain_page(kBob, {3, 1 << 20}, &more);
  ASSERT_TRUE(drained);
  EXPECT_EQ(ids_of(*drained), (std::vector<std::string>{"p3", "p4"}));
  EXPECT_FALSE(more);
  EXPECT_TRUE(s().peek(kBob).empty());
  EXPECT_TRUE(s().peek_page(kCarol, {1, 1}, &more).empty());
  EXPECT_FALSE(more);
  ASSERT_TRUE(s().wait_durable());
}

// Two senders may use one id (dedup is per sender): acknowledging a page that holds only the
// first must not remove the second.
TEST_P(StoreConformance, DrainIdsTakesTheOldestMessagePerListedId) {
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("same", "from mallory")},
                                        {kBob, msg("other")},
                                        {kBob, msg("same", "from alice")}}));
  auto taken = test::writes(s()).drain_ids(kBob, {"same"});
  ASSERT_TRUE(taken);
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0].content, "from mallory");
  auto left = s().peek(kBob);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[1].content, "from alice");
  taken = test::writes(s()).drain_ids(kBob, {"same", "same", "other"});
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->size(), 2u);
  EXPECT_TRUE(s().peek(kBob).empty());
  ASSERT_TRUE(s().wait_durable());
}

TEST_P(StoreConformance, NonceReplayAndPruningByAge) {
  EXPECT_TRUE(test::writes(s()).remember_nonce("request", "n1", 1000, 120).value());
  EXPECT_FALSE(test::writes(s()).remember_nonce("request", "n1", 1000, 120).value()) << "replay";
  EXPECT_TRUE(test::writes(s()).remember_nonce("register", "n1", 1000, 120).value())
      << "caches are separate";
  EXPECT_TRUE(test::writes(s()).remember_nonce("request", "n2", 1100, 120).value());
  EXPECT_FALSE(test::writes(s()).remember_nonce("request", "n1", 1100, 120).value())
      << "n1 still in window";
  // ts 1200: entries older than 1200 - 120 = 1080 are pruned (n1 at 1000), n2 at 1100 stays.
  EXPECT_TRUE(test::writes(s()).remember_nonce("request", "n3", 1200, 120).value());
  EXPECT_TRUE(test::writes(s()).remember_nonce("request", "n1", 1200, 120).value())
      << "n1 was pruned";
  EXPECT_FALSE(test::writes(s()).remember_nonce("request", "n2", 1200, 120).value());
  EXPECT_FALSE(test::writes(s()).remember_nonce("register", "n1", 1200, 120).value())
      << "pruning one cache leaves the other alone";
}

TEST_P(StoreConformance, DeadLettersKeepOrderAndFields) {
  EXPECT_TRUE(s().dead_letters().empty());
  for (int i = 0; i < 3; ++i) {
    DeadLetter dl;
    dl.message = msg("d" + std::to_string(i));
    dl.message.envelope = "e";
    dl.reason = i == 1 ? "recipient_dead" : "unknown_alias";
    dl.ts = 500 + i;
    ASSERT_TRUE(test::writes(s()).add_dead_letter(dl));
  }
  auto all = s().dead_letters();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].message.message_id, "d0");
  EXPECT_EQ(all[1].message.message_id, "d1");
  EXPECT_EQ(all[1].reason, "recipient_dead");
  EXPECT_DOUBLE_EQ(all[2].ts, 502);
  EXPECT_EQ(all[2].message.envelope, "e");
  EXPECT_EQ(all[2].message.to_alias, "bob");
}

// Everything a test can observe of a store, for "nothing changed" checks.
std::string state_of(Store& st, const std::vector<std::string>& rooms) {
  std::string out;
  for (const auto& l : st.list_leases()) {
    out += "lease " + l.alias + " " + l.node_id + "/" + l.session_id + " " + l.identity_pk + "\n";
    out += "binding " + l.alias + "=" + st.get_binding(l.alias).value_or("-") + "\n";
  }
  auto keys = st.inbox_keys();
  std::sort(keys.begin(), keys.end(), [](const InboxKey& a, const InboxKey& b) {
    return std::tie(a.node_id, a.session_id) < std::tie(b.node_id, b.session_id);
  });
  for (const auto& k : keys) {
    out += "inbox " + k.node_id + "/" + k.session_id + ":";
    for (const auto& m : st.peek(k)) out += " " + m.message_id + "@" + std::to_string(m.seq);
    out += "\n";
  }
  for (const auto& id : rooms) {
    if (auto r = st.get_room(id)) {
      out += "room " + id + " " + r->visibility + " members:";
      for (const auto& m : r->members) out += " " + m;
      out += " invited:";
      for (const auto& pk : r->invited) out += " " + pk;
      out += " history:";
      for (const auto& h : st.history(id, 100)) out += " " + h.message_id;
      out += "\n";
    }
  }
  for (const auto& dl : st.dead_letters()) out += "dead " + dl.message.message_id + "\n";
  out += "queued " + std::to_string(st.queued_messages()) + "\n";
  return out;
}

// The one write path's promise (store.hpp): a body that returns an error leaves nothing of what
// it wrote, whatever it wrote, on every backend; after a reopen too.
TEST_P(StoreConformance, AFailedBodyUndoesEveryWrite) {
  ASSERT_TRUE(test::writes(s()).put_lease(lease("bob", "node-b", "sess-b")));
  ASSERT_TRUE(test::writes(s()).put_lease(lease("dan", "node-d", "sess-d")));
  ASSERT_TRUE(test::writes(s()).put_binding("bob", "pk-bob"));
  ASSERT_TRUE(test::writes(s()).append(
      {{kBob, msg("b1")}, {kBob, msg("b2")}, {kBob, msg("b3")}, {kCarol, msg("c1")}}));
  Room lobby;
  lobby.room_id = "lobby";
  lobby.invited = {"pk-1"};
  ASSERT_TRUE(test::writes(s()).put_room(lobby));
  ASSERT_TRUE(test::writes(s()).add_member("lobby", "bob"));
  ASSERT_TRUE(test::writes(s()).add_member("lobby", "dan"));
  ASSERT_TRUE(test::writes(s()).append_history("lobby", msg("h1")));
  ASSERT_TRUE(test::writes(s()).add_dead_letter(DeadLetter{msg("d1"), "unknown_alias", 5}));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(test::writes(s()).remember_message_id("alice", "w" + std::to_string(i), 3));
  }
  ASSERT_TRUE(test::writes(s()).remember_nonce("request", "n-old", 100, 50));
  ASSERT_TRUE(s().wait_durable());
  const std::vector<std::string> rooms{"lobby", "new-room"};
  const std::string before = state_of(s(), rooms);

  bool wrote_all = false;
  auto r = s().transact(TxScope::kWhole, [&](Tx& tx) -> Result<void> {
    Lease moved = lease("bob", "node-b", "sess-b2");
    C2C_TRY(tx.put_lease(moved));
    C2C_TRY(tx.put_lease(lease("erin", "node-e", "sess-e")));
    C2C_TRY(tx.remove_lease("dan"));
    C2C_TRY(tx.put_binding("bob", "pk-other"));
    C2C_TRY(tx.put_binding("erin", "pk-erin"));
    C2C_TRY(tx.move_inbox(kBob, InboxKey{"node-b", "sess-b2"}));
    C2C_TRY(tx.append({{kCarol, msg("c2")}, {InboxKey{"node-e", "sess-e"}, msg("e1")}}));
    auto drained = tx.drain_ids(kCarol, {"c1"});
    if (!drained || drained->size() != 1) return fail(ErrorCode::kInternal, "drain_ids");
    C2C_TRY(tx.drop_through(InboxKey{"node-b", "sess-b2"}, UINT64_MAX / 2));
    C2C_TRY(tx.remove_inbox(kCarol));
    Room changed = lobby;
    changed.visibility = "invite";
    changed.invited = {"pk-2", "pk-3"};
    C2C_TRY(tx.put_room(changed));
    Room fresh;
    fresh.room_id = "new-room";
    C2C_TRY(tx.put_room(fresh));
    C2C_TRY(tx.add_member("new-room", "erin"));
    C2C_TRY(tx.remove_member("lobby", "bob"));
    C2C_TRY(tx.append_history("lobby", msg("h2")));
    C2C_TRY(tx.add_dead_letter(DeadLetter{msg("d2"), "recipient_dead", 6}));
    C2C_TRY(tx.remember_message_id("alice", "w9", 3));                   // evicts w0
    auto fresh_nonce = tx.remember_nonce("request", "n-new", 1000, 50);  // prunes n-old
    if (!fresh_nonce || !*fresh_nonce) return fail(ErrorCode::kInternal, "remember_nonce");
    auto b = tx.remove_binding("bob");
    if (!b || !*b) return fail(ErrorCode::kInternal, "remove_binding");
    // The body sees its own writes.
    if (tx.get_lease("erin") == std::nullopt || tx.get_lease("dan") != std::nullopt) {
      return fail(ErrorCode::kInternal, "the body does not see its writes");
    }
    wrote_all = true;
    return fail(ErrorCode::kBadRequest, "the body gives up");
  });
  ASSERT_TRUE(wrote_all) << (r ? std::string("ok") : r.error().message);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << r.error().message;
  EXPECT_EQ(state_of(s(), rooms), before);
  EXPECT_TRUE(s().seen_message_id("alice", "w0")) << "an eviction was not undone";
  EXPECT_FALSE(s().seen_message_id("alice", "w9"));
  // The nonce the body recorded is forgotten, the one it pruned is back.
  auto fresh = test::writes(s()).remember_nonce("request", "n-new", 1000, 5000);
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(*fresh);
  auto old = test::writes(s()).remember_nonce("request", "n-old", 1000, 5000);
  ASSERT_TRUE(old);
  EXPECT_FALSE(*old) << "a pruned nonce was not restored";

  if (GetParam() == "memory") return;
  ASSERT_TRUE(s().wait_durable());
  const std::string kept = state_of(s(), rooms);
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(state_of(s(), rooms), kept);
}

// A body that succeeds keeps all of its writes, and a transact() inside a body joins it: the
// outer body's failure undoes the inner one's writes too.
TEST_P(StoreConformance, TransactInsideABodyJoinsIt) {
  auto r = s().transact(TxScope::kWhole, [&](Tx& tx) -> Result<void> {
    C2C_TRY(tx.append({{kBob, msg("outer")}}));
    C2C_TRY(s().transact(TxScope::kOneWrite, [&](Tx& inner) {
      return inner.append({{kBob, msg("inner")}});
    }));
    return fail(ErrorCode::kBadRequest, "no");
  });
  ASSERT_FALSE(r);
  EXPECT_TRUE(s().peek(kBob).empty());
  ASSERT_TRUE(s().transact(TxScope::kMessages, [&](Tx& tx) -> Result<void> {
    C2C_TRY(tx.append({{kBob, msg("a")}}));
    C2C_TRY(tx.remember_message_id("alice", "a", 10));
    return tx.add_dead_letter(DeadLetter{msg("d"), "unknown_alias", 1});
  }));
  EXPECT_EQ(ids_of(s().peek(kBob)), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(s().seen_message_id("alice", "a"));
  EXPECT_EQ(s().dead_letters().size(), 1u);
}

// A body that throws (the router answers 500) is undone like one that fails, and the store
// goes on: the next transaction runs and keeps its writes.
TEST_P(StoreConformance, ABodyThatThrowsLeavesNothing) {
  EXPECT_THROW((void)s().transact(TxScope::kWhole,
                                  [&](Tx& tx) -> Result<void> {
                                    C2C_TRY(tx.append({{kBob, msg("thrown")}}));
                                    throw std::runtime_error("a bug");
                                  }),
               std::runtime_error);
  EXPECT_TRUE(s().peek(kBob).empty());
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("next")}}));
  ASSERT_TRUE(s().wait_durable());
  EXPECT_EQ(ids_of(s().peek(kBob)), (std::vector<std::string>{"next"}));
}

// kOneWrite (store.hpp): one write, final whatever the body returns after it; a second write
// call fails. The same on every backend.
TEST_P(StoreConformance, OneWriteTransactionsWriteOnceAndKeepIt) {
  auto r = s().transact(TxScope::kOneWrite, [&](Tx& tx) -> Result<void> {
    C2C_TRY(tx.append({{kBob, msg("kept")}}));
    auto second = tx.append({{kBob, msg("refused")}});
    if (second) return fail(ErrorCode::kInternal, "a second write was accepted");
    return fail(ErrorCode::kBadRequest, "gives up after its write");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << r.error().message;
  EXPECT_EQ(ids_of(s().peek(kBob)), (std::vector<std::string>{"kept"}));
}

TEST_P(StoreConformance, DurabilityBarrierSucceedsWithAndWithoutWrites) {
  ASSERT_TRUE(s().wait_durable());
  ASSERT_TRUE(test::writes(s()).append({{kBob, msg("x")}}));
  ASSERT_TRUE(s().wait_durable());
  ASSERT_TRUE(s().wait_durable());
  EXPECT_EQ(ids_of(s().peek(kBob)), (std::vector<std::string>{"x"}));
}

TEST_P(StoreConformance, ConcurrentAppendersAndDrainerSeeEveryMessageOnceInOrder) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 1000;
  std::atomic<int> writers_done{0};
  std::vector<StoredMessage> received;
  std::thread drainer([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      const bool last = writers_done.load() == kThreads;
      auto got = test::writes(s()).drain(kBob);
      ASSERT_TRUE(got.has_value());
      received.insert(received.end(), got->begin(), got->end());
      if (last) break;
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        StoredMessage m = msg(std::to_string(t) + ":" + std::to_string(i));
        ASSERT_TRUE(test::writes(s()).append({{kBob, m}}));
      }
      ++writers_done;
    });
  }
  for (auto& w : writers) w.join();
  drainer.join();
  ASSERT_EQ(received.size(), size_t{kThreads * kPerThread});
  std::vector<int> next(kThreads, 0);
  for (const auto& m : received) {
    const auto colon = m.message_id.find(':');
    const int t = std::stoi(m.message_id.substr(0, colon));
    const int i = std::stoi(m.message_id.substr(colon + 1));
    ASSERT_EQ(i, next[t]) << "thread " << t << " out of order or duplicated";
    ++next[t];
  }
  EXPECT_EQ(s().queued_messages(), 0u);
  ASSERT_TRUE(s().wait_durable());
}

// Named settings (store.hpp): a name gets its value once; the first adopt_setting() wins and
// every later one gets that value back, inside a transaction and out.
TEST_P(StoreConformance, SettingsFirstAdoptWins) {
  auto none = s().get_setting("relay_identity");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->has_value());
  auto first = test::writes(s()).adopt_setting("relay_identity", "one");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(*first, "one");
  auto second = test::writes(s()).adopt_setting("relay_identity", "two");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(*second, "one") << "a later adopt gets the earlier value";
  EXPECT_EQ(s().get_setting("relay_identity").value(), "one");
  EXPECT_FALSE(s().get_setting("other").value().has_value()) << "names are apart";
  // Values are kept as given: multi-line text with quotes and non-ASCII bytes.
  const std::string text = "{\n  \"k\": \"v\u00e9'\"\n}\n";
  EXPECT_EQ(test::writes(s()).adopt_setting("other", text).value(), text);
  ASSERT_TRUE(s().transact(TxScope::kWhole, [&](Tx& tx) -> Result<void> {
    auto seen = tx.get_setting("other");
    if (!seen || *seen != text) return fail(ErrorCode::kInternal, "tx.get_setting");
    auto again = tx.adopt_setting("other", "three");
    if (!again || *again != text) return fail(ErrorCode::kInternal, "adopt in a body");
    return {};
  }));
  ASSERT_TRUE(s().wait_durable());
  if (GetParam() == "memory") return;
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(s().get_setting("relay_identity").value(), "one") << "survives a reopen";
  EXPECT_EQ(s().get_setting("other").value(), text);
  EXPECT_EQ(test::writes(s()).adopt_setting("relay_identity", "four").value(), "one");
}

// A body that fails after adopting leaves the name without a value: the next adopt wins.
TEST_P(StoreConformance, AFailedBodyUndoesAnAdopt) {
  bool adopted = false;
  auto r = s().transact(TxScope::kWhole, [&](Tx& tx) -> Result<void> {
    auto got = tx.adopt_setting("relay_identity", "undone");
    if (!got || *got != "undone") return fail(ErrorCode::kInternal, "adopt");
    auto seen = tx.get_setting("relay_identity");
    if (!seen || *seen != "undone") return fail(ErrorCode::kInternal, "the body sees its adopt");
    adopted = true;
    return fail(ErrorCode::kBadRequest, "the body gives up");
  });
  ASSERT_TRUE(adopted) << (r ? std::string("ok") : r.error().message);
  ASSERT_FALSE(r);
  EXPECT_FALSE(s().get_setting("relay_identity").value().has_value());
  EXPECT_EQ(test::writes(s()).adopt_setting("relay_identity", "kept").value(), "kept");
  ASSERT_TRUE(s().wait_durable());
  if (GetParam() == "memory") return;
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(s().get_setting("relay_identity").value(), "kept");
}

// Relays starting together on one database (PostgreSQL: each with a store of its own) all adopt
// the same one value, whoever's it is; one-write transactions included.
TEST_P(StoreConformance, ConcurrentAdoptersAllGetOneValue) {
  constexpr int kAdopters = 8;
  std::vector<std::unique_ptr<Store>> own(kAdopters);
  if (GetParam() == "postgres") {
    for (auto& st : own) {
      auto opened = open_store(url_);
      ASSERT_TRUE(opened.has_value()) << opened.error().message;
      st = std::move(opened.value());
    }
  }
  std::vector<std::string> got(kAdopters);
  std::vector<std::thread> threads;
  threads.reserve(kAdopters);
  for (int i = 0; i < kAdopters; ++i) {
    threads.emplace_back([&, i] {
      Store& st = own[i] ? *own[i] : s();
      // kOneWrite: no cluster lock on PostgreSQL, so the adopts really race.
      const TxScope scope = i % 2 == 0 ? TxScope::kWhole : TxScope::kOneWrite;
      auto r = test::writes(st, scope).adopt_setting("relay_identity", "v" + std::to_string(i));
      got[i] = r ? *r : "error: " + r.error().message;
    });
  }
  for (auto& t : threads) t.join();
  const std::string winner = s().get_setting("relay_identity").value().value_or("none");
  EXPECT_EQ(winner.rfind('v', 0), 0u) << winner;
  for (int i = 0; i < kAdopters; ++i) EXPECT_EQ(got[i], winner) << "adopter " << i;
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance,
                         ::testing::Values("memory", "sqlite", "postgres"),
                         [](const auto& param_info) { return param_info.param; });

TEST(OpenStore, UnknownSchemeIsAClearError) {
  auto r = open_store("mysql://x");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("mysql://x"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace c2c::relay
