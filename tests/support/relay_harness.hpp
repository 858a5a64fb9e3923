#pragma once
// An in-process relay for router tests: a real Store, Authenticator, RelayService and Router
// on a FakeClock, driven with plain net::Request values (no sockets).

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "c2c/core/clock.hpp"
#include "c2c/core/ids.hpp"
#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"
#include "c2c/crypto/crypto.hpp"
#include "c2c/crypto/identity.hpp"
#include "c2c/crypto/request_auth.hpp"
#include "c2c/net/http_types.hpp"
#include "c2c/relay/server/auth.hpp"
#include "c2c/relay/server/rate_limiter.hpp"
#include "c2c/relay/server/relay_service.hpp"
#include "c2c/relay/server/router.hpp"
#include "c2c/relay/store/store.hpp"
#include "support/relay_proofs.hpp"

namespace c2c::relay::testing {

using Json = nlohmann::json;

// The worked-example clock (docs/protocol.md §3.6): 2026-04-21T00:06:40Z.
inline constexpr double kT0 = 1'776'730'000.0;
inline constexpr const char* kHost = "127.0.0.1:7331";
inline constexpr const char* kRelayUrl = "http://127.0.0.1:7331";

struct Reply {
  int status = 0;
  Json body;
  net::Response raw;
  std::string code() const { return body.value("error_code", std::string()); }
  bool ok() const { return body.is_object() && body.value("ok", false); }
};

inline crypto::KeyPair key(uint8_t fill) {
  crypto::Seed seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(fill + i);
  return crypto::KeyPair::from_seed(seed);
}

using test::pk_of;

struct HarnessOptions {
  std::string token;  // "" = dev mode
  server::RateLimitMode rate_limit = server::RateLimitMode::kOff;
  server::ServiceConfig config;
  std::string store_url = "memory:";
  // The public URL register proofs must name (the base URL clients are given).
  std::string public_url = kRelayUrl;
};

class Harness {
 public:
  explicit Harness(HarnessOptions options = {}) : clock(kT0), public_url(options.public_url) {
    auto s = open_store(options.store_url);
    if (!s) throw std::runtime_error(s.error().message);
    store = std::move(s).value();
    auth = std::make_unique<server::Authenticator>(*store, clock, options.token);
    limiter = std::make_unique<server::RateLimiter>(options.rate_limit);
    reconfigure(options.config);
  }

  // A new RelayService (and Router) with `config` over the same store, as after a relay restart
  // with other settings on a persistent store.
  void reconfigure(const server::ServiceConfig& config) {
    router.reset();
    service = std::make_unique<server::RelayService>(*store, *auth, clock, config,
                                                     crypto::new_identity("relay", kT0));
    router = std::make_unique<server::Router>(*service, *auth, *store, *limiter, clock);
    service->set_register_urls(server::register_proof_urls({public_url}).value());
  }

  Reply call(const std::string& method, const std::string& target, const std::string& body = "",
             std::vector<net::Header> headers = {}, const std::string& ip = "127.0.0.1") {
    net::Request req;
    req.method = method;
    req.target = target;
    const auto q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    req.headers = std::move(headers);
    req.headers.push_back({"Host", kHost});
    req.body = body;
    req.remote_ip = ip;
    Reply r;
    if (async) {
      // The server's path: Router::handle answers through Store::when_durable.
      std::promise<net::Response> answered;
      auto future = answered.get_future();
      router->handle(std::move(req),
                     [&answered](net::Response resp) { answered.set_value(std::move(resp)); });
      r.raw = future.get();
    } else {
      r.raw = router->handle_sync(req);
    }
    r.status = r.raw.status;
    if (r.raw.content_type == "application/json") {
      r.body = Json::parse(r.raw.body, nullptr, false);
    }
    return r;
  }

  Reply post(const std::string& path, const Json& body, std::vector<net::Header> headers = {}) {
    return call("POST", path, body.dump(), std::move(headers));
  }

  // POST signed with an Ed25519 request header as `alias` at the current clock.
  Reply signed_post(const crypto::KeyPair& k, const std::string& alias, const std::string& path,
                    const Json& body) {
    const std::string text = body.dump();
    return call("POST", path, text, {{"Authorization", sign(k, alias, "POST", path, text)}});
  }
  Reply signed_get(const crypto::KeyPair& k, const std::string& alias, const std::string& target) {
    const auto q = target.find('?');
    const std::string path = target.substr(0, q);
    return call("GET", target, "", {{"Authorization", sign(k, alias, "GET", path, "")}});
  }
  std::string sign(const crypto::KeyPair& k, const std::string& alias, const std::string& method,
                   const std::string& path, const std::string& body) {
    return crypto::sign_request(k, alias, method, path, "", body, clock.now());
  }

  // Register body, optionally with a proof signed by `k` for public_url.
  Json register_body(const std::string& alias, const std::string& node, const std::string& session,
                     const crypto::KeyPair* k = nullptr) {
    Json b = {{"node_id", node}, {"session_id", session}, {"alias", alias}};
    if (k) test::add_register_proof(b, *k, alias, public_url, clock.now());
    return b;
  }

  Reply register_alias(const std::string& alias, const std::string& node,
                       const std::string& session, const crypto::KeyPair* k = nullptr) {
    return post("/register", register_body(alias, node, session, k));
  }

  // Room-op proof fields for ctx over (room, alias).
  Json room_proof(std::string_view ctx, const crypto::KeyPair& k, const std::string& room,
                  const std::string& alias) {
    return test::room_proof(ctx, k, room, alias, clock.now());
  }

  // true: requests go through Router::handle (the server's path) instead of handle_sync.
  bool async = false;
  FakeClock clock;
  std::string public_url;
  std::unique_ptr<Store> store;
  std::unique_ptr<server::Authenticator> auth;
  std::unique_ptr<server::RelayService> service;
  std::unique_ptr<server::RateLimiter> limiter;
  std::unique_ptr<server::Router> router;
};

inline Json session(const std::string& node, const std::string& sid) {
  return {{"node_id", node}, {"session_id", sid}};
}

// A /send body (message_id only when given).
inline Json send_body(const std::string& from, const std::string& to, const std::string& content,
                      const std::string& id = "") {
  Json b = {{"from_alias", from}, {"to_alias", to}, {"content", content}};
  if (!id.empty()) b["message_id"] = id;
  return b;
}

// A room operation's body (proof fields added with `with`).
inline Json room_op(const std::string& alias, const std::string& room) {
  return {{"alias", alias}, {"room_id", room}};
}

// `base` with the fields of `extra` added (replacing those of the same name).
inline Json with(Json base, const Json& extra) {
  for (auto it = extra.begin(); it != extra.end(); ++it) base[it.key()] = it.value();
  return base;
}

// The contents of a messages array, in order.
inline std::vector<std::string> contents(const Json& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(m["content"]);
  return out;
}

}  // namespace c2c::relay::testing
