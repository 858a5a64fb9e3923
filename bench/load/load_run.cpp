// The load engine: per thread one io_context; per connection one coroutine that sends a
// request, reads the response with a minimal parser (cheap, so the client steals as little CPU
// as possible from the server on the same machine) and records the latency.

#include <atomic>
#include <cstdio>
#include <random>
#include <thread>

#include "c2c/crypto/request_auth.hpp"
#include "c2c/net/detail/asio.hpp"
#include "load.hpp"

namespace c2c::load {
namespace {

using net::asio::awaitable;
using net::asio::use_awaitable;
using SteadyClock = std::chrono::steady_clock;
namespace asio = net::asio;
namespace beast = net::beast;
using net::error_code;
using net::tcp;

struct Shared {
  const LoadOptions& options;
  tcp::endpoint endpoint;
  SteadyClock::time_point deadline;
  std::atomic<uint64_t> issued{0};
  std::vector<std::string> presigned;  // --presign: request i is presigned[i]
  uint32_t run_tag = 0;                // random, so ids differ between runs
  std::atomic<int> active_loads{0};
  std::atomic<int64_t> load_end_ns{0};  // when the last load connection finished
  // Idle connections live on the first io_context; only touched from its thread.
  asio::io_context* idle_context = nullptr;
  std::vector<beast::tcp_stream*> idle_streams;
};

// Called by each load connection as it ends: the last one records the end of the load and
// releases the idle connections, so a count-bounded run does not wait for the deadline.
void load_connection_done(Shared& shared) {
  int64_t now = SteadyClock::now().time_since_epoch().count();
  int64_t prev = shared.load_end_ns.load();
  while (prev < now && !shared.load_end_ns.compare_exchange_weak(prev, now)) {
  }
  if (shared.active_loads.fetch_sub(1) == 1 && shared.idle_context != nullptr) {
    asio::post(*shared.idle_context, [&shared] {
      for (auto* s : shared.idle_streams) s->cancel();
    });
  }
}

struct ResponseHead {
  int status = 0;
  size_t head_bytes = 0;
  size_t content_length = 0;
  bool close = false;
};

bool iequal_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) !=
        std::tolower(static_cast<unsigned char>(name[i]))) {
      return false;
    }
  }
  return true;
}

// Parses a complete response head ending at `end` (the index of "\r\n\r\n").
std::optional<ResponseHead> parse_head(std::string_view data, size_t end) {
  ResponseHead h;
  h.head_bytes = end + 4;
  std::string_view head = data.substr(0, end);
  if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return std::nullopt;
  bool http10 = head.substr(5, 3) == "1.0";
  h.status = std::atoi(std::string(head.substr(9, 3)).c_str());
  bool keep_alive_header = false;
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos) {
    size_t start = pos + 2;
    size_t next = head.find("\r\n", start);
    std::string_view line =
        head.substr(start, next == std::string_view::npos ? head.npos : next - start);
    if (iequal_prefix(line, "content-length:")) {
      h.content_length = std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10);
    } else if (iequal_prefix(line, "transfer-encoding:")) {
      return std::nullopt;  // c2c servers never chunk; not worth a parser here
    } else if (iequal_prefix(line, "connection:")) {
      std::string_view v = line.substr(11);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      if (iequal_prefix(v, "close")) h.close = true;
      if (iequal_prefix(v, "keep-alive")) keep_alive_header = true;
    }
    pos = next;
  }
  if (http10 && !keep_alive_header) h.close = true;
  return h;
}

// A UUID-shaped id, unique within the run: `request` numbers every request of the run across
// all connections and threads (an id per connection would repeat on every connection, and the
// relay's dedup window would answer most requests "duplicate" without queueing them).
std::string make_id(uint32_t run_tag, uint64_t request) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4000-8000-%012llx", run_tag,
                static_cast<unsigned>(request >> 48) & 0xffffu,
                static_cast<unsigned long long>(request & 0xffffffffffffULL));
  return buf;
}

class RequestBuilder {
 public:
  RequestBuilder(const LoadOptions& o, uint32_t run_tag) : o_(o), run_tag_(run_tag) {
    dynamic_ = o.sign_identity.has_value() || o.body.find("{id}") != std::string::npos ||
               o.body.find("{slot}") != std::string::npos;
    if (!dynamic_) fixed_ = build(o.body);
  }
  // `request`: the request's number in the run (unique across connections), for {id}.
  const std::string& next(uint64_t request) {
    if (!dynamic_) return fixed_;
    std::string body = o_.body;
    for (size_t at = body.find("{id}"); at != std::string::npos; at = body.find("{id}", at)) {
      std::string id = make_id(run_tag_, request);
      body.replace(at, 4, id);
      at += id.size();
    }
    const std::string slot = std::to_string(counter_ % o_.slots);
    for (size_t at = body.find("{slot}"); at != std::string::npos; at = body.find("{slot}", at)) {
      body.replace(at, 6, slot);
      at += slot.size();
    }
    ++counter_;
    scratch_ = build(body);
    return scratch_;
  }

 private:
  std::string build(const std::string& body) const {
    std::string r;
    r.reserve(256 + body.size());
    r += o_.method + " " + o_.target + " HTTP/1.1\r\nHost: " + o_.host + ":" +
         std::to_string(o_.port) + "\r\n";
    for (const auto& h : o_.headers) r += h + "\r\n";
    if (!body.empty() || o_.method == "POST" || o_.method == "PUT") {
      r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n";
    }
    if (o_.sign_identity) {
      double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      r += "Authorization: " +
           crypto::sign_request(o_.sign_identity->keys, o_.sign_alias, o_.method, o_.path, o_.query,
                                body, now) +
           "\r\n";
    }
    r += "\r\n";
    r += body;
    return r;
  }

  const LoadOptions& o_;
  uint32_t run_tag_;
  bool dynamic_ = false;
  std::string fixed_;
  std::string scratch_;
  uint64_t counter_ = 0;
};

std::string reason(const error_code& ec) {
  if (ec == beast::error::timeout) return "timeout";
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::eof) return "connection closed by server";
  if (ec == asio::error::connection_reset) return "connection reset";
  return ec.message();
}

awaitable<void> load_connection(Shared& shared, ThreadStats& stats) {
  const LoadOptions& o = shared.options;
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  beast::flat_buffer buffer;
  RequestBuilder builder(o, shared.run_tag);
  bool connected = false;
  error_code ec;
  for (;;) {
    if (SteadyClock::now() >= shared.deadline) break;
    uint64_t slot = shared.issued.fetch_add(1, std::memory_order_relaxed);
    if (slot >= o.max_requests) break;
    if (!connected) {
      stream.expires_after(o.timeout);
      co_await stream.async_connect(shared.endpoint, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        ++stats.errors["connect: " + reason(ec)];
        stream.close();
        // Do not spin on a dead server: back off a little before the next attempt.
        asio::steady_timer pause(co_await asio::this_coro::executor);
        pause.expires_after(std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
        continue;
      }
      stream.socket().set_option(tcp::no_delay(true), ec);
      ++stats.connects;
      connected = true;
      buffer.clear();
    }
    const std::string& request = o.presign ? shared.presigned[slot] : builder.next(slot);
    auto t0 = SteadyClock::now();
    stream.expires_after(o.timeout);
    co_await asio::async_write(stream, asio::buffer(request),
                               asio::redirect_error(use_awaitable, ec));
    std::optional<ResponseHead> head;
    while (!ec) {
      std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
      if (!head) {
        auto end = data.find("\r\n\r\n");
        if (end != std::string_view::npos) {
          head = parse_head(data, end);
          if (!head) {
            ec = asio::error::invalid_argument;
            break;
          }
        }
      }
      if (head && data.size() >= head->head_bytes + head->content_length) {
        std::string_view body = data.substr(head->head_bytes, head->content_length);
        if (body.find("\"ok\":false") != std::string_view::npos) ++stats.ok_false;
        buffer.consume(head->head_bytes + head->content_length);
        break;
      }
      size_t n = co_await stream.async_read_some(buffer.prepare(16 * 1024),
                                                 asio::redirect_error(use_awaitable, ec));
      buffer.commit(n);
    }
    if (ec) {
      ++stats.errors[ec == asio::error::invalid_argument ? std::string("malformed response")
                                                         : reason(ec)];
      stream.close();
      connected = false;
      continue;
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0);
    stats.latencies_us.push_back(static_cast<uint32_t>(us.count()));
    ++stats.status[head->status];
    if (head->close) {
      stream.close();
      connected = false;
    }
  }
  if (connected) {
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
  }
  load_connection_done(shared);
}

// Sends half a request and waits; counts whether the server cut it before the run ended.
awaitable<void> idle_connection(Shared& shared, std::atomic<int>& opened,
                                std::atomic<int>& closed) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  shared.idle_streams.push_back(&stream);
  struct Unregister {
    Shared& shared;
    beast::tcp_stream* stream;
    ~Unregister() { std::erase(shared.idle_streams, stream); }
  } unregister{shared, &stream};
  error_code ec;
  stream.expires_at(shared.deadline);
  co_await stream.async_connect(shared.endpoint, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return;
  opened.fetch_add(1);
  std::string partial =
      "POST " + shared.options.target + " HTTP/1.1\r\nHost: " + shared.options.host + "\r\n";
  co_await asio::async_write(stream, asio::buffer(partial),
                             asio::redirect_error(use_awaitable, ec));
  char scratch[512];
  while (!ec) {
    co_await stream.async_read_some(asio::buffer(scratch), asio::redirect_error(use_awaitable, ec));
  }
  // Timeout: the run's deadline; aborted: the load finished first. Anything else: the server
  // hung up on us.
  if (ec != beast::error::timeout && ec != asio::error::operation_aborted) closed.fetch_add(1);
  stream.close();
}

}  // namespace

LoadResult run_load(const LoadOptions& o) {
  asio::io_context resolver_ctx;
  tcp::resolver resolver(resolver_ctx);
  auto endpoints = resolver.resolve(o.host, std::to_string(o.port));
  Shared shared{o, endpoints.begin()->endpoint()};
  shared.run_tag = std::random_device{}();

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<ThreadStats> stats(static_cast<size_t>(o.threads));
  contexts.reserve(static_cast<size_t>(o.threads));
  for (int t = 0; t < o.threads; ++t) contexts.push_back(std::make_unique<asio::io_context>(1));
  std::atomic<int> idle_opened{0}, idle_closed{0};
  if (o.presign) {
    RequestBuilder builder(o, shared.run_tag);
    shared.presigned.reserve(o.max_requests);
    for (uint64_t i = 0; i < o.max_requests; ++i) shared.presigned.push_back(builder.next(i));
  }

  auto start = SteadyClock::now();
  shared.deadline = start + o.duration;
  shared.active_loads = o.connections;
  shared.idle_context = contexts[0].get();
  for (int i = 0; i < o.idle_connections; ++i) {
    asio::co_spawn(*contexts[0], idle_connection(shared, idle_opened, idle_closed), asio::detached);
  }
  for (int c = 0; c < o.connections; ++c) {
    int t = c % o.threads;
    asio::co_spawn(*contexts[static_cast<size_t>(t)],
                   load_connection(shared, stats[static_cast<size_t>(t)]), asio::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 1; t < o.threads; ++t) {
    threads.emplace_back([&contexts, t] { contexts[static_cast<size_t>(t)]->run(); });
  }
  contexts[0]->run();
  for (auto& th : threads) th.join();
  LoadResult result;
  // Throughput is measured up to the end of the last load connection (not of idle ones).
  result.elapsed =
      SteadyClock::time_point(SteadyClock::duration(shared.load_end_ns.load())) - start;
  for (auto& s : stats) {
    auto& t = result.totals;
    t.latencies_us.insert(t.latencies_us.end(), s.latencies_us.begin(), s.latencies_us.end());
    for (auto& [k, v] : s.status) t.status[k] += v;
    for (auto& [k, v] : s.errors) t.errors[k] += v;
    t.connects += s.connects;
    t.ok_false += s.ok_false;
  }
  result.idle_opened = idle_opened.load();
  result.idle_closed_by_server = idle_closed.load();
  return result;
}

}  // namespace c2c::load
