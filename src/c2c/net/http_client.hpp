#pragma once
// Blocking HTTP/1.1 client for http:// and https:// base URLs (certificates verified against
// the system store, or a PEM bundle), with connect and request timeouts and keep-alive reuse.
// One client = one connection at a time; not thread-safe.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "c2c/core/result.hpp"
#include "c2c/net/http_types.hpp"

namespace c2c::net {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{10'000};
  std::string ca_bundle;  // PEM file; empty = system default trust store
};

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";  // path + optional query, appended to the base URL's path prefix
  std::vector<Header> headers;
  std::string body;  // sent only if non-empty (then with Content-Type: application/json)
  // Overrides ClientOptions::request_timeout for this request (e.g. a long-poll).
  std::optional<std::chrono::milliseconds> timeout;
};

struct ParsedUrl {
  std::string scheme;  // "http" | "https"
  std::string host;
  uint16_t port = 0;
  std::string prefix;  // path prefix without trailing '/', usually ""
};
// Accepts http(s)://host[:port][/prefix]; IPv6 literals in brackets. kBadRequest otherwise.
Result<ParsedUrl> parse_url(std::string_view url);

class HttpClient {
 public:
  static Result<HttpClient> create(std::string_view base_url, ClientOptions options = {});
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  ~HttpClient();

  // Any HTTP status is a successful Result; kUnavailable means no response (refused, DNS,
  // TLS/certificate failure, timeout), with the reason in the message.
  Result<Response> request(const ClientRequest& req);
  const ParsedUrl& url() const;
  // Thread-safe: the request in progress, if any, and every later one fail at once with
  // kUnavailable ("cancelled"). Lets another thread stop one blocked in a long-poll.
  void cancel();

 private:
  HttpClient();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace c2c::net
