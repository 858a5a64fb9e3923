#pragma once
// Internal to c2c_net: one HTTP/1.x connection as one coroutine, the same code for plain TCP
// (PlainStream) and TLS (TlsStream). Sessions use the concrete io_context executor rather than
// any_io_executor: the type-erased executor costs a measurable share of a small request.
//
// Per request: wait for the first byte (idle timeout; stop() may close the connection here),
// then the whole request must arrive within read_timeout (slowloris), the parser enforces the
// header and body limits, the Handler answers inline or later from any thread, the response is
// written within write_timeout. Bad input gets a JSON error and the connection is closed.

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "c2c/net/detail/asio.hpp"
#include "c2c/net/detail/pending_response.hpp"
#include "c2c/net/detail/server_core.hpp"
#include "c2c/net/detail/wire.hpp"

namespace c2c::net::detail {

using SessionExecutor = asio::io_context::executor_type;
using PlainStream = beast::basic_stream<tcp, SessionExecutor>;
using TlsStream = beast::ssl_stream<PlainStream>;
using SessionSocket = asio::basic_stream_socket<tcp, SessionExecutor>;
template <class T>
using SessionAwaitable = asio::awaitable<T, SessionExecutor>;
inline constexpr asio::use_awaitable_t<SessionExecutor> kUseAwaitable{};

// What the server answers for a request it could not read; nullopt = just close.
std::optional<Response> response_for_read_error(const error_code& ec, const ServerLimits& limits);
// Moves the parsed message into c2c's own Request.
Request to_request(http::request<http::string_body>&& msg, const std::string& remote_ip, bool tls);

template <class Stream>
class Session final : public SessionBase {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, PlainStream>;
  static constexpr size_t kReadChunk = 16 * 1024;
  static constexpr std::chrono::milliseconds kStopGrace{1'000};

  template <class... StreamArgs>
  Session(ServerCore& core, asio::any_io_executor executor, std::string remote_ip,
          StreamArgs&&... stream_args)
      : SessionBase(core, std::move(executor), std::move(remote_ip)),
        stream_(std::forward<StreamArgs>(stream_args)...) {}

  // The coroutine owns the session through `self`.
  static SessionAwaitable<void> run(std::shared_ptr<Session> self) {
    co_await self->serve();
    if (self->grace_timer_) self->grace_timer_->cancel();
  }

  // Idle connections close at once. One in the middle of receiving a request gets a short
  // grace period, so an upload in progress can finish but a stalled one cannot hold up stop().
  void close_if_idle() override {
    if (idle_) {
      lowest().cancel();
    } else if (reading_ && !grace_timer_) {
      grace_timer_.emplace(executor_);
      grace_timer_->expires_after(kStopGrace);
      grace_timer_->async_wait([self = shared_from_this(), this](const error_code& ec) {
        if (!ec && reading_) lowest().cancel();
      });
    }
  }

  // Chosen by a full server: only a connection still waiting for a request is closed (one that
  // has started sending keeps its request).
  void evict_if_idle() override {
    if (idle_) lowest().cancel();
  }

 private:
  using Parser = http::request_parser<http::string_body>;

  PlainStream& lowest() { return beast::get_lowest_layer(stream_); }
  const ServerLimits& limits() const { return core_.limits; }

  SessionAwaitable<void> serve() {
    error_code ec;
    if constexpr (kTls) {
      lowest().expires_after(limits().read_timeout);
      reading_ = true;
      co_await stream_.async_handshake(asio::ssl::stream_base::server,
                                       asio::redirect_error(kUseAwaitable, ec));
      reading_ = false;
      if (ec) co_return;  // not TLS, bad certificate on the client side, timeout: drop
    }
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      // Wait for the first byte of the next request. A new connection gets read_timeout to
      // start talking; a kept-alive one may sit idle for idle_timeout.
      if (buffer.size() == 0) {
        if (core_.stopping.load(std::memory_order_relaxed)) break;
        idle_ = true;
        idle_since.store(now_ns(), std::memory_order_relaxed);
        lowest().expires_after(first ? std::min(limits().read_timeout, limits().idle_timeout)
                                     : limits().idle_timeout);
        size_t n = co_await stream_.async_read_some(buffer.prepare(kReadChunk),
                                                    asio::redirect_error(kUseAwaitable, ec));
        idle_ = false;
        idle_since.store(kBusy, std::memory_order_relaxed);
        if (ec) break;  // closed by the peer, idle timeout, stop() or eviction
        buffer.commit(n);
      }
      first = false;

      // The rest of the request must arrive within read_timeout from its first byte.
      lowest().expires_after(limits().read_timeout);
      Parser parser;
      parser.eager(true);
      parser.header_limit(
          static_cast<std::uint32_t>(std::min<size_t>(limits().max_header_bytes, UINT32_MAX)));
      parser.body_limit(limits().max_body_bytes);
      reading_ = true;
      ec = co_await read_request(buffer, parser);
      reading_ = false;
      if (ec) {
        if (auto err = response_for_read_error(ec, limits())) {
          co_await write_response(*err, HeadOptions{11, false, true});
          co_await linger_close();
          co_return;
        }
        break;
      }

      auto& msg = parser.get();
      HeadOptions head;
      head.version = msg.version() == 10 ? 10 : 11;
      head.include_body = msg.method() != http::verb::head;
      bool keep_alive = msg.keep_alive();
      const bool may_pad = pads(to_std(msg.target()));
      Response response = co_await call_handler(to_request(parser.release(), remote_ip_, kTls),
                                                may_pad ? &head : nullptr);
      if (peer_gone_) {
        core_.abandoned_requests.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      if (padded_) {  // the head went out while the handler waited: the body ends the response
        if (head.include_body) {
          lowest().expires_after(limits().write_timeout);
          co_await asio::async_write(stream_, asio::buffer(response.body),
                                     asio::redirect_error(kUseAwaitable, ec));
        }
        break;
      }
      if (response.events) {
        co_await write_event_stream(response, head);
        break;
      }
      // A stopping server finishes this request but takes no further ones on the connection.
      head.keep_alive = keep_alive && !core_.stopping.load(std::memory_order_relaxed);
      ec = co_await write_response(response, head);
      if (ec || !head.keep_alive) break;
    }
    co_await close();
  }

  // Reads (whatever is not already buffered of) one request into `parser`. Parsing happens
  // synchronously on the buffered bytes, so a request that arrived in one segment costs one
  // read and no extra completion.
  SessionAwaitable<error_code> read_request(beast::flat_buffer& buffer, Parser& parser) {
    error_code ec;
    bool continue_sent = false;
    for (;;) {
      if (buffer.size() > 0) {
        size_t used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        if (ec == http::error::need_more) {
          ec = {};
        } else if (ec) {
          co_return ec;
        }
        if (parser.is_done()) co_return ec;
        if (used > 0 && buffer.size() > 0) continue;
      }
      if (!continue_sent && parser.is_header_done()) {
        continue_sent = true;
        if (expects_continue(parser.get())) {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          co_await asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                                     asio::redirect_error(kUseAwaitable, ec));
          if (ec) co_return ec;
        }
      }
      size_t n = co_await stream_.async_read_some(buffer.prepare(kReadChunk),
                                                  asio::redirect_error(kUseAwaitable, ec));
      if (ec == asio::error::eof) {
        // A body delimited by the end of the stream is complete now; anything else is cut.
        parser.put_eof(ec);
        if (!ec && parser.is_done()) co_return ec;
        co_return asio::error::eof;
      }
      if (ec) co_return ec;
      buffer.commit(n);
    }
  }

  static bool expects_continue(const http::request<http::string_body>& msg) {
    auto it = msg.find(http::field::expect);
    return msg.version() >= 11 && it != msg.end() && iequals(to_std(it->value()), "100-continue");
  }

  // Whether a request for `target` is padded while it waits (ServerLimits::padded_paths).
  bool pads(std::string_view target) const {
    if (limits().pad_interval.count() <= 0) return false;
    const std::string_view path = target.substr(0, target.find('?'));
    return std::any_of(limits().padded_paths.begin(), limits().padded_paths.end(),
                       [&](const std::string& p) { return p == path; });
  }

  // Runs the handler; awaits its answer only if it did not answer inline (the common case
  // costs no thread hop and no extra completion). With `pad` (a padded path), a long wait
  // writes the head and keep-alive spaces meanwhile (wait_padded).
  SessionAwaitable<Response> call_handler(Request request, const HeadOptions* pad = nullptr) {
    padded_ = false;
    // One PendingResponse per connection, reused while no late Responder copy still holds it.
    if (!pending_ || pending_.use_count() != 1) {
      pending_ = std::make_shared<PendingResponse>();
    } else {
      pending_->reset();
    }
    // The session holds on while the handler runs, so a throwing handler is reported as such
    // (not as a dropped request); afterwards only the handler's Responder copies count.
    pending_->hold();
    try {
      core_.handler(std::move(request), Responder(ResponderFn(pending_)));
    } catch (const std::exception& e) {
      pending_->fulfil(error_response(500, "internal_error",
                                      std::string("request handler failed: ") + e.what()));
    } catch (...) {
      pending_->fulfil(error_response(500, "internal_error", "request handler failed"));
    }
    pending_->release();
    if (!pending_->done()) {
      watch_for_peer_close();
      if (pad != nullptr) {
        co_await wait_padded(*pad);
      } else {
        co_await pending_->async_wait(kUseAwaitable);
      }
      error_code ec;
      lowest().socket().cancel(ec);  // ends the watch
    }
    co_return pending_->take();
  }

  // Waits for the handler's answer, writing every pad_interval: first the head of a 200
  // response that the close will end, then one space (ServerLimits::padded_paths). A failed
  // write means the client is gone: the late answer is dropped.
  SessionAwaitable<void> wait_padded(HeadOptions head) {
    // Shared with the answer's completion, which may run after this coroutine frame is gone.
    auto tick = std::make_shared<asio::steady_timer>(executor_);
    pending_->async_wait(asio::bind_executor(executor_, [tick] { tick->cancel(); }));
    head.keep_alive = false;
    head.open_ended = true;
    // Spaces go out on a grid of pad_interval shared by every waiting request (the first at
    // least half an interval after the request), so 10,000 waiting long-polls cost one wake-up
    // per interval instead of one each.
    const auto interval =
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(limits().pad_interval);
    const auto first = std::chrono::steady_clock::now() + interval / 2;
    auto next = std::chrono::steady_clock::time_point(
        (first.time_since_epoch() + interval - std::chrono::steady_clock::duration(1)) / interval *
        interval);
    while (!pending_->done()) {
      error_code ec;
      tick->expires_at(next);
      next += interval;
      co_await tick->async_wait(asio::redirect_error(kUseAwaitable, ec));
      if (pending_->done() || peer_gone_) break;
      std::string bytes = " ";
      if (!padded_) {
        Response ok;
        bytes = serialize_head(ok, head) + bytes;
        padded_ = true;
      }
      lowest().expires_after(limits().write_timeout);
      co_await asio::async_write(stream_, asio::buffer(bytes),
                                 asio::redirect_error(kUseAwaitable, ec));
      if (ec) {
        peer_gone_ = true;
        pending_->fulfil(Response{});
        break;
      }
      core_.padding_writes.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // While a handler takes its time (a long-poll waits up to minutes), a client that goes away
  // must not hold its connection until the answer: when the socket turns readable, a peek tells
  // the peer's close (0 bytes, or an error) from a pipelined next request (bytes, left unread).
  // On a close the session stops waiting, drops the late answer and closes at once.
  void watch_for_peer_close() {
    lowest().socket().async_wait(
        tcp::socket::wait_read,
        [self = shared_from_this(), this, pending = pending_](const error_code& ec) {
          if (ec || pending->done()) return;  // answered (cancelled), or the socket is closed
          char byte = 0;
          const ssize_t n =
              ::recv(lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            peer_gone_ = true;
            pending->fulfil(Response{});
          } else if (n < 0) {
            watch_for_peer_close();  // spurious wake-up: keep watching
          }
        });
  }

  SessionAwaitable<error_code> write_response(const Response& response, const HeadOptions& head) {
    std::string head_bytes = serialize_head(response, head);
    std::array<asio::const_buffer, 2> buffers{
        asio::buffer(head_bytes),
        head.include_body ? asio::buffer(response.body) : asio::const_buffer()};
    error_code ec;
    lowest().expires_after(limits().write_timeout);
    co_await asio::async_write(stream_, buffers, asio::redirect_error(kUseAwaitable, ec));
    co_return ec;
  }

  // A server-sent event stream (Response::events): the head without a length, then one event
  // at once and one per interval, each write bounded by write_timeout, until the producer ends
  // it, a write fails (the client went away), the server stops or max_duration passes. The
  // connection closes after it: the close is what ends the body.
  SessionAwaitable<void> write_event_stream(Response& response, HeadOptions head) {
    const std::shared_ptr<EventStream> events = std::move(response.events);
    head.keep_alive = false;
    head.open_ended = true;
    const std::string head_bytes = serialize_head(response, head);
    error_code ec;
    lowest().expires_after(limits().write_timeout);
    co_await asio::async_write(stream_, asio::buffer(head_bytes),
                               asio::redirect_error(kUseAwaitable, ec));
    if (ec || !head.include_body || !events->next_event) co_return;
    const auto until = std::chrono::steady_clock::now() + events->max_duration;
    asio::steady_timer tick(executor_);
    for (;;) {
      const std::string event = events->next_event();
      if (event.empty()) co_return;
      lowest().expires_after(limits().write_timeout);
      co_await asio::async_write(stream_, asio::buffer(event),
                                 asio::redirect_error(kUseAwaitable, ec));
      if (ec || core_.stopping.load(std::memory_order_relaxed)) co_return;
      if (std::chrono::steady_clock::now() + events->interval >= until) co_return;
      // stop() is noticed at the next tick, one interval at most.
      tick.expires_after(events->interval);
      co_await tick.async_wait(asio::redirect_error(kUseAwaitable, ec));
      if (ec || core_.stopping.load(std::memory_order_relaxed)) co_return;
    }
  }

  // After an error response on a connection whose request was not (fully) read: stop sending,
  // then discard what the client still sends for a short while, so that the kernel does not
  // answer the unread bytes with a reset that would destroy the response before it is read.
  SessionAwaitable<void> linger_close() {
    error_code ec;
    lowest().socket().shutdown(SessionSocket::shutdown_send, ec);
    lowest().expires_after(std::min(limits().read_timeout, std::chrono::milliseconds(2'000)));
    std::array<char, 16 * 1024> scratch;
    size_t drained = 0;
    // Bounded in time (above) and in bytes: a client streaming forever is cut.
    while (!ec && drained < 64 * limits().max_body_bytes + (1 << 20)) {
      drained += co_await lowest().async_read_some(asio::buffer(scratch),
                                                   asio::redirect_error(kUseAwaitable, ec));
    }
    lowest().close();
  }

  SessionAwaitable<void> close() {
    error_code ec;
    if constexpr (kTls) {
      // Best effort close_notify, bounded: the peer may already be gone.
      if (lowest().socket().is_open()) {
        lowest().expires_after(std::chrono::milliseconds(1'000));
        co_await stream_.async_shutdown(asio::redirect_error(kUseAwaitable, ec));
      }
    } else {
      lowest().socket().shutdown(SessionSocket::shutdown_send, ec);
    }
    lowest().close();
  }

  Stream stream_;
  // Only touched on the session's strand.
  bool idle_ = false;       // waiting for the first byte of a request
  bool reading_ = false;    // receiving a request (or the TLS handshake)
  bool peer_gone_ = false;  // the client closed while its request was being handled
  bool padded_ = false;     // the head of the pending answer went out (wait_padded)
  std::optional<asio::steady_timer> grace_timer_;
  std::shared_ptr<PendingResponse> pending_;  // armed by stop() while reading_
};

}  // namespace c2c::net::detail
