#pragma once
// Helpers for integration tests against a real `c2c relay serve` process: an HTTP client that
// returns status + parsed JSON, and the signing a relay client does (request header, register
// and room proofs), built on c2c's crypto so every byte is what a real client sends.

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"
#include "c2c/crypto/crypto.hpp"
#include "c2c/crypto/request_auth.hpp"
#include "c2c/net/http_client.hpp"
#include "support/process.hpp"
#include "support/relay_proofs.hpp"
#include "support/temp_dir.hpp"

namespace c2c::relay::itest {

using Json = nlohmann::json;

inline double now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

inline crypto::KeyPair key(uint8_t fill) {
  crypto::Seed seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(fill * 7 + i);
  return crypto::KeyPair::from_seed(seed);
}

using test::pk_of;

struct Reply {
  int status = 0;
  Json body;
  std::string raw;
  std::vector<net::Header> headers;
  std::string code() const {
    return body.is_object() ? body.value("error_code", std::string()) : std::string();
  }
  bool ok() const { return body.is_object() && body.value("ok", false); }
  std::string header(const std::string& name) const {
    for (const auto& h : headers) {
      if (iequals(h.name, name)) return h.value;
    }
    return {};
  }
};

class Http {
 public:
  explicit Http(std::string url) : url_(std::move(url)) {
    auto c = net::HttpClient::create(url_);
    if (!c) throw std::runtime_error(c.error().message);
    client_ = std::make_unique<net::HttpClient>(std::move(c).value());
  }

  Reply call(const std::string& method, const std::string& target, const std::string& body = "",
             std::vector<net::Header> headers = {}) {
    net::ClientRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    req.headers = std::move(headers);
    auto r = client_->request(req);
    Reply out;
    if (!r) {
      ADD_FAILURE() << method << " " << target << ": " << r.error().message;
      return out;
    }
    out.status = r->status;
    out.raw = r->body;
    out.headers = r->headers;
    out.body = Json::parse(r->body, nullptr, false);
    return out;
  }
  Reply get(const std::string& target, std::vector<net::Header> headers = {}) {
    return call("GET", target, "", std::move(headers));
  }
  Reply post(const std::string& path, const Json& body, std::vector<net::Header> headers = {}) {
    return call("POST", path, body.dump(), std::move(headers));
  }
  // Signed as `alias` with `k` at `at` (default: now).
  Reply signed_call(const crypto::KeyPair& k, const std::string& alias, const std::string& method,
                    const std::string& target, const std::string& body, double at = 0) {
    const std::string path = target.substr(0, target.find('?'));
    const std::string header =
        crypto::sign_request(k, alias, method, path, "", body, at == 0 ? now() : at);
    return call(method, target, body, {{"Authorization", header}});
  }
  Reply signed_post(const crypto::KeyPair& k, const std::string& alias, const std::string& path,
                    const Json& body) {
    return signed_call(k, alias, "POST", path, body.dump());
  }

  // A registration body; signed for this relay's URL when `k` is given.
  Json register_body(const std::string& alias, const std::string& node, const std::string& session,
                     const crypto::KeyPair* k = nullptr) const {
    Json b = {{"node_id", node}, {"session_id", session}, {"alias", alias}};
    if (k) test::add_register_proof(b, *k, alias, url_, now());
    return b;
  }
  Reply register_alias(const std::string& alias, const std::string& node,
                       const std::string& session, const crypto::KeyPair* k = nullptr) {
    return post("/register", register_body(alias, node, session, k));
  }

  static Json room_proof(std::string_view ctx, const crypto::KeyPair& k, const std::string& room,
                         const std::string& alias) {
    return test::room_proof(ctx, k, room, alias, now());
  }

  const std::string& url() const { return url_; }

 private:
  std::string url_;
  std::unique_ptr<net::HttpClient> client_;
};

inline Json session(const std::string& node, const std::string& sid) {
  return {{"node_id", node}, {"session_id", sid}};
}

// Environment for a relay child: no token or persist dir inherited from the developer's shell.
inline test::ProcessOptions relay_env() {
  test::ProcessOptions o;
  o.unset_env = {"C2C_RELAY_TOKEN", "C2C_RELAY_PERSIST_DIR", "C2C_REQUIRE_SIGNED_ROOM_OPS"};
  return o;
}

// Stops a relay with SIGTERM and returns its exit code.
inline int stop_relay(test::RelayProcess& relay) {
  relay.child->signal(SIGTERM);
  return relay.child->wait(std::chrono::seconds(20));
}

}  // namespace c2c::relay::itest
