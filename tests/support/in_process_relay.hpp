#pragma once
// InProcessRelay: the real relay (Router + RelayService over a memory store, relay_harness.hpp)
// plugged into a RelayClient as its Transport, so the connector is tested against the relay's own
// rules (leases, alias@node routing, dedup per sender, inbox pages, peek + acknowledge by id,
// receipts, key bindings) deterministically and without sockets. Around the router it adds only
// the failures the connector's tests inject: a relay that is down, one that refuses every
// credential, a request dropped before it is applied or its answer lost after, and a restart (a
// memory relay restarting: a fresh store).

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "c2c/relay/client/relay_client.hpp"
#include "c2c/relay/server/stream_hub.hpp"
#include "support/relay_harness.hpp"
#include "support/store_writes.hpp"

namespace c2c::test {

struct InProcessRelayOptions {
  // The base URL the RelayClient is given (signed register proofs name it).
  std::string public_url = relay::testing::kRelayUrl;
  // Offer POST /stream (waits of at most max_stream_wait seconds), as `relay serve` does.
  bool stream = false;
  double max_stream_wait = 5;
  relay::server::ServiceConfig config;
};

class InProcessRelay {
 public:
  explicit InProcessRelay(InProcessRelayOptions options = {}) : options_(std::move(options)) {
    start();
  }
  ~InProcessRelay() { stop_stream(); }
  InProcessRelay(const InProcessRelay&) = delete;
  InProcessRelay& operator=(const InProcessRelay&) = delete;

  relay::Transport transport() {
    return [this](const net::ClientRequest& req) -> Result<net::Response> {
      const std::string path = req.target.substr(0, req.target.find('?'));
      ++calls[path];
      if (down) return fail(ErrorCode::kUnavailable, "connection refused");
      if (before && !before(req)) return fail(ErrorCode::kUnavailable, "connection reset");
      auto resp = refuse_credentials && path != "/health"  ? refused()
                  : no_send_batch && path == "/send_batch" ? unknown_endpoint(path)
                  : no_receipt_batches && path == "/receipts" &&
                          req.body.find("\"message_ids\"") != std::string::npos
                      ? bad_request("receipts need message_id, recipient and to_alias")
                      : handle(path, req);
      if (after && !after(req)) return fail(ErrorCode::kUnavailable, "timeout reading response");
      return resp;
    };
  }

  // Failure injection.
  bool down = false;                // every request: kUnavailable
  bool refuse_credentials = false;  // every request but /health: 401 unauthorized
  bool no_send_batch = false;       // POST /send_batch: 404, as a relay from before the route
  // POST /receipts holding a batched receipt: 400, as a relay from before batched receipts.
  bool no_receipt_batches = false;
  // Called before a request is applied; returning false drops it as "unreachable".
  std::function<bool(const net::ClientRequest&)> before;
  // Called after a request was applied; returning false loses the answer (kUnavailable).
  std::function<bool(const net::ClientRequest&)> after;

  // A memory relay restarting: every lease, inbox, binding, room and dedup entry is gone.
  void restart() {
    stop_stream();
    start();
  }
  // Inbox pages of at most `max_messages` (the relay restarted with that setting, store kept).
  void set_page_size(size_t max_messages) {
    options_.config.inbox_page.max_messages = max_messages;
    stop_stream();
    harness_->reconfigure(options_.config);
    start_stream();
  }

  // What the transport saw: requests per path, the largest /peek_inbox page answered, and every
  // receipt posted to /receipts.
  std::map<std::string, int> calls;
  size_t largest_page = 0;
  std::vector<nlohmann::json> posted_receipts;

  // Another machine's doings, through the relay's own routes (dev mode: unsigned unless a key is
  // given); each is expected to succeed.
  void register_alias(const std::string& alias, const std::string& node, const std::string& session,
                      const crypto::KeyPair* key = nullptr) {
    expect_ok("/register", harness_->register_alias(alias, node, session, key));
  }
  // A direct message (as `from`, whose lease routes replies back).
  void send(const std::string& from, const std::string& to, const std::string& content,
            const std::string& message_id = "") {
    expect_ok("/send",
              harness_->post("/send", relay::testing::send_body(from, to, content, message_id)));
  }
  void join_room(const std::string& room, const std::string& alias) {
    expect_ok("/join_room", harness_->post("/join_room", relay::testing::room_op(alias, room)));
  }
  void send_room(const std::string& room, const std::string& from, const std::string& content,
                 const std::string& message_id) {
    expect_ok("/send_room", harness_->post("/send_room", {{"room_id", room},
                                                          {"from_alias", from},
                                                          {"content", content},
                                                          {"message_id", message_id}}));
  }
  // Posts one delivery receipt as the alias of its recipient (the recipient's machine).
  void post_receipt(const nlohmann::json& receipt) {
    const std::string recipient = receipt.at("recipient");
    const std::string alias = recipient.substr(0, recipient.find('@'));
    expect_ok("/receipts",
              harness_->post("/receipts", {{"alias", alias}, {"receipts", {receipt}}}));
  }
  // The operator removes the alias's key binding (POST /admin/unbind).
  void unbind(const std::string& alias) {
    expect_ok("/admin/unbind", harness_->post("/admin/unbind", {{"alias", alias}}));
  }
  // The lease is gone, as garbage collection leaves it once its holder stopped heartbeating.
  void drop_lease(const std::string& alias) {
    EXPECT_TRUE(test::writes(*harness_->store).remove_lease(alias)) << alias;
  }

  // The relay's state.
  std::optional<relay::Lease> lease(const std::string& alias) const {
    return harness_->store->get_lease(alias);
  }
  // The inbox of the session alias's lease names (empty without a lease).
  std::vector<relay::StoredMessage> inbox(const std::string& alias) const {
    const auto l = lease(alias);
    if (!l) return {};
    return harness_->store->peek(relay::InboxKey{l->node_id, l->session_id});
  }
  size_t inbox_size(const std::string& alias) const { return inbox(alias).size(); }
  // The receipts queued for `alias` (POST /receipts/fetch without acknowledging any).
  nlohmann::json queued_receipts(const std::string& alias) {
    auto r = harness_->post(
        "/receipts/fetch",
        {{"alias", alias}, {"ack", nlohmann::json::array()}, {"receipt_batches", true}});
    expect_ok("/receipts/fetch", r);
    return r.body.value("receipts", nlohmann::json::array());
  }

  relay::Store& store() { return *harness_->store; }
  relay::testing::Harness& harness() { return *harness_; }

 private:
  void start() {
    relay::testing::HarnessOptions h;
    h.config = options_.config;
    h.public_url = options_.public_url;
    harness_ = std::make_unique<relay::testing::Harness>(h);
    start_stream();
  }
  void start_stream() {
    if (!options_.stream) return;
    hub_ = std::make_unique<relay::server::StreamHub>();
    harness_->router->set_stream_hub(hub_.get(), options_.max_stream_wait);
  }
  void stop_stream() {
    if (hub_) hub_->shutdown();
    hub_.reset();
  }

  net::Response handle(const std::string& path, const net::ClientRequest& req) {
    auto r = harness_->call(req.method, req.target, req.body, req.headers);
    if (path == "/peek_inbox" && r.body.is_object() && r.body.contains("messages")) {
      largest_page = std::max(largest_page, r.body["messages"].size());
    }
    if (path == "/receipts" && req.method == "POST") {
      const auto body = nlohmann::json::parse(req.body, nullptr, false);
      if (body.is_object() && body.contains("receipts")) {
        for (const auto& item : body["receipts"]) posted_receipts.push_back(item);
      }
    }
    return r.raw;
  }
  static net::Response refused() {
    net::Response r;
    r.status = 401;
    r.content_type = "application/json";
    r.body =
        nlohmann::json{
            {"ok", false}, {"error_code", "unauthorized"}, {"error", "signature does not verify"}}
            .dump();
    return r;
  }
  static net::Response bad_request(const std::string& why) {
    net::Response r;
    r.status = 400;
    r.content_type = "application/json";
    r.body = nlohmann::json{{"ok", false}, {"error_code", "bad_request"}, {"error", why}}.dump();
    return r;
  }
  static net::Response unknown_endpoint(const std::string& path) {
    net::Response r;
    r.status = 404;
    r.content_type = "application/json";
    r.body =
        nlohmann::json{
            {"ok", false}, {"error_code", "not_found"}, {"error", "unknown endpoint: " + path}}
            .dump();
    return r;
  }
  static void expect_ok(const std::string& what, const relay::testing::Reply& r) {
    EXPECT_TRUE(r.ok()) << what << ": " << r.raw.status << " " << r.raw.body;
  }

  InProcessRelayOptions options_;
  std::unique_ptr<relay::testing::Harness> harness_;
  std::unique_ptr<relay::server::StreamHub> hub_;
};

}  // namespace c2c::test
