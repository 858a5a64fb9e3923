// SQLite store: what must survive a close/reopen, a model check against MemoryStore, and
// clear errors for paths that cannot hold a relay database.
#include "c2c/relay/store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <random>

#include "c2c/relay/store/memory_store.hpp"
#include "store_test_util.hpp"
#include "support/store_writes.hpp"
#include "support/temp_dir.hpp"

namespace c2c::relay {
namespace {

using testing::dump;
using testing::message;
using testing::open_sqlite;

const InboxKey kOld{"node-b", "old-session"};
const InboxKey kNew{"node-b", "new-session"};
const InboxKey kGone{"node-x", "gone"};

std::vector<std::string> ids_of(const std::vector<StoredMessage>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.message_id);
  return out;
}

// Writes one of everything, including removals whose effect must also persist.
void populate(Store& s) {
  Lease bob;
  bob.alias = "bob";
  bob.node_id = "node-b";
  bob.session_id = "new-session";
  bob.client_type = "codex";
  bob.registered_at = 10;
  bob.last_seen = 20.25;
  bob.ttl = 30;
  bob.identity_pk = "pk-bob";
  bob.enc_pubkey = "enc-bob";
  bob.signed_at = 9.5;
  bob.sig_b64 = "sig-bob";
  ASSERT_TRUE(test::writes(s).put_lease(bob));
  Lease gone = bob;
  gone.alias = "gone";
  ASSERT_TRUE(test::writes(s).put_lease(gone));
  ASSERT_TRUE(test::writes(s).remove_lease("gone"));
  Lease zed = bob;  // shares bob's session; bob is put again after it, so bob is the latest
  zed.alias = "zed";
  ASSERT_TRUE(test::writes(s).put_lease(zed));
  ASSERT_TRUE(test::writes(s).put_lease(bob));
  ASSERT_TRUE(test::writes(s).put_binding("bob", "pk-bob"));
  ASSERT_TRUE(test::writes(s).put_binding("unbound", "pk-x"));
  ASSERT_TRUE(test::writes(s).remove_binding("unbound"));

  StoredMessage rich = message("m1", "first");
  rich.room_id = "lobby";
  rich.to_alias = "bob#lobby";
  rich.envelope = R"({"enc":"none"})";
  ASSERT_TRUE(test::writes(s).append({{kNew, message("n1")},
                                      {kOld, rich},
                                      {kOld, message("m2")},
                                      {kOld, message("m3")},
                                      {kGone, message("g1")}}));
  ASSERT_TRUE(test::writes(s).drain_ids(kOld, {"m2"}));
  ASSERT_TRUE(test::writes(s).move_inbox(kOld, kNew));  // n1, m1, m3
  ASSERT_TRUE(test::writes(s).remove_inbox(kGone));

  Room lobby;
  lobby.room_id = "lobby";
  lobby.visibility = "invite";
  lobby.invited = {"pk-2", "pk-1"};
  ASSERT_TRUE(test::writes(s).put_room(lobby));
  for (const char* who : {"carol", "alice", "bob"})
    ASSERT_TRUE(test::writes(s).add_member("lobby", who));
  ASSERT_TRUE(test::writes(s).remove_member("lobby", "carol"));
  ASSERT_TRUE(test::writes(s).add_member("lobby", "carol"));  // alice, bob, carol
  ASSERT_TRUE(test::writes(s).add_member("implicit", "dave"));
  StoredMessage h = message("h1", "said in lobby");
  h.room_id = "lobby";
  h.to_alias = "";
  h.envelope = "env-h1";
  ASSERT_TRUE(test::writes(s).append_history("lobby", h));
  ASSERT_TRUE(test::writes(s).append_history("lobby", message("h2")));

  for (const char* id : {"d1", "d2", "d3", "d4"})
    ASSERT_TRUE(test::writes(s).remember_message_id("alice", id, 3));

  ASSERT_TRUE(test::writes(s).remember_nonce("request", "old", 1000, 100));
  ASSERT_TRUE(test::writes(s).remember_nonce("request", "kept", 1090, 100));
  ASSERT_TRUE(
      test::writes(s).remember_nonce("request", "new", 1150, 100));  // prunes "old" (< 1050)
  ASSERT_TRUE(test::writes(s).remember_nonce("register", "reg", 1000, 100));

  for (int i = 0; i < 3; ++i) {
    DeadLetter dl;
    dl.message = message("dl" + std::to_string(i));
    dl.reason = i == 0 ? "unknown_alias" : "recipient_dead";
    dl.ts = 70 + i;
    ASSERT_TRUE(test::writes(s).add_dead_letter(dl));
  }
}

TEST(SqliteStoreReopen, KeepsEveryItem) {
  test::TempDir dir("c2c-store-reopen");
  const std::string path = (dir / "relay.db").string();
  {
    auto s = open_sqlite(path);
    ASSERT_NE(s, nullptr);
    populate(*s);
    ASSERT_TRUE(s->wait_durable());
  }
  auto s = open_sqlite(path);
  ASSERT_NE(s, nullptr);

  auto bob = s->get_lease("bob");
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(bob->session_id, "new-session");
  EXPECT_EQ(bob->client_type, "codex");
  EXPECT_DOUBLE_EQ(bob->last_seen, 20.25);
  EXPECT_DOUBLE_EQ(bob->ttl, 30);
  EXPECT_EQ(bob->identity_pk, "pk-bob");
  EXPECT_EQ(bob->enc_pubkey, "enc-bob");
  EXPECT_DOUBLE_EQ(bob->signed_at, 9.5);
  EXPECT_EQ(bob->sig_b64, "sig-bob");
  EXPECT_EQ(s->find_lease(kNew)->alias, "bob");
  ASSERT_TRUE(test::writes(*s).remove_lease("bob"));
  EXPECT_EQ(s->find_lease(kNew)->alias, "zed") << "put order of sharers survived the restart";
  ASSERT_TRUE(test::writes(*s).put_lease(*bob));
  EXPECT_FALSE(s->get_lease("gone").has_value());
  EXPECT_EQ(s->get_binding("bob").value_or(""), "pk-bob");
  EXPECT_FALSE(s->get_binding("unbound").has_value());

  auto inbox = s->peek(kNew);
  EXPECT_EQ(ids_of(inbox), (std::vector<std::string>{"n1", "m1", "m3"}));
  ASSERT_EQ(inbox.size(), 3u);
  EXPECT_EQ(inbox[1].to_alias, "bob#lobby");
  EXPECT_EQ(inbox[1].room_id, "lobby");
  EXPECT_EQ(inbox[1].envelope, R"({"enc":"none"})");
  EXPECT_DOUBLE_EQ(inbox[1].ts, 1.5);
  EXPECT_TRUE(s->peek(kOld).empty());
  EXPECT_TRUE(s->peek(kGone).empty());
  EXPECT_EQ(s->queued_messages(), 3u);
  EXPECT_EQ(s->inbox_keys().size(), 1u);

  auto lobby = s->get_room("lobby");
  ASSERT_TRUE(lobby.has_value());
  EXPECT_EQ(lobby->visibility, "invite");
  EXPECT_EQ(lobby->invited, (std::vector<std::string>{"pk-2", "pk-1"}));
  EXPECT_EQ(lobby->members, (std::vector<std::string>{"alice", "bob", "carol"}));
  auto implicit = s->get_room("implicit");
  ASSERT_TRUE(implicit.has_value());
  EXPECT_EQ(implicit->visibility, "public");
  EXPECT_EQ(implicit->members, (std::vector<std::string>{"dave"}));
  auto history = s->history("lobby", 10);
  EXPECT_EQ(ids_of(history), (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ(history[0].envelope, "env-h1");
  EXPECT_EQ(history[0].room_id, "lobby");

  EXPECT_FALSE(s->seen_message_id("alice", "d1")) << "evicted before the restart";
  EXPECT_TRUE(s->seen_message_id("alice", "d2"));
  EXPECT_TRUE(s->seen_message_id("alice", "d4"));
  // The window's order survived: the next id evicts d2, the oldest.
  ASSERT_TRUE(test::writes(*s).remember_message_id("alice", "d5", 3));
  EXPECT_FALSE(s->seen_message_id("alice", "d2"));
  EXPECT_TRUE(s->seen_message_id("alice", "d3"));

  EXPECT_FALSE(test::writes(*s).remember_nonce("request", "kept", 1150, 100).value())
      << "replay after restart";
  EXPECT_FALSE(test::writes(*s).remember_nonce("request", "new", 1150, 100).value());
  EXPECT_FALSE(test::writes(*s).remember_nonce("register", "reg", 1000, 100).value());
  EXPECT_TRUE(test::writes(*s).remember_nonce("request", "old", 1150, 100).value()) << "was pruned";

  auto dls = s->dead_letters();
  ASSERT_EQ(dls.size(), 3u);
  EXPECT_EQ(dls[0].message.message_id, "dl0");
  EXPECT_EQ(dls[0].reason, "unknown_alias");
  EXPECT_EQ(dls[2].message.message_id, "dl2");
  EXPECT_DOUBLE_EQ(dls[2].ts, 72);
}

TEST(SqliteStoreReopen, WritesWithoutCommitAreFlushedOnClose) {
  test::TempDir dir("c2c-store-flush");
  const std::string path = (dir / "relay.db").string();
  {
    auto s = open_sqlite(path);
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(test::writes(*s).append({{kNew, message("x")}, {kNew, message("y")}}));
  }
  auto s = open_sqlite(path);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(ids_of(s->peek(kNew)), (std::vector<std::string>{"x", "y"}));
}

// Request nonces are persisted best-effort (docs/reliability.md, "Disk full"): they ride along
// with the next write's transaction instead of costing one each, so an idle receive stream's
// signed re-polls write no transaction of their own (docs/performance.md, "Receive stream").
// A nonce no write follows still reaches the database (at the latest when the store closes).
TEST(SqliteStoreLazyNonces, NoncesRideAlongWithTheNextWrite) {
  test::TempDir dir("c2c-store-lazy");
  const std::string path = (dir / "relay.db").string();
  {
    auto opened = SqliteStore::open(path);
    ASSERT_TRUE(opened) << opened.error().message;
    auto& s = *opened.value();
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(
          test::writes(s).remember_nonce("request", "n" + std::to_string(i), 1000.0 + i, 1e6));
    }
    // The writer waits up to a second for a write to carry them: none was written yet.
    EXPECT_EQ(s.stats().transactions, 0u);
    ASSERT_TRUE(test::writes(s).append({{kNew, message("x")}}));
    ASSERT_TRUE(s.wait_durable());
    const auto st = s.stats();
    EXPECT_EQ(st.transactions, 1u);
    EXPECT_EQ(st.records, 51u);
    ASSERT_TRUE(test::writes(s).remember_nonce("request", "last", 2000.0, 1e6));
  }
  auto reopened = open_sqlite(path);
  ASSERT_NE(reopened, nullptr);
  EXPECT_FALSE(*test::writes(*reopened).remember_nonce("request", "n7", 1007.0, 1e6))
      << "a replay after restart";
  EXPECT_FALSE(*test::writes(*reopened).remember_nonce("request", "last", 2000.0, 1e6));
  EXPECT_TRUE(*test::writes(*reopened).remember_nonce("request", "fresh", 2000.0, 1e6));
}

// Random operations applied to a MemoryStore (the model) and a SqliteStore; after reopening,
// the SQLite store must look exactly like the model.
TEST(SqliteStoreReopen, RandomOperationsMatchTheMemoryModel) {
  test::TempDir dir("c2c-store-model");
  const std::string path = (dir / "relay.db").string();
  const std::vector<std::string> aliases{"a", "b", "c", "d"};
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) ids.push_back("id" + std::to_string(i));
  const std::vector<InboxKey> keys{{"n1", "s1"}, {"n1", "s2"}, {"n2", "s1"}};

  MemoryStore model;
  {
    auto db = open_sqlite(path);
    ASSERT_NE(db, nullptr);
    std::mt19937 rng(20240611);
    auto pick = [&](const auto& v) { return v[rng() % v.size()]; };
    for (int step = 0; step < 3000; ++step) {
      const std::string alias = pick(aliases);
      const std::string id = pick(ids);
      const InboxKey key = pick(keys);
      const double ts = 1000 + static_cast<double>(rng() % 500);
      for (Store* s : {static_cast<Store*>(&model), static_cast<Store*>(db.get())}) {
        switch (step % 15) {
          case 0: {
            Lease l;
            l.alias = alias;
            l.node_id = key.node_id;
            l.session_id = key.session_id;
            l.last_seen = ts;
            ASSERT_TRUE(test::writes(*s).put_lease(l));
            break;
          }
          case 1:
            ASSERT_TRUE(test::writes(*s).remove_lease(alias));
            break;
          case 2:
            ASSERT_TRUE(test::writes(*s).put_binding(alias, "pk-" + id));
            break;
          case 3:
            ASSERT_TRUE(test::writes(*s).remove_binding(alias));
            break;
          case 4:
          case 5:
            ASSERT_TRUE(
                test::writes(*s).append({{key, message(id, alias, ts)}, {keys[0], message(id)}}));
            break;
          case 6:
            ASSERT_TRUE(test::writes(*s).drain_ids(key, {id, "id1", "id2"}));
            break;
          case 7:
            ASSERT_TRUE(test::writes(*s).move_inbox(key, keys[(step / 15) % keys.size()]));
            break;
          case 8:
            ASSERT_TRUE((step / 15) % 4 == 0 ? test::writes(*s).remove_inbox(key).has_value()
                                             : test::writes(*s).drain(key).has_value());
            break;
          case 9: {
            Room r;
            r.room_id = "room-" + alias;
            r.visibility = step % 2 ? "invite" : "public";
            r.invited = {id, alias};
            ASSERT_TRUE(test::writes(*s).put_room(r));
            break;
          }
          case 10:
            ASSERT_TRUE(test::writes(*s).add_member("room-" + alias, id));
            break;
          case 11:
            ASSERT_TRUE(test::writes(*s).remove_member("room-" + alias, id));
            break;
          case 12:
            ASSERT_TRUE(test::writes(*s).append_history("room-" + alias, message(id, alias, ts)));
            break;
          case 13:
            ASSERT_TRUE(test::writes(*s).remember_message_id("alice", id, 10));
            break;
          case 14: {
            DeadLetter dl{message(id), "reason-" + alias, ts};
            ASSERT_TRUE(test::writes(*s).add_dead_letter(dl));
            break;
          }
        }
      }
      if (step % 97 == 0) {
        ASSERT_TRUE(db->wait_durable());
      }
    }
    ASSERT_TRUE(db->wait_durable());
    ASSERT_EQ(dump(*db, aliases, ids), dump(model, aliases, ids)) << "live state diverged";
  }
  auto reopened = open_sqlite(path);
  ASSERT_NE(reopened, nullptr);
  const std::string expected = dump(model, aliases, ids);
  EXPECT_GT(expected.size(), 500u) << "the model should hold a non-trivial state";
  EXPECT_EQ(dump(*reopened, aliases, ids), expected);
}

TEST(SqliteStoreFailure, FailedCommitIsAnErrorAndCommittedDataSurvives) {
  test::TempDir dir("c2c-store-full");
  const std::string path = (dir / "relay.db").string();
  {
    SqliteOptions small;
    small.max_page_count = 40;  // ~160 KiB: the schema fits, a megabyte of messages does not
    auto opened = SqliteStore::open(path, small);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    auto& s = *opened.value();
    ASSERT_TRUE(test::writes(s).append({{kNew, message("kept")}}));
    ASSERT_TRUE(s.wait_durable());
    for (int i = 0; i < 250; ++i) {
      ASSERT_TRUE(test::writes(s).append(
          {{kNew, message("big" + std::to_string(i), std::string(4096, 'z'))}}));
    }
    auto failed = s.wait_durable();
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().code, ErrorCode::kIo);
    EXPECT_NE(failed.error().message.find("relay database " + path), std::string::npos)
        << failed.error().message;
    EXPECT_NE(failed.error().message.find("full"), std::string::npos) << failed.error().message;
    EXPECT_EQ(s.queued_messages(), 251u) << "reads still see every write";
    EXPECT_FALSE(s.wait_durable().has_value()) << "the retry fails the same way";
  }
  // The writer commits eagerly, so some "big" messages may have fitted before the cap: what
  // survives is "kept" plus a gap-free prefix of them, never the whole batch.
  auto s = open_sqlite(path);
  ASSERT_NE(s, nullptr);
  auto survived = ids_of(s->peek(kNew));
  ASSERT_FALSE(survived.empty());
  EXPECT_EQ(survived[0], "kept");
  EXPECT_LT(survived.size(), 251u);
  for (size_t i = 1; i < survived.size(); ++i)
    EXPECT_EQ(survived[i], "big" + std::to_string(i - 1));
  ASSERT_TRUE(test::writes(*s).append({{kNew, message("after")}}));
  ASSERT_TRUE(s->wait_durable());
  EXPECT_EQ(ids_of(s->peek(kNew)).back(), "after");
}

// --- paths that cannot hold a relay database ---

std::string open_error(const std::string& url) {
  auto r = open_store(url);
  if (r.has_value()) return "<opened>";
  return r.error().message;
}

TEST(SqliteStoreOpen, DirectoryIsAClearError) {
  test::TempDir dir("c2c-store-bad");
  const std::string err = open_error("sqlite:" + dir.str());
  EXPECT_NE(err.find("cannot open relay database " + dir.str()), std::string::npos) << err;
}

TEST(SqliteStoreOpen, MissingParentDirectoryIsAClearError) {
  test::TempDir dir("c2c-store-bad");
  const std::string path = (dir / "no/such/dir/relay.db").string();
  const std::string err = open_error("sqlite:" + path);
  EXPECT_NE(err.find("cannot open relay database " + path), std::string::npos) << err;
  // Which directory is missing, not SQLite's "unable to open database file" (issue 8.17).
  EXPECT_NE(err.find("directory " + (dir / "no/such/dir").string() + " does not exist"),
            std::string::npos)
      << err;
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// The database and its WAL hold every queued message: 0600 whatever the umask (issue 8.8).
TEST(SqliteStoreOpen, DatabaseAndWalAreCreatedPrivate) {
  test::TempDir dir("c2c-store-mode");
  const std::string path = (dir / "relay.db").string();
  const mode_t old_umask = ::umask(022);
  auto s = open_sqlite(path);
  ::umask(old_umask);
  ASSERT_TRUE(s);
  ASSERT_TRUE(test::writes(*s).put_binding("alice", "pk"));
  ASSERT_TRUE(s->wait_durable());
  EXPECT_EQ(mode_of(path), 0600u);
  ASSERT_TRUE(std::filesystem::exists(path + "-wal"));
  EXPECT_EQ(mode_of(path + "-wal"), 0600u);
  if (std::filesystem::exists(path + "-shm")) {
    EXPECT_EQ(mode_of(path + "-shm"), 0600u);
  }
}

TEST(SqliteStoreOpen, ExistingDatabaseModeIsLeftAlone) {
  test::TempDir dir("c2c-store-mode");
  const std::string path = (dir / "relay.db").string();
  { ASSERT_TRUE(open_sqlite(path)); }
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  auto s = open_sqlite(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(mode_of(path), 0640u) << "an operator's choice on an existing file is kept";
}

TEST(SqliteStoreOpen, EmptyPathIsAClearError) {
  EXPECT_NE(open_error("sqlite:").find("needs a file path"), std::string::npos);
}

TEST(SqliteStoreOpen, CorruptFileIsRefusedAndLeftUntouched) {
  test::TempDir dir("c2c-store-bad");
  const auto path = dir / "relay.db";
  std::string garbage = "this is not a database\n";
  while (garbage.size() < 8192) garbage += garbage;
  test::write_file(path, garbage);
  const std::string err = open_error("sqlite:" + path.string());
  EXPECT_NE(err.find("cannot open relay database " + path.string()), std::string::npos) << err;
  EXPECT_NE(err.find("not a database"), std::string::npos) << err;
  EXPECT_EQ(test::read_file(path), garbage);
}

TEST(SqliteStoreOpen, ForeignDatabaseIsRefused) {
  test::TempDir dir("c2c-store-bad");
  const auto path = dir / "other.db";
  {
    auto db = sql::Db::open(path.string());
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(
        db->exec("CREATE TABLE leases (alias TEXT PRIMARY KEY, node_id TEXT);"
                 "INSERT INTO leases VALUES ('x', 'y');"));
  }
  const std::string err = open_error("sqlite:" + path.string());
  EXPECT_NE(err.find("not created by this c2c relay"), std::string::npos) << err;
  auto db = sql::Db::open(path.string());
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(db->query_text("SELECT node_id FROM leases WHERE alias = 'x'").value_or(""), "y");
}

TEST(SqliteStoreOpen, SecondOpenWhileHeldIsRefused) {
  test::TempDir dir("c2c-store-lock");
  const std::string path = (dir / "relay.db").string();
  auto first = open_sqlite(path);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(test::writes(*first).append({{kNew, message("kept")}}));
  ASSERT_TRUE(first->wait_durable());
  const std::string err = open_error("sqlite:" + path);
  EXPECT_NE(err.find("locked"), std::string::npos) << err;
  EXPECT_NE(err.find("another relay"), std::string::npos) << err;
  first.reset();
  auto again = open_sqlite(path);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(ids_of(again->peek(kNew)), (std::vector<std::string>{"kept"}));
}

}  // namespace
}  // namespace c2c::relay
