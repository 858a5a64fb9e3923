#pragma once
// Helpers shared by the SQLite store unit tests: fixtures and a full, comparable dump of a Store.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "c2c/relay/store/sqlite_store.hpp"
#include "c2c/relay/store/store.hpp"
#include "support/stored_message.hpp"

namespace c2c::relay::testing {

inline StoredMessage message(std::string id, std::string content = "hello", double ts = 1.5) {
  return test::stored_message(std::move(id), std::move(content), ts);
}

inline std::unique_ptr<SqliteStore> open_sqlite(const std::string& path) {
  auto r = SqliteStore::open(path);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  return r.has_value() ? std::move(r.value()) : nullptr;
}

inline std::string describe(const StoredMessage& m) {
  std::ostringstream o;
  o << m.message_id << '|' << m.from_alias << '|' << m.to_alias << '|' << m.content << '|' << m.ts
    << '|' << m.room_id << '|' << m.envelope;
  return o.str();
}

// Everything observable through the Store interface, in a canonical order. The dedup window and
// bindings are probed for the given ids / aliases (the interface cannot list them).
inline std::string dump(Store& s, const std::vector<std::string>& aliases,
                        const std::vector<std::string>& ids) {
  std::ostringstream o;
  auto leases = s.list_leases();
  std::sort(leases.begin(), leases.end(),
            [](const Lease& a, const Lease& b) { return a.alias < b.alias; });
  for (const auto& l : leases) {
    o << "lease " << l.alias << ' ' << l.node_id << ' ' << l.session_id << ' ' << l.client_type
      << ' ' << l.registered_at << ' ' << l.last_seen << ' ' << l.ttl << ' ' << l.identity_pk << ' '
      << l.enc_pubkey << ' ' << l.signed_at << ' ' << l.sig_b64 << '\n';
  }
  for (const auto& a : aliases) {
    if (auto b = s.get_binding(a)) o << "binding " << a << ' ' << *b << '\n';
  }
  for (const auto& l : leases) {
    o << "session of " << l.alias << " answered by "
      << s.find_lease({l.node_id, l.session_id})->alias << '\n';
  }
  auto keys = s.inbox_keys();
  std::sort(keys.begin(), keys.end(), [](const InboxKey& a, const InboxKey& b) {
    return std::tie(a.node_id, a.session_id) < std::tie(b.node_id, b.session_id);
  });
  for (const auto& k : keys) {
    o << "inbox " << k.node_id << '/' << k.session_id << '\n';
    for (const auto& m : s.peek(k)) o << "  " << describe(m) << '\n';
  }
  o << "queued " << s.queued_messages() << '\n';
  auto rooms = s.list_rooms();
  std::sort(rooms.begin(), rooms.end(),
            [](const Room& a, const Room& b) { return a.room_id < b.room_id; });
  std::set<std::string> room_ids;
  for (const auto& r : rooms) {
    room_ids.insert(r.room_id);
    o << "room " << r.room_id << ' ' << r.visibility << " members";
    for (const auto& m : r.members) o << ' ' << m;
    o << " invited";
    for (const auto& i : r.invited) o << ' ' << i;
    o << '\n';
  }
  for (const auto& a : aliases) room_ids.insert("room-" + a);  // history may exist without a room
  for (const auto& r : room_ids) {
    for (const auto& m : s.history(r, 1'000'000))
      o << "history " << r << ' ' << describe(m) << '\n';
  }
  for (const auto& a : aliases) {
    for (const auto& id : ids) {
      if (s.seen_message_id(a, id)) o << "seen " << a << ' ' << id << '\n';
    }
  }
  for (const auto& dl : s.dead_letters()) {
    o << "dead " << describe(dl.message) << ' ' << dl.reason << ' ' << dl.ts << '\n';
  }
  return o.str();
}

}  // namespace c2c::relay::testing
