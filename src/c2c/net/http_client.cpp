// HttpClient: a blocking facade over Asio coroutines run on a private io_context. Every socket
// operation carries a deadline (beast::tcp_stream), so run() always returns.

#include "c2c/net/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <optional>

#include "c2c/net/detail/asio.hpp"
#include "c2c/net/detail/tls.hpp"
#include "c2c/net/detail/wire.hpp"

namespace c2c::net {
namespace {

using Clock = std::chrono::steady_clock;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr size_t kMaxResponseBody = 64u << 20;

// What one step (connect or exchange) produced; default-constructible for co_spawn.
struct Outcome {
  error_code ec;
  std::string failure;            // readable reason when ec is set
  bool response_started = false;  // some response bytes arrived (no transparent retry then)
  Response response;
  bool keep_alive = false;
};

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

// Lower-case, stable wording for the usual socket failures.
std::string describe(const error_code& ec) {
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::connection_reset) return "connection reset by peer";
  if (ec == asio::error::eof || ec == http::error::end_of_stream) {
    return "connection closed by the server";
  }
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again) {
    return "cannot resolve host";
  }
  if (ec == asio::error::network_unreachable) return "network unreachable";
  if (ec == asio::error::host_unreachable) return "host unreachable";
  if (ec == asio::error::broken_pipe) return "broken pipe";
  return ec.message();
}

// A closed keep-alive connection shows up as one of these before any response byte.
bool is_stale_connection(const error_code& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

template <class T>
T run_to_completion(asio::io_context& ioc, asio::awaitable<T> op) {
  std::optional<T> out;
  std::exception_ptr error;
  asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr e, T value) {
    error = std::move(e);
    out = std::move(value);
  });
  ioc.restart();
  ioc.run();
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

}  // namespace

struct HttpClient::Impl {
  ParsedUrl url;
  ClientOptions options;
  std::string host_header;
  std::string origin;  // "http://host:port" for messages
  asio::io_context ioc{1};
  std::atomic<bool> cancelled{false};
  std::shared_ptr<asio::ssl::context> tls;
  std::optional<PlainStream> plain;
  std::optional<TlsStream> secure;
  beast::flat_buffer buffer;

  bool connected() const { return plain.has_value() || secure.has_value(); }
  void disconnect() {
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  asio::awaitable<Outcome> connect(Clock::time_point deadline);
  template <class Stream>
  asio::awaitable<Outcome> exchange(Stream& stream, const ClientRequest& req,
                                    Clock::time_point deadline);
  Outcome exchange_once(const ClientRequest& req, Clock::time_point deadline);
};

asio::awaitable<Outcome> HttpClient::Impl::connect(Clock::time_point deadline) {
  Outcome out;
  auto fail_with = [&](const error_code& ec, std::string why) {
    out.ec = ec;
    out.failure = "cannot connect to " + origin + ": " + std::move(why);
    disconnect();
    return out;
  };
  tcp::resolver resolver(ioc);
  error_code ec;
  // System resolver time is not bounded by connect_timeout (getaddrinfo cannot be cancelled);
  // IP literals and /etc/hosts names do not block.
  auto endpoints = co_await resolver.async_resolve(url.host, std::to_string(url.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail_with(ec, describe(ec));

  if (cancelled.load()) co_return fail_with(asio::error::operation_aborted, "request cancelled");
  auto connect_deadline = std::min(deadline, Clock::now() + options.connect_timeout);
  PlainStream stream(ioc);
  stream.expires_at(connect_deadline);
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec == beast::error::timeout) {
    co_return fail_with(ec, "timed out after " + ms(options.connect_timeout));
  }
  if (ec) co_return fail_with(ec, describe(ec));
  // A cancel() while this connected found no stream of ours to stop (it is kept only below).
  if (cancelled.load()) co_return fail_with(asio::error::operation_aborted, "request cancelled");
  stream.socket().set_option(tcp::no_delay(true), ec);

  if (!tls) {
    plain.emplace(std::move(stream));
    co_return out;
  }
  secure.emplace(std::move(stream), *tls);
  SSL* ssl = secure->native_handle();
  error_code addr_ec;
  asio::ip::make_address(url.host, addr_ec);
  bool is_ip = !addr_ec;
  // SNI is for names only; the peer's certificate must match the name or the IP literal.
  if (!is_ip) SSL_set_tlsext_host_name(ssl, url.host.c_str());
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str());
  } else {
    SSL_set1_host(ssl, url.host.c_str());
  }
  beast::get_lowest_layer(*secure).expires_at(connect_deadline);
  co_await secure->async_handshake(asio::ssl::stream_base::client,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec == beast::error::timeout) {
    co_return fail_with(ec, "TLS handshake timed out after " + ms(options.connect_timeout));
  }
  if (ec) {
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      co_return fail_with(
          ec, std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify));
    }
    co_return fail_with(ec, "TLS handshake failed: " + detail::describe_tls_error(ec));
  }
  co_return out;
}

template <class Stream>
asio::awaitable<Outcome> HttpClient::Impl::exchange(Stream& stream, const ClientRequest& req,
                                                    Clock::time_point deadline) {
  Outcome out;
  http::request<http::string_body> msg;
  msg.method_string(req.method);
  std::string target =
      req.target.empty() || req.target.front() != '/' ? "/" + req.target : req.target;
  msg.target(url.prefix + target);
  msg.version(11);
  msg.set(http::field::host, host_header);
  msg.set(http::field::user_agent, "c2c/" C2C_VERSION);
  bool has_content_type = false;
  for (const auto& h : req.headers) {
    if (detail::iequals(h.name, "Content-Type")) has_content_type = true;
    msg.insert(h.name, h.value);
  }
  if (!req.body.empty()) {
    if (!has_content_type) msg.set(http::field::content_type, "application/json");
    msg.body() = req.body;
  }
  msg.prepare_payload();

  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_at(deadline);
  error_code ec;
  // cancel() stops only what is pending: one that came between two operations left only the
  // flag, so it is checked before each (request() then reports "request cancelled").
  if (cancelled.load()) ec = asio::error::operation_aborted;
  if (!ec) co_await http::async_write(stream, msg, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec && cancelled.load()) ec = asio::error::operation_aborted;
  if (!ec) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    // A HEAD response announces a Content-Length but carries no body.
    if (msg.method() == http::verb::head) parser.skip(true);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    out.response_started = parser.got_some();
    if (!ec) {
      auto res = parser.release();
      out.response.status = static_cast<int>(res.result_int());
      out.response.content_type = std::string(res[http::field::content_type]);
      for (const auto& f : res) {
        out.response.headers.push_back(
            Header{std::string(f.name_string()), std::string(f.value())});
      }
      out.response.body = std::move(res.body());
      out.keep_alive = res.keep_alive();
      co_return out;
    }
  }
  out.ec = ec;
  std::string where = req.method + " " + origin + url.prefix + target;
  if (ec == beast::error::timeout) {
    out.failure = where + " timed out after " + ms(options.request_timeout);
  } else {
    out.failure = where + " failed: " + describe(ec);
  }
  co_return out;
}

Outcome HttpClient::Impl::exchange_once(const ClientRequest& req, Clock::time_point deadline) {
  if (secure) return run_to_completion(ioc, exchange(*secure, req, deadline));
  return run_to_completion(ioc, exchange(*plain, req, deadline));
}

HttpClient::HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;
HttpClient::~HttpClient() = default;

Result<HttpClient> HttpClient::create(std::string_view base_url, ClientOptions options) {
  auto parsed = parse_url(base_url);
  if (!parsed) return fail(parsed.error());
  HttpClient client;
  client.impl_ = std::make_unique<Impl>();
  Impl& s = *client.impl_;
  s.url = std::move(*parsed);
  s.options = std::move(options);
  bool v6 = s.url.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + s.url.host + "]" : s.url.host;
  bool default_port = s.url.port == (s.url.scheme == "https" ? 443 : 80);
  s.host_header = default_port ? host : host + ":" + std::to_string(s.url.port);
  s.origin = s.url.scheme + "://" + host + ":" + std::to_string(s.url.port);
  if (s.url.scheme == "https") {
    auto ctx = detail::make_client_tls_context(s.options.ca_bundle);
    if (!ctx) return fail(ctx.error());
    s.tls = std::move(*ctx);
  }
  return client;
}

const ParsedUrl& HttpClient::url() const {
  return impl_->url;
}

void HttpClient::cancel() {
  Impl& s = *impl_;
  s.cancelled.store(true);
  // Runs on the thread inside ioc.run(), if a request is in progress; otherwise at the start of
  // the next run, which request() refuses anyway. It stops what is pending; an operation that
  // completed just before it ran is followed by none: the request checks the flag before each
  // one (connect, write, read).
  asio::post(s.ioc, [&s] {
    if (s.plain) s.plain->cancel();
    if (s.secure) beast::get_lowest_layer(*s.secure).cancel();
  });
}

Result<Response> HttpClient::request(const ClientRequest& req) {
  Impl& s = *impl_;
  auto deadline = Clock::now() + req.timeout.value_or(s.options.request_timeout);
  for (int attempt = 0;; ++attempt) {
    if (s.cancelled.load()) return fail(ErrorCode::kUnavailable, "request cancelled");
    bool reused = s.connected();
    if (!reused) {
      Outcome c = run_to_completion(s.ioc, s.connect(deadline));
      if (c.ec && s.cancelled.load()) return fail(ErrorCode::kUnavailable, "request cancelled");
      if (c.ec) return fail(ErrorCode::kUnavailable, c.failure);
    }
    Outcome out = s.exchange_once(req, deadline);
    if (!out.ec) {
      if (!out.keep_alive) s.disconnect();
      return std::move(out.response);
    }
    s.disconnect();
    if (s.cancelled.load()) return fail(ErrorCode::kUnavailable, "request cancelled");
    // The server may have closed a kept-alive connection just before we used it: one retry on
    // a fresh connection, only if nothing of a response arrived.
    if (reused && attempt == 0 && !out.response_started && is_stale_connection(out.ec) &&
        Clock::now() < deadline) {
      continue;
    }
    return fail(ErrorCode::kUnavailable, out.failure);
  }
}

}  // namespace c2c::net
