// HttpServer: binds, accepts, spawns one session coroutine per connection, stops gracefully.
// Threading: one io_context per thread (no strands, no cross-thread scheduler locks on the hot
// path); each accepted connection is pinned to one of them, round robin. The acceptor and the
// signal set live on the first context, which the caller of run() drives.

#include "c2c/net/http_server.hpp"

#include <thread>
#include <vector>

#include "c2c/net/detail/asio.hpp"
#include "c2c/net/detail/server_core.hpp"
#include "c2c/net/detail/session.hpp"
#include "c2c/net/detail/tls.hpp"

namespace c2c::net {

namespace detail {

ServerCore::Admit ServerCore::admit(const std::string& ip) {
  std::shared_ptr<SessionBase> victim;
  {
    std::lock_guard lock(mu);
    if (limits.max_connections_per_ip > 0) {
      auto it = per_ip.find(ip);
      if (it != per_ip.end() && it->second >= limits.max_connections_per_ip) return Admit::kIpFull;
    }
    if (open_connections.load(std::memory_order_relaxed) >= limits.max_connections) {
      // Full: the connection idle longest makes room (docs/security.md "Connection caps"). O(n)
      // over the sessions, paid only at the cap.
      SessionBase* oldest = nullptr;
      int64_t oldest_since = 0;
      for (const auto& [ptr, weak] : sessions) {
        const int64_t since = ptr->idle_since.load(std::memory_order_relaxed);
        if (since >= 0 && (oldest == nullptr || since < oldest_since)) {
          oldest = ptr;
          oldest_since = since;
        }
      }
      if (oldest == nullptr) return Admit::kFull;
      // Marked so that the next accept picks another one; the session overwrites the mark if it
      // wakes up with a request before the eviction reaches it (then it is kept, and the server
      // is one connection over its cap until a connection ends).
      if (!oldest->idle_since.compare_exchange_strong(oldest_since, SessionBase::kEvicting)) {
        return Admit::kFull;
      }
      victim = sessions.find(oldest)->second.lock();
      if (!victim) return Admit::kFull;
    }
    ++per_ip[ip];
  }
  if (victim) {
    evicted_idle.fetch_add(1, std::memory_order_relaxed);
    const auto executor = victim->executor();
    asio::post(executor, [victim = std::move(victim)] { victim->evict_if_idle(); });
  }
  return Admit::kYes;
}

}  // namespace detail

using detail::Session;
using PlainSession = Session<detail::PlainStream>;
using TlsSession = Session<detail::TlsStream>;

namespace {

int thread_count(int requested) {
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::vector<std::unique_ptr<asio::io_context>> make_contexts(int n) {
  std::vector<std::unique_ptr<asio::io_context>> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
  return out;
}

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions o, Handler h)
      : options(std::move(o)),
        core(options.limits, std::move(h)),
        contexts(make_contexts(thread_count(options.threads))),
        acceptor(*contexts[0]),
        signals(*contexts[0]) {}

  asio::awaitable<void> accept_loop();
  void spawn_session(detail::SessionSocket socket, std::string remote_ip);
  void do_stop();  // on contexts[0]

  const ServerOptions options;
  bool on_stop_called = false;  // contexts[0] only
  // Declared before the io_contexts: sessions destroyed with them still unregister from core.
  detail::ServerCore core;
  std::shared_ptr<asio::ssl::context> tls;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  // Keeps every context's run() going while it has no connection, until stop().
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  size_t next_context = 0;
  bool listening = false;
};

asio::awaitable<void> HttpServer::Impl::accept_loop() {
  asio::steady_timer backoff(*contexts[0]);
  for (;;) {
    if (core.stopping.load()) co_return;
    auto& context = *contexts[next_context++ % contexts.size()];
    error_code ec;
    detail::SessionSocket socket = co_await acceptor.async_accept(
        context.get_executor(), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (core.stopping.load() || !acceptor.is_open()) co_return;
      // Out of file descriptors or similar: give the system a moment instead of spinning.
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    auto remote = socket.remote_endpoint(ec);
    std::string remote_ip = ec ? std::string() : remote.address().to_string();
    const auto admitted = core.admit(remote_ip);
    if (admitted != detail::ServerCore::Admit::kYes) {
      core.rejected_connections.fetch_add(1, std::memory_order_relaxed);
      if (admitted == detail::ServerCore::Admit::kIpFull) {
        core.rejected_per_ip.fetch_add(1, std::memory_order_relaxed);
      }
      socket.close(ec);
      continue;
    }
    core.accepted_connections.fetch_add(1, std::memory_order_relaxed);
    core.open_connections.fetch_add(1, std::memory_order_relaxed);
    spawn_session(std::move(socket), std::move(remote_ip));
  }
}

void HttpServer::Impl::spawn_session(detail::SessionSocket socket, std::string remote_ip) {
  auto executor = socket.get_executor();
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  if (tls) {
    auto session =
        std::make_shared<TlsSession>(core, executor, std::move(remote_ip), std::move(socket), *tls);
    session->attach();
    asio::co_spawn(executor, TlsSession::run(std::move(session)), asio::detached);
  } else {
    auto session =
        std::make_shared<PlainSession>(core, executor, std::move(remote_ip), std::move(socket));
    session->attach();
    asio::co_spawn(executor, PlainSession::run(std::move(session)), asio::detached);
  }
}

void HttpServer::Impl::do_stop() {
  core.stopping.store(true);
  if (options.on_stop && !on_stop_called) {
    on_stop_called = true;
    options.on_stop();
  }
  error_code ec;
  acceptor.close(ec);
  signals.cancel(ec);
  keep_running.clear();
  // Idle keep-alive connections close now; busy ones finish their request first and then see
  // `stopping` before waiting for another.
  std::vector<std::shared_ptr<detail::SessionBase>> live;
  {
    std::lock_guard lock(core.mu);
    live.reserve(core.sessions.size());
    for (auto& [ptr, weak] : core.sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) {
    asio::post(s->executor(), [s] { s->close_if_idle(); });
  }
}

HttpServer::HttpServer(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() = default;

Result<uint16_t> HttpServer::listen() {
  Impl& s = *impl_;
  if (s.listening) return fail(ErrorCode::kInternal, "HttpServer::listen called twice");
  std::string where = s.options.host + ":" + std::to_string(s.options.port);
  if (s.options.tls) {
    auto ctx = detail::make_server_tls_context(*s.options.tls);
    if (!ctx) return fail(ctx.error());
    s.tls = std::move(*ctx);
  }

  error_code ec;
  tcp::endpoint endpoint;
  auto address = asio::ip::make_address(s.options.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, s.options.port);
  } else {
    tcp::resolver resolver(*s.contexts[0]);
    auto results = resolver.resolve(s.options.host, std::to_string(s.options.port),
                                    tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return fail(ErrorCode::kUnavailable, "cannot listen on " + where + ": cannot resolve host '" +
                                               s.options.host + "'" +
                                               (ec ? ": " + ec.message() : std::string()));
    }
    endpoint = results.begin()->endpoint();
  }

  auto failed = [&](const char* step) {
    error_code ignored;
    s.acceptor.close(ignored);
    return fail(ErrorCode::kUnavailable,
                "cannot listen on " + where + ": " + step + ": " + ec.message());
  };
  s.acceptor.open(endpoint.protocol(), ec);
  if (ec) return failed("open");
  s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return failed("reuse_address");
  s.acceptor.bind(endpoint, ec);
  if (ec) return failed("bind");
  s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return failed("listen");
  uint16_t port = s.acceptor.local_endpoint(ec).port();
  if (ec) return failed("local_endpoint");
  s.listening = true;

  for (auto& context : s.contexts) s.keep_running.push_back(asio::make_work_guard(*context));
  asio::co_spawn(*s.contexts[0], s.accept_loop(), asio::detached);
  if (s.options.stop_on_signals) {
    s.signals.add(SIGINT);
    s.signals.add(SIGTERM);
    s.signals.async_wait([this](const error_code& e, int) {
      if (!e) impl_->do_stop();
    });
  }
  return port;
}

void HttpServer::run() {
  Impl& s = *impl_;
  std::vector<std::thread> workers;
  workers.reserve(s.contexts.size() - 1);
  for (size_t i = 1; i < s.contexts.size(); ++i) {
    workers.emplace_back([&context = *s.contexts[i]] { context.run(); });
  }
  s.contexts[0]->run();
  for (auto& t : workers) t.join();
}

void HttpServer::stop() {
  impl_->core.stopping.store(true);
  asio::post(*impl_->contexts[0], [this] { impl_->do_stop(); });
}

ServerStats HttpServer::stats() const {
  ServerStats out;
  out.open_connections = impl_->core.open_connections.load();
  out.accepted_connections = impl_->core.accepted_connections.load();
  out.rejected_connections = impl_->core.rejected_connections.load();
  out.rejected_per_ip = impl_->core.rejected_per_ip.load();
  out.evicted_idle = impl_->core.evicted_idle.load();
  out.abandoned_requests = impl_->core.abandoned_requests.load();
  out.padding_writes = impl_->core.padding_writes.load();
  {
    std::lock_guard lock(impl_->core.mu);
    for (const auto& [session, weak] : impl_->core.sessions) {
      if (session->idle_since.load(std::memory_order_relaxed) == detail::SessionBase::kBusy) {
        ++out.busy_connections;
      }
    }
  }
  return out;
}

}  // namespace c2c::net
