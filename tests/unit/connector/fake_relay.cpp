#include "fake_relay.hpp"

#include <algorithm>

namespace c2c::test {

using nlohmann::json;

namespace {
net::Response answer(int status, const json& body) {
  net::Response r;
  r.status = status;
  r.body = body.dump();
  return r;
}
net::Response error(int status, const std::string& code, const std::string& text) {
  return answer(status, {{"ok", false}, {"error_code", code}, {"error", text}});
}
}  // namespace

relay::Transport FakeRelay::transport() {
  return [this](const net::ClientRequest& req) -> Result<net::Response> {
    const std::string path = req.target.substr(0, req.target.find('?'));
    ++calls[path];
    if (down) return fail(ErrorCode::kUnavailable, "connection refused");
    if (before && !before(req)) return fail(ErrorCode::kUnavailable, "connection reset");
    auto resp = handle(req);
    if (after && !after(req)) return fail(ErrorCode::kUnavailable, "timeout reading response");
    return resp;
  };
}

void FakeRelay::restart() {
  leases.clear();
  inboxes.clear();
}

void FakeRelay::enqueue(const std::string& to_alias, const std::string& from,
                        const std::string& content, const std::string& message_id,
                        const std::string& room_id) {
  const auto& l = leases.at(to_alias);
  json m = {{"message_id", message_id}, {"from_alias", from}, {"content", content}, {"ts", 1.0}};
  if (room_id.empty()) {
    m["to_alias"] = to_alias;
  } else {
    m["to_alias"] = to_alias + "#" + room_id;
    m["room_id"] = room_id;
  }
  inboxes[key(l.node_id, l.session_id)].push_back(m);
}

size_t FakeRelay::inbox_size(const std::string& alias) const {
  const auto l = leases.find(alias);
  if (l == leases.end()) return 0;
  const auto it = inboxes.find(key(l->second.node_id, l->second.session_id));
  return it == inboxes.end() ? 0 : it->second.size();
}

net::Response FakeRelay::handle(const net::ClientRequest& req) {
  const std::string path = req.target.substr(0, req.target.find('?'));
  json b = req.body.empty() ? json::object() : json::parse(req.body);
  if (path == "/health") return answer(200, {{"ok", true}, {"auth_mode", "dev"}});
  if (refuse_credentials) return error(401, "unauthorized", "signature does not verify");
  if (path == "/register") {
    const std::string alias = b["alias"];
    auto it = leases.find(alias);
    if (it != leases.end() && it->second.node_id != b["node_id"].get<std::string>()) {
      return error(200, "alias_conflict", "alias conflict with existing lease");
    }
    leases[alias] = {b["node_id"], b["session_id"]};
    return answer(200, {{"ok", true}, {"result", "ok"}});
  }
  if (path == "/heartbeat") {
    for (const auto& [alias, l] : leases) {
      if (l.node_id == b["node_id"] && l.session_id == b["session_id"]) {
        return answer(200, {{"ok", true}, {"result", "ok"}});
      }
    }
    return error(200, "unknown_alias", "unknown node");
  }
  if (path == "/send") {
    std::string to = b["to_alias"];
    const auto at = to.find('@');
    if (at != std::string::npos) {
      const std::string host = to.substr(at + 1);
      to = to.substr(0, at);
      bool known = host.empty() || host == "relay";
      for (const auto& [alias, l] : leases) known = known || l.node_id == host;
      if (!known) {
        dead_letters.push_back(b);
        return error(404, "unknown_host", "unknown host " + host);
      }
    }
    const auto it = leases.find(to);
    if (it == leases.end()) {
      dead_letters.push_back(b);
      return error(200, "unknown_alias", "no registration for alias \"" + to + "\"");
    }
    const std::string id = b.value("message_id", "");
    if (!id.empty() && !seen_ids.insert(id).second) {
      return answer(200, {{"ok", true}, {"result", "duplicate"}});
    }
    inboxes[key(it->second.node_id, it->second.session_id)].push_back(
        {{"message_id", id},
         {"from_alias", b["from_alias"]},
         {"to_alias", to},
         {"content", b["content"]},
         {"ts", 2.0}});
    return answer(200, {{"ok", true}, {"result", "ok"}});
  }
  if (path == "/peek_inbox" || path == "/poll_inbox") {
    auto& inbox = inboxes[key(b["node_id"], b["session_id"])];
    json out = json::array();
    if (path == "/peek_inbox") {
      const size_t n = page == 0 ? inbox.size() : std::min(page, inbox.size());
      for (size_t i = 0; i < n; ++i) out.push_back(inbox[i]);
      largest_page = std::max(largest_page, n);
      if (n < inbox.size()) return answer(200, {{"ok", true}, {"messages", out}, {"more", true}});
    } else if (b.contains("message_ids")) {
      std::set<std::string> ids(b["message_ids"].begin(), b["message_ids"].end());
      std::vector<json> keep;
      for (const auto& m : inbox) {
        if (ids.count(m["message_id"].get<std::string>()) != 0) {
          out.push_back(m);
        } else {
          keep.push_back(m);
        }
      }
      inbox = std::move(keep);
    } else {
      for (const auto& m : inbox) out.push_back(m);
      inbox.clear();
    }
    return answer(200, {{"ok", true}, {"messages", out}});
  }
  if (path == "/receipts") {
    int accepted = 0;
    for (auto r : b["receipts"]) {
      posted_receipts.push_back(r);
      r["receipt_id"] = "r" + std::to_string(++next_receipt_id_);
      receipts[r["to_alias"].get<std::string>()].push_back(r);
      ++accepted;
    }
    return answer(200, {{"ok", true}, {"receipts", json::array()}, {"accepted", accepted}});
  }
  if (path == "/receipts/fetch") {
    auto& queue = receipts[b["alias"].get<std::string>()];
    const json ack = b.value("ack", json::array());
    const std::set<std::string> acked(ack.begin(), ack.end());
    std::vector<json> keep;
    for (const auto& r : queue) {
      if (acked.count(r["receipt_id"].get<std::string>()) == 0) keep.push_back(r);
    }
    queue = keep;
    return answer(200, {{"ok", true}, {"receipts", queue}, {"accepted", 0}});
  }
  if (path.rfind("/pubkey/", 0) == 0) {
    const std::string alias = path.substr(8);
    const auto it = pubkeys.find(alias);
    if (it == pubkeys.end()) return error(404, "not_found", "unknown alias: " + alias);
    return answer(200, {{"ok", true}, {"alias", alias}, {"ed25519_pubkey", it->second}});
  }
  return error(404, "not_found", "unknown endpoint: " + path);
}

}  // namespace c2c::test
