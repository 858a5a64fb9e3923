#pragma once
// A small in-process stand-in for the relay, plugged into RelayClient as its Transport, so the
// connector's round logic is tested deterministically: leases, DMs with alias@node routing,
// message-id dedup, peek + acknowledge-by-id, and injectable failures (down, forgetting every
// session as after a restart, losing the answer to a request after applying it).

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "c2c/relay/client/relay_client.hpp"

namespace c2c::test {

class FakeRelay {
 public:
  relay::Transport transport();

  // Failure injection.
  bool down = false;                // every request: kUnavailable
  bool refuse_credentials = false;  // every request but /health: 401 unauthorized
  // Called before a request is applied; returning false drops it as "unreachable".
  std::function<bool(const net::ClientRequest&)> before;
  // Called after a request was applied; returning false loses the answer (kUnavailable).
  std::function<bool(const net::ClientRequest&)> after;

  void restart();  // forget every lease and inbox (a memory relay restarting)

  struct Lease {
    std::string node_id;
    std::string session_id;
  };
  std::map<std::string, Lease> leases;                         // alias -> lease
  std::map<std::string, std::vector<nlohmann::json>> inboxes;  // node|session -> messages
  std::set<std::string> seen_ids;
  std::vector<nlohmann::json> dead_letters;
  std::map<std::string, int> calls;  // path -> count
  // Delivery receipts: queued per sender alias (each with a receipt_id), every one posted, and
  // the keys /pubkey/<alias> answers (404 when absent).
  std::map<std::string, std::vector<nlohmann::json>> receipts;
  std::vector<nlohmann::json> posted_receipts;
  std::map<std::string, std::string> pubkeys;
  // Inbox pages as the relay answers them: at most `page` messages per /peek_inbox (0: all), with
  // "more": true when some remain; the largest page served is kept.
  size_t page = 0;
  size_t largest_page = 0;

  // Queues a message for alias (as if another machine had sent it).
  void enqueue(const std::string& to_alias, const std::string& from, const std::string& content,
               const std::string& message_id, const std::string& room_id = "");
  size_t inbox_size(const std::string& alias) const;

 private:
  net::Response handle(const net::ClientRequest& req);
  int next_receipt_id_ = 0;
  static std::string key(const std::string& node, const std::string& session) {
    return node + "|" + session;
  }
};

}  // namespace c2c::test
