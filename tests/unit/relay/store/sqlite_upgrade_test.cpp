// A relay database of schema version 1 keeps working after the upgrades to version 2 (dedup per
// sender, aliases unique case-insensitively), 3 (rows named by seq, no index keyed by message id)
// and 4 (named settings): its data loads, the squatted case duplicates it may hold are resolved,
// and the new rules hold from then on (docs/security.md).
#include <gtest/gtest.h>

#include <string>

#include "c2c/relay/store/sqlite_db.hpp"
#include "c2c/relay/store/sqlite_schema.hpp"
#include "c2c/relay/store/sqlite_store.hpp"
#include "support/store_writes.hpp"
#include "support/temp_dir.hpp"

namespace c2c::relay {
namespace {

// A version-1 database in which "XA1" squatted "xa1": a second binding, a second lease (put
// later) and a second room membership; plus a dedup id of the old, sender-less window.
void write_version_1(const std::string& path) {
  auto db = sql::Db::open(path);
  ASSERT_TRUE(db.has_value()) << db.error().message;
  const std::string lease_cols =
      "INSERT INTO leases (alias, node_id, session_id, client_type, registered_at, last_seen, "
      "ttl, identity_pk, enc_pubkey, signed_at, sig_b64) VALUES ";
  const std::string inbox_cols =
      "INSERT INTO inboxes (node_id, session_id, message_id, from_alias, to_alias, content, ts, "
      "room_id, envelope) VALUES ";
  auto r =
      db->exec(std::string(sql::schema_version_1()) + "INSERT INTO schema_version VALUES (1);" +
               "INSERT INTO bindings (alias, identity_pk) VALUES ('xa1', 'pk-victim');"
               "INSERT INTO bindings (alias, identity_pk) VALUES ('XA1', 'pk-squatter');" +
               lease_cols + "('xa1', 'node-a', 'sa', 'cli', 1, 1, 300, 'pk-victim', '', 0, '');" +
               lease_cols + "('XA1', 'node-x', 'sx', 'cli', 2, 2, 300, 'pk-squatter', '', 0, '');" +
               lease_cols + "('bob', 'node-b', 'sb', 'cli', 3, 3, 300, '', '', 0, '');" +
               "INSERT INTO rooms (room_id, visibility) VALUES ('lounge', 'public');"
               "INSERT INTO room_members (room_id, alias) VALUES ('lounge', 'xa1');"
               "INSERT INTO room_members (room_id, alias) VALUES ('lounge', 'bob');"
               "INSERT INTO room_members (room_id, alias) VALUES ('lounge', 'XA1');"
               "INSERT INTO seen_ids (message_id) VALUES ('m-old');"
               "INSERT INTO seen_ids (message_id) VALUES ('m-old2');" +
               inbox_cols + "('node-b', 'sb', 'q1', 'xa1', 'bob', 'one', 1, '', '');" + inbox_cols +
               "('node-b', 'sb', 'q2', 'xa1', 'bob', 'two', 2, '', '');" + inbox_cols +
               "('node-b', 'sb', 'q3', 'xa1', 'bob', 'three', 3, '', '');");
  ASSERT_TRUE(r.has_value()) << r.error().message;
}

TEST(StoreUpgrade, Version1DatabaseLoadsAndFollowsTheNewRules) {
  test::TempDir dir("c2c-store-upgrade");
  const std::string path = (dir / "relay.db").string();
  write_version_1(path);
  {
    auto opened = SqliteStore::open(path);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    auto& s = **opened;
    // The first binding made keeps the alias; the squatter's lease and membership are gone.
    EXPECT_EQ(s.get_binding("XA1"), "pk-victim");
    auto lease = s.get_lease("XA1");
    ASSERT_TRUE(lease.has_value());
    EXPECT_EQ(lease->alias, "xa1");
    EXPECT_EQ(lease->node_id, "node-a");
    EXPECT_EQ(s.list_leases().size(), 2u);
    auto room = s.get_room("lounge");
    ASSERT_TRUE(room.has_value());
    EXPECT_EQ(room->members, (std::vector<std::string>{"xa1", "bob"}));
    // The old id still deduplicates (for any sender) until it ages out.
    EXPECT_TRUE(s.seen_message_id("bob", "m-old"));
    // Queued messages kept their order; removing the middle one by id reaches the file by seq.
    const InboxKey bob{"node-b", "sb"};
    auto queued = s.peek(bob);
    ASSERT_EQ(queued.size(), 3u);
    EXPECT_EQ(queued[1].message_id, "q2");
    auto taken = test::writes(s).drain_ids(bob, {"q2"});
    ASSERT_TRUE(taken.has_value());
    ASSERT_EQ(taken->size(), 1u);
    // New writes follow the new rules and persist. A window of 2 evicts the oldest id, m-old.
    ASSERT_TRUE(test::writes(s).remember_message_id("alice", "m-new", 2));
    EXPECT_FALSE(s.seen_message_id("bob", "m-old"));
    // Settings (version 4) start empty and persist.
    EXPECT_FALSE(s.get_setting("relay_identity").value().has_value());
    EXPECT_EQ(test::writes(s).adopt_setting("relay_identity", "id-1").value(), "id-1");
    ASSERT_TRUE(test::writes(s).put_binding("Carol", "pk-carol"));
    Lease carol;
    carol.alias = "Carol";
    carol.node_id = "node-c";
    carol.session_id = "sc";
    ASSERT_TRUE(test::writes(s).put_lease(carol));
    carol.alias = "CAROL";
    carol.session_id = "sc2";
    ASSERT_TRUE(test::writes(s).put_lease(carol));
    ASSERT_TRUE(s.wait_durable());
  }
  {
    auto db = sql::Db::open(path);
    ASSERT_TRUE(db.has_value());
    EXPECT_EQ(db->query_text("SELECT max(version) FROM schema_version").value(), "4");
    EXPECT_EQ(db->query_text("SELECT value FROM settings WHERE name = 'relay_identity'").value(),
              "id-1");
    EXPECT_EQ(
        db->query_text("SELECT count(*) FROM sqlite_master WHERE name = 'inboxes_key'").value(),
        "0")
        << "no index keyed by message id is left";
    EXPECT_EQ(db->query_text("SELECT group_concat(message_id) FROM (SELECT message_id FROM "
                             "seen_ids ORDER BY seq)")
                  .value(),
              "m-old2,m-new")
        << "the file's window is the memory one, in order";
  }
  auto reopened = SqliteStore::open(path);
  ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
  auto& s = **reopened;
  EXPECT_TRUE(s.seen_message_id("ALICE", "m-new"));
  EXPECT_TRUE(s.seen_message_id("anyone", "m-old2"));
  EXPECT_FALSE(s.seen_message_id("anyone", "m-old"));
  auto left = s.peek(InboxKey{"node-b", "sb"});
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].message_id, "q1");
  EXPECT_EQ(left[1].message_id, "q3");
  EXPECT_FALSE(s.seen_message_id("bob", "m-new")) << "ids are per sender";
  EXPECT_EQ(s.get_binding("carol"), "pk-carol");
  auto carol = s.get_lease("carol");
  ASSERT_TRUE(carol.has_value());
  EXPECT_EQ(carol->alias, "CAROL") << "a replaced lease takes the new spelling";
  EXPECT_EQ(carol->session_id, "sc2");
  EXPECT_EQ(s.list_leases().size(), 3u) << "one row per alias in the database too";
  EXPECT_EQ(s.get_setting("relay_identity").value(), "id-1");
  EXPECT_EQ(test::writes(s).adopt_setting("relay_identity", "id-2").value(), "id-1");
}

// A database a c2c of schema version 3 left (the version before settings) reaches version 4 with
// its data, and gets its settings table.
TEST(StoreUpgrade, Version3DatabaseGainsSettings) {
  test::TempDir dir("c2c-store-upgrade");
  const std::string path = (dir / "relay.db").string();
  write_version_1(path);
  {
    // What that c2c made of it: the steps to version 3, without step 4's table and row.
    auto opened = SqliteStore::open(path);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
  }
  {
    auto db = sql::Db::open(path);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->exec("DROP TABLE settings; DELETE FROM schema_version WHERE version = 4;"));
    EXPECT_EQ(db->query_text("SELECT max(version) FROM schema_version").value(), "3");
  }
  {
    auto opened = SqliteStore::open(path);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    auto& s = **opened;
    EXPECT_EQ(s.peek(InboxKey{"node-b", "sb"}).size(), 3u) << "the data is kept";
    EXPECT_FALSE(s.get_setting("relay_identity").value().has_value());
    EXPECT_EQ(test::writes(s).adopt_setting("relay_identity", "id").value(), "id");
    ASSERT_TRUE(s.wait_durable());
  }
  auto db = sql::Db::open(path);
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(db->query_text("SELECT max(version) FROM schema_version").value(), "4");
  EXPECT_EQ(db->query_text("SELECT value FROM settings WHERE name = 'relay_identity'").value(),
            "id");
}

TEST(StoreUpgrade, ANewerSchemaIsRefusedAndAFailedUpgradeChangesNothing) {
  test::TempDir dir("c2c-store-upgrade");
  const std::string path = (dir / "relay.db").string();
  {
    auto db = sql::Db::open(path);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->exec(std::string(sql::schema_version_1()) +
                         "INSERT INTO schema_version VALUES (1);"
                         // An index name the upgrade creates: the upgrade must fail whole.
                         "CREATE INDEX leases_alias_nocase ON leases (node_id);"));
  }
  auto opened = SqliteStore::open(path);
  ASSERT_FALSE(opened.has_value());
  EXPECT_NE(opened.error().message.find("upgrading schema version 1 to 2 failed"),
            std::string::npos)
      << opened.error().message;
  auto db = sql::Db::open(path);
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(db->query_text("SELECT max(version) FROM schema_version").value(), "1");
  EXPECT_EQ(db->query_text("SELECT count(*) FROM pragma_table_info('seen_ids')"
                           " WHERE name = 'sender'")
                .value(),
            "0");
}

}  // namespace
}  // namespace c2c::relay
