// Fuzzes the relay's request path: raw bytes -> HTTP/1.1 requests -> Router -> RelayService ->
// memory Store, in dev mode and in prod mode, with a fresh relay per input.
//
// Input: up to 8 HTTP requests separated by the line "#####". Each is parsed by the small
// parser below (request line, headers, body = the rest; Content-Length is ignored because the
// server hands the router a complete body). net has no socket-free parser to reuse; this one is
// deliberately lenient so that odd methods, targets and headers reach the router.
//
// Oracles (any violation traps, so libFuzzer keeps the input):
//  - the router never throws and never answers 500 (no storage faults here, so a 500 is a bug);
//  - every status is one the router documents, every JSON body is an object with a boolean "ok"
//    (except 429's body, which also has it, and the HTML/metrics pages);
//  - prod mode: the fuzzer cannot sign (it does not know any private key the relay trusts) and
//    does not know the token, so no peer or admin route may ever answer 200, and no inbox read
//    may return a message.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/core/clock.hpp"
#include "c2c/crypto/identity.hpp"
#include "c2c/net/http_types.hpp"
#include "c2c/relay/server/auth.hpp"
#include "c2c/relay/server/rate_limiter.hpp"
#include "c2c/relay/server/relay_service.hpp"
#include "c2c/relay/server/router.hpp"
#include "c2c/relay/store/store.hpp"

namespace {

using namespace c2c;
using Json = nlohmann::json;

constexpr double kT0 = 1'776'730'000.0;
// Long and random-looking: the fuzzer cannot plausibly produce it.
constexpr const char* kToken = "Zq3x-hardening-fuzz-token-7c1f0e9a4b2d";

struct Relay {
  explicit Relay(const std::string& token) : clock(kT0) {
    store = std::move(relay::open_store("memory:")).value();
    auth = std::make_unique<relay::server::Authenticator>(*store, clock, token);
    service = std::make_unique<relay::server::RelayService>(
        *store, *auth, clock, relay::server::ServiceConfig{}, identity());
    limiter = std::make_unique<relay::server::RateLimiter>(relay::server::RateLimitMode::kOn);
    router = std::make_unique<relay::server::Router>(*service, *auth, *store, *limiter, clock);
    service->set_register_urls({"http://127.0.0.1:7331"});
  }
  // Generating a key per input would dominate the run time.
  static const crypto::Identity& identity() {
    static const crypto::Identity id = crypto::new_identity("relay", kT0);
    return id;
  }
  FakeClock clock;
  std::unique_ptr<relay::Store> store;
  std::unique_ptr<relay::server::Authenticator> auth;
  std::unique_ptr<relay::server::RelayService> service;
  std::unique_ptr<relay::server::RateLimiter> limiter;
  std::unique_ptr<relay::server::Router> router;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// "METHOD target HTTP/1.1\r\nName: value\r\n...\r\n\r\nbody". Returns false when there is no
// request line at all.
bool parse_request(std::string_view in, net::Request* req) {
  const size_t eol = in.find('\n');
  std::string_view line = trim(in.substr(0, eol));
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  req->method = std::string(line.substr(0, sp1));
  std::string_view rest = line.substr(sp1 + 1);
  const size_t sp2 = rest.find(' ');
  req->target = std::string(rest.substr(0, sp2));
  const size_t q = req->target.find('?');
  req->path = req->target.substr(0, q);
  req->query = q == std::string::npos ? "" : req->target.substr(q + 1);
  if (eol == std::string_view::npos) return true;
  std::string_view cur = in.substr(eol + 1);
  while (!cur.empty()) {
    const size_t e = cur.find('\n');
    std::string_view h = trim(cur.substr(0, e));
    cur = e == std::string_view::npos ? std::string_view() : cur.substr(e + 1);
    if (h.empty()) break;  // end of headers
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    req->headers.push_back(
        {std::string(trim(h.substr(0, colon))), std::string(trim(h.substr(colon + 1)))});
  }
  req->body = std::string(cur);
  return true;
}

std::vector<std::string_view> split_requests(std::string_view in) {
  constexpr std::string_view kSep = "\n#####\n";
  std::vector<std::string_view> out;
  while (out.size() < 8) {
    const size_t at = in.find(kSep);
    out.push_back(in.substr(0, at));
    if (at == std::string_view::npos) break;
    in = in.substr(at + kSep.size());
  }
  return out;
}

bool is_open_route(const std::string& method, const std::string& path) {
  // Routes prod mode serves without a credential: unauth + self-auth classes.
  static const char* const kOpen[] = {"/health",       "/",          "/list_rooms",
                                      "/room_history", "/register",  "/join_room",
                                      "/leave_room",   "/send_room", "/set_room_visibility"};
  (void)method;
  for (const char* p : kOpen) {
    if (path == p) return true;
  }
  return false;
}

void check(const net::Request& req, const net::Response& resp, bool prod) {
  switch (resp.status) {
    case 200:
    case 400:
    case 401:
    case 403:
    case 404:
    case 413:
    case 429:
      break;
    default:
      __builtin_trap();  // 500 or anything undocumented
  }
  if (resp.content_type == "application/json") {
    const Json j = Json::parse(resp.body, nullptr, false);
    if (!j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) __builtin_trap();
    if (j["ok"].get<bool>() != (resp.status == 200)) {
      // Semantic failures are 200 + ok:false (D5); never ok:true with an error status.
      if (j["ok"].get<bool>()) __builtin_trap();
    }
    if (prod && resp.status == 200 && j.contains("messages") && j["messages"].is_array() &&
        !j["messages"].empty()) {
      __builtin_trap();  // an inbox read without the owner's signature
    }
  }
  if (prod && resp.status == 200 && !is_open_route(req.method, req.path)) {
    __builtin_trap();  // a peer or admin route reached without a credential
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<net::Request> requests;
  for (auto part : split_requests(in)) {
    net::Request req;
    if (!parse_request(part, &req)) continue;
    req.remote_ip = "203.0.113.7";  // not loopback: rate limits apply
    requests.push_back(std::move(req));
  }
  for (const bool prod : {false, true}) {
    Relay relay(prod ? kToken : "");
    for (const auto& req : requests) {
      net::Response resp;
      try {
        resp = relay.router->handle_sync(req);
      } catch (...) {
        __builtin_trap();
      }
      check(req, resp, prod);
      relay.clock.advance(1);
    }
  }
  return 0;
}
