#pragma once
// Router: the relay's route table and its one error -> HTTP mapping.
//
// For every request, in order: match the route -> rate limit (per client IP and route class)
// -> auth gate (route class, dev/prod, Bearer, Ed25519 header) -> parse the JSON body into the
// route's protocol DTO -> RelayService -> Store::wait_durable() for routes that write -> response.
// It sees net::Request/net::Response values only; no sockets, so tests call it directly.
//
// Threading: handle() runs on the calling (I/O) thread. A request that wrote is answered once its
// writes are durable (Store::when_durable): inline for memory storage, by the SQLite writer thread
// right after the transaction holding them, so no I/O thread waits for fsync and concurrent
// requests share one commit. Either way the responder is called exactly once.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "c2c/core/clock.hpp"
#include "c2c/net/http_types.hpp"
#include "c2c/relay/server/activity.hpp"
#include "c2c/relay/server/auth.hpp"
#include "c2c/relay/server/metrics.hpp"
#include "c2c/relay/server/outcome.hpp"
#include "c2c/relay/server/rate_limiter.hpp"
#include "c2c/relay/server/relay_service.hpp"
#include "c2c/relay/server/stream_hub.hpp"
#include "c2c/relay/store/store.hpp"

namespace c2c::relay::server {

// HTTP status of each failure kind (the single mapping point).
int status_of(FailureKind kind);
// Retry-After (seconds) of a 503 storage_unavailable answer.
inline constexpr int kStorageRetryAfterSeconds = 2;

// The response for a failure: {"ok":false,"error_code",..,"error",..[,"existing_lease"|"lease"]}.
net::Response error_response(const Failure& f);

class Router {
 public:
  Router(RelayService& service, Authenticator& auth, Store& store, RateLimiter& limiter,
         const Clock& clock);

  // The net::Handler.
  void handle(net::Request req, net::Responder respond);
  // The same pipeline, answered on the calling thread (tests, and the inline path).
  net::Response handle_sync(const net::Request& req);

  Metrics& metrics() { return metrics_; }
  // The persist dir /health reports ("" when none was configured).
  void set_persist_dir(std::string dir) { persist_dir_ = std::move(dir); }
  // Deliveries, GC runs and failed requests for the dashboard (GET /, /dashboard/state).
  Activity& activity() { return activity_; }
  // Records a GC run (the --gc-interval loop calls this; POST /gc records itself).
  void record_gc(const Reply<protocol::GcResponse>& r);
  // Connection counts of the server in front of the router (for /metrics and the dashboard);
  // without it they are left out.
  void set_connection_gauges(std::function<ConnectionGauges()> source) {
    connection_gauges_ = std::move(source);
  }

  // Wakes the streams of the nodes the calling thread's service calls delivered to, once those
  // writes are durable. Each request does it itself; a thread that calls the service outside a
  // request (the GC loop) calls it after.
  void wake_streams();

  // Offers POST /stream: long-polls wait in `hub` (at most max_wait seconds). Without a hub the
  // route answers 404 like a relay that predates it (what `relay serve --no-stream` does).
  // keepalive_seconds: the interval of the keep-alive spaces the HTTP server writes to a waiting
  // long-poll (net::ServerLimits::pad_interval), announced in every frame; 0 = none.
  void set_stream_hub(StreamHub* hub, double max_wait_seconds = 300, double keepalive_seconds = 0) {
    hub_ = hub;
    max_stream_wait_ = max_wait_seconds;
    stream_keepalive_ = keepalive_seconds;
  }

 private:
  using Handler = net::Response (Router::*)(const net::Request&, const Caller&);
  struct Route {
    std::string_view method;
    std::string_view path;  // exact path, or a prefix when `prefix`
    bool prefix;
    RouteClass cls;
    RateClass rate;
    bool writes;  // commit the store before answering
    Handler handler;
  };

  const Route* match(const net::Request& req, size_t* metric_index) const;
  // Rate limit; returns a 429 response when denied.
  std::optional<net::Response> limit(const net::Request& req, const Route* route);
  // Runs the pipeline; *needs_commit is set when the answer must wait for Store::wait_durable().
  // Match, rate-limit and process: the answer, before its writes are durable.
  net::Response answer(const net::Request& req, size_t* metric_index, bool* needs_commit);
  net::Response process(const net::Request& req, const Route* route, bool* needs_commit);
  void finish(size_t metric_index, std::chrono::steady_clock::time_point start,
              const net::Response& resp);
  // The gauges /metrics and the dashboard sample.
  Gauges sample_gauges();
  // Records the metric and answers once every write made so far is durable (Store::when_durable).
  void respond_when_durable(net::Response resp, net::Responder respond, size_t metric_index,
                            std::chrono::steady_clock::time_point start);

  net::Response health(const net::Request&, const Caller&);
  net::Response status_page(const net::Request&, const Caller&);
  net::Response metrics_text(const net::Request&, const Caller&);
  net::Response dashboard_state(const net::Request&, const Caller&);
  net::Response dashboard_events(const net::Request&, const Caller&);
  // Whether the caller sees the dashboard's details (dev mode, or prod with the admin token);
  // a wrong token is the 401 to answer.
  Reply<bool> dashboard_detail(const net::Request& req);
  protocol::Json dashboard_json(bool detail);
  net::Response register_alias(const net::Request&, const Caller&);
  net::Response heartbeat(const net::Request&, const Caller&);
  net::Response list(const net::Request&, const Caller&);
  net::Response send(const net::Request&, const Caller&);
  net::Response send_batch(const net::Request&, const Caller&);
  net::Response send_all(const net::Request&, const Caller&);
  net::Response poll_inbox(const net::Request&, const Caller&);
  net::Response peek_inbox(const net::Request&, const Caller&);
  net::Response post_receipts(const net::Request&, const Caller&);
  net::Response fetch_receipts(const net::Request&, const Caller&);
  net::Response join_room(const net::Request&, const Caller&);
  net::Response leave_room(const net::Request&, const Caller&);
  net::Response send_room(const net::Request&, const Caller&);
  net::Response list_rooms(const net::Request&, const Caller&);
  net::Response room_history(const net::Request&, const Caller&);
  net::Response gc(const net::Request&, const Caller&);
  net::Response dead_letter(const net::Request&, const Caller&);
  net::Response set_room_visibility(const net::Request&, const Caller&);
  net::Response invite_room(const net::Request&, const Caller&);
  net::Response uninvite_room(const net::Request&, const Caller&);
  net::Response admin_unbind(const net::Request&, const Caller&);
  net::Response pubkey(const net::Request&, const Caller&);
  // Without waiting (handle_sync, or no hub); handle() sends POST /stream to stream_async.
  net::Response stream(const net::Request&, const Caller&);
  void stream_async(const net::Request& req, const Route* route, net::Responder respond,
                    size_t metric_index, std::chrono::steady_clock::time_point start);
  // The 200 answer carrying `frame` with this relay's keep-alive interval, counted for /metrics
  // and the dashboard.
  net::Response frame_response(const std::string& node_id, protocol::StreamFrame frame);

  static const std::vector<Route>& routes();
  static std::vector<std::string> metric_labels();

  RelayService& service_;
  Authenticator& auth_;
  Store& store_;
  RateLimiter& limiter_;
  const Clock& clock_;
  Metrics metrics_;
  std::string persist_dir_;
  Activity activity_;
  std::function<ConnectionGauges()> connection_gauges_;
  std::unordered_map<std::string_view, size_t> exact_;  // path -> index in routes()
  StreamHub* hub_ = nullptr;
  double max_stream_wait_ = 300;
  double stream_keepalive_ = 0;
};

}  // namespace c2c::relay::server
