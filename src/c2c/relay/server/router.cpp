// Router: route table, pipeline (rate limit -> auth -> handler -> commit) and error mapping.
#include "c2c/relay/server/router.hpp"

#include <cmath>

#include "c2c/relay/protocol/routes.hpp"
#include "c2c/relay/server/http_util.hpp"
#include "c2c/relay/server/router_support.hpp"

namespace c2c::relay::server {

namespace route = protocol::route;

int status_of(FailureKind kind) {
  switch (kind) {
    case FailureKind::kInvalid:
      return 400;
    case FailureKind::kUnauthenticated:
      return 401;
    case FailureKind::kForbidden:
      return 403;
    case FailureKind::kNotFound:
      return 404;
    case FailureKind::kTooLarge:
      return 413;
    case FailureKind::kRejected:
      return 200;
    case FailureKind::kRateLimited:
      return 429;
    case FailureKind::kUnavailable:
      return 503;
    case FailureKind::kInternal:
      return 500;
  }
  return 500;
}

net::Response error_response(const Failure& f) {
  protocol::ErrorResponse body;
  body.error_code = std::string(c2c::to_wire(f.error.code));
  body.error = f.error.message;
  body.existing_lease = f.existing_lease;
  body.lease = f.lease;
  net::Response resp = json_response(status_of(f.kind), body.to_json());
  if (f.kind == FailureKind::kUnavailable) {
    // About when the store's writer tries again (it backs off to one attempt every 2 s).
    resp.headers.push_back({"Retry-After", std::to_string(kStorageRetryAfterSeconds)});
  }
  return resp;
}

const std::vector<Router::Route>& Router::routes() {
  using C = RouteClass;
  using R = RateClass;
  // clang-format off
  static const std::vector<Route> table = {
    // method  path                       prefix class      rate            writes handler
    {"GET",  route::kHealth,             false, C::kUnauth, R::kNone,        false, &Router::health},
    {"GET",  route::kStatusPage,         false, C::kUnauth, R::kNone,        false, &Router::status_page},
    {"GET",  route::kMetrics,            false, C::kAdmin,  R::kNone,        false, &Router::metrics_text},
    // Counts for everyone; the operator details need the admin token in prod (dashboard_state.cpp).
    {"GET",  route::kDashboardState,     false, C::kUnauth, R::kNone,        false, &Router::dashboard_state},
    {"GET",  route::kDashboardEvents,    false, C::kUnauth, R::kNone,        false, &Router::dashboard_events},
    {"POST", route::kRegister,           false, C::kSelf,   R::kRegister,    true,  &Router::register_alias},
    {"POST", route::kHeartbeat,          false, C::kPeer,   R::kSession,     true,  &Router::heartbeat},
    {"GET",  route::kList,               false, C::kPeer,   R::kNone,        false, &Router::list},
    {"POST", route::kSend,               false, C::kPeer,   R::kSend,        true,  &Router::send},
    {"POST", route::kSendAll,            false, C::kPeer,   R::kSend,        true,  &Router::send_all},
    {"POST", route::kSendBatch,          false, C::kPeer,   R::kSend,        true,  &Router::send_batch},
    // docs/decisions.md D3: inbox reads are peer routes (signed by the session's owner in prod).
    {"POST", route::kPollInbox,          false, C::kPeer,   R::kSession,     true,  &Router::poll_inbox},
    {"POST", route::kPeekInbox,          false, C::kPeer,   R::kSession,     false, &Router::peek_inbox},
    {"POST", route::kJoinRoom,           false, C::kSelf,   R::kNone,        true,  &Router::join_room},
    {"POST", route::kLeaveRoom,          false, C::kSelf,   R::kNone,        true,  &Router::leave_room},
    {"POST", route::kSendRoom,           false, C::kSelf,   R::kSend,        true,  &Router::send_room},
    // Open, but a verified Ed25519 header names the member an invite-only room is shown to.
    {"GET",  route::kListRooms,          false, C::kSelf,   R::kNone,        false, &Router::list_rooms},
    {"POST", route::kRoomHistory,        false, C::kSelf,   R::kRoomHistory, false, &Router::room_history},
    {"POST", route::kGc,                 false, C::kAdmin,  R::kNone,        true,  &Router::gc},
    {"GET",  route::kDeadLetter,         false, C::kAdmin,  R::kNone,        false, &Router::dead_letter},
    {"POST", route::kSetRoomVisibility,  false, C::kSelf,   R::kNone,        true,  &Router::set_room_visibility},
    {"POST", route::kInviteRoom,         false, C::kPeer,   R::kNone,        true,  &Router::invite_room},
    {"POST", route::kUninviteRoom,       false, C::kPeer,   R::kNone,        true,  &Router::uninvite_room},
    {"POST", route::kAdminUnbind,        false, C::kAdmin,  R::kNone,        true,  &Router::admin_unbind},
    {"GET",  route::kPubkeyPrefix,       true,  C::kPeer,   R::kPubkey,      false, &Router::pubkey},
    {"POST", route::kReceipts,           false, C::kPeer,   R::kSession,     true,  &Router::post_receipts},
    {"POST", route::kFetchReceipts,      false, C::kPeer,   R::kSession,     true,  &Router::fetch_receipts},
    // Acknowledgements write; the long-poll itself is answered by stream_async.
    {"POST", route::kStream,             false, C::kPeer,   R::kNone,        true,  &Router::stream},
  };
  // clang-format on
  return table;
}

std::vector<std::string> Router::metric_labels() {
  std::vector<std::string> labels;
  for (const auto& r : routes()) {
    labels.push_back(r.prefix ? std::string(r.path) + ":alias" : std::string(r.path));
  }
  labels.emplace_back("unknown");
  return labels;
}

Router::Router(RelayService& service, Authenticator& auth, Store& store, RateLimiter& limiter,
               const Clock& clock)
    : service_(service),
      auth_(auth),
      store_(store),
      limiter_(limiter),
      clock_(clock),
      metrics_(metric_labels()),
      activity_(clock) {
  const auto& table = routes();
  for (size_t i = 0; i < table.size(); ++i) {
    if (!table[i].prefix) exact_.emplace(table[i].path, i);
  }
}

const Router::Route* Router::match(const net::Request& req, size_t* metric_index) const {
  const auto& table = routes();
  *metric_index = table.size();  // "unknown"
  const Route* found = nullptr;
  size_t index = 0;
  if (auto it = exact_.find(req.path); it != exact_.end()) {
    found = &table[it->second];
    index = it->second;
  } else {
    for (size_t i = 0; i < table.size(); ++i) {
      if (table[i].prefix && req.path.size() > table[i].path.size() &&
          starts_with(req.path, table[i].path)) {
        found = &table[i];
        index = i;
        break;
      }
    }
  }
  // A known path with another method is an unknown endpoint, (docs/protocol.md §1).
  if (!found || found->method != req.method) return nullptr;
  *metric_index = index;
  return found;
}

std::optional<net::Response> Router::limit(const net::Request& req, const Route* route) {
  if (!route || route->rate == RateClass::kNone) return std::nullopt;
  const RateDecision d = limiter_.check(req.remote_ip, route->rate, clock_.now());
  if (d.allowed) return std::nullopt;
  protocol::ErrorResponse body;
  body.error_code = "rate_limit_exceeded";
  char text[128];
  std::snprintf(text, sizeof text, "rate limit exceeded for %s requests; retry after %.1f s",
                std::string(RateLimiter::name(route->rate)).c_str(), d.retry_after);
  body.error = text;
  body.retry_after = d.retry_after;
  net::Response resp = json_response(429, body.to_json());
  resp.headers.push_back(
      {"Retry-After", std::to_string(std::max<long>(1, std::lround(std::ceil(d.retry_after))))});
  return resp;
}

net::Response Router::process(const net::Request& req, const Route* route, bool* needs_commit) {
  *needs_commit = false;
  RouteClass cls = route ? route->cls : RouteClass::kPeer;  // unknown paths are peer-class
  if (route && route->path == route::kList &&
      protocol::is_truthy(query_param(req.query, "include_dead"))) {
    cls = RouteClass::kAdmin;
  }
  if (route && route->path == route::kMetrics && !auth_.prod_mode()) cls = RouteClass::kUnauth;
  auto gate = auth_.gate(cls, req);
  if (!gate) return error_response(gate.error());
  if (!route) {
    return error_response(
        failure(FailureKind::kNotFound, ErrorCode::kNotFound, "unknown endpoint: " + req.path));
  }
  // Acknowledge only what is durable: a writing route is answered once its writes (its request
  // nonce included, recorded before them) are committed. A read waits for nothing: its nonce is
  // refused as a replay from memory and persisted best-effort, so reads keep working on a full
  // disk (docs/reliability.md "Disk full").
  if (route->writes) {
    // While the store cannot persist, a write is refused before it touches the state (applying
    // it in memory would only pile it onto the failing retry), and at once: nothing to wait for.
    if (auto blocked = store_.write_blocked()) return error_response(storage_failure(*blocked));
  }
  *needs_commit = route->writes;
  try {
    return (this->*route->handler)(req, gate.value());
  } catch (const std::exception& e) {
    // A bug must not take the connection (or the process) down: answer 500 and move on.
    return error_response(failure(FailureKind::kInternal, ErrorCode::kInternal,
                                  std::string("internal error: ") + e.what()));
  }
}

void Router::finish(size_t metric_index, std::chrono::steady_clock::time_point start,
                    const net::Response& resp) {
  const auto elapsed = std::chrono::steady_clock::now() - start;
  metrics_.record(metric_index, resp.status, std::chrono::duration<double>(elapsed).count());
  if (resp.status >= 400) {
    ErrorEvent e;
    const auto& table = routes();
    e.route = metric_index < table.size() ? std::string(table[metric_index].path) : "unknown";
    e.status = resp.status;
    // Our own compact JSON: {"ok":false,"error_code":"...",...}
    constexpr std::string_view kKey = "\"error_code\":\"";
    if (const auto at = resp.body.find(kKey); at != std::string::npos) {
      const auto begin = at + kKey.size();
      const auto end = resp.body.find('"', begin);
      if (end != std::string::npos && end - begin <= 64) {
        e.error_code = resp.body.substr(begin, end - begin);
      }
    }
    activity_.error(std::move(e));
  }
}

net::Response Router::answer(const net::Request& req, size_t* metric_index, bool* needs_commit) {
  const Route* route = match(req, metric_index);
  if (auto denied = limit(req, route)) return std::move(*denied);
  (void)store_.take_failure();  // one left by earlier work on this thread is not this request's
  net::Response resp = process(req, route, needs_commit);
  // A read or write the store could not do (PostgreSQL down): what the service built from it is
  // not the truth, and a failed transaction was rolled back. Retry later (503 + Retry-After).
  if (auto failed = store_.take_failure()) return error_response(storage_failure(*failed));
  return resp;
}

net::Response Router::handle_sync(const net::Request& req) {
  const auto start = std::chrono::steady_clock::now();
  size_t metric_index = 0;
  bool needs_commit = false;
  net::Response resp = answer(req, &metric_index, &needs_commit);
  if (needs_commit) {
    if (auto r = store_.wait_durable(); !r) resp = error_response(storage_failure(r.error()));
  }
  wake_streams();
  finish(metric_index, start, resp);
  return resp;
}

void Router::wake_streams() {
  auto nodes = service_.take_woken_nodes();  // taken even without a hub, so it never grows
  if (nodes.empty()) return;
  // Never push what is not durable: the hub, and the other relays sharing the database, hear of
  // these nodes only after a commit that covers every write made before this call
  // (docs/relay-server.md, "Receive stream").
  store_.when_durable(
      [hub = hub_, store = &store_, nodes = std::move(nodes)](const Result<void>& committed) {
        if (!committed) return;
        if (hub != nullptr) hub->notify(nodes);
        store->publish_wake(nodes);
      });
}

void Router::stream_async(const net::Request& req, const Route* route, net::Responder respond,
                          size_t metric_index, std::chrono::steady_clock::time_point start) {
  // Answers once what the request wrote (its nonce, its acknowledgements) and what the frame
  // carries is durable; an empty frame to an ack-less request goes at once (below).
  auto send = [this, metric_index, start](net::Response resp, net::Responder to) {
    respond_when_durable(std::move(resp), std::move(to), metric_index, start);
  };
  auto gate = auth_.gate(route->cls, req);
  if (!gate) return send(error_response(gate.error()), std::move(respond));
  auto body = parse_body<protocol::StreamRequest>(req);
  if (!body) return send(error_response(body.error()), std::move(respond));
  auto plan = service_.open_stream(body.value(), gate.value().verified_alias);
  if (!plan) return send(error_response(plan.error()), std::move(respond));
  // An empty frame to a request that acknowledged nothing vouches for nothing stored: it waits
  // for no commit (its nonce is persisted best-effort, as a read's is). An idle stream's
  // re-poll then costs no transaction (docs/performance.md, "Receive stream").
  const bool acknowledged = !body.value().acks.empty() || !body.value().receipt_acks.empty();
  const double wait = std::min(body.value().wait, max_stream_wait_);
  const auto deadline = StreamHub::Clock::now() +
                        std::chrono::microseconds(static_cast<int64_t>(std::max(0.0, wait) * 1e6));
  // The node id is copied first: the callback below takes the plan (argument order is unspecified).
  const std::string node_id = plan.value().node_id;
  hub_->wait(node_id, deadline,
             [this, send, node_id, acknowledged, metric_index, start,
              plan = std::move(plan).value(), respond = std::move(respond)](bool final) mutable {
               protocol::StreamFrame frame;
               try {
                 frame = service_.stream_frame(plan);
               } catch (const std::exception& e) {
                 send(error_response(failure(FailureKind::kInternal, ErrorCode::kInternal,
                                             std::string("internal error: ") + e.what())),
                      std::move(respond));
                 return true;
               }
               const bool empty = frame.messages.empty() && frame.receipts.empty();
               if (empty && !final) return false;
               net::Response resp = frame_response(node_id, std::move(frame));
               if (empty && !acknowledged) {
                 finish(metric_index, start, resp);
                 respond(std::move(resp));
               } else {
                 send(std::move(resp), std::move(respond));
               }
               return true;
             });
}

// By value: every caller moves its request in (a move, not the copy the check assumes).
// NOLINTNEXTLINE(performance-unnecessary-value-param)
void Router::handle(net::Request req, net::Responder respond) {
  const auto start = std::chrono::steady_clock::now();
  size_t metric_index = 0;
  bool needs_commit = false;
  if (hub_ != nullptr && req.path == route::kStream) {
    const Route* route = match(req, &metric_index);
    if (route != nullptr && route->handler == &Router::stream) {
      if (auto denied = limit(req, route)) {
        finish(metric_index, start, *denied);
        respond(std::move(*denied));
        return;
      }
      stream_async(req, route, std::move(respond), metric_index, start);
      return;
    }
  }
  net::Response resp = answer(req, &metric_index, &needs_commit);
  wake_streams();
  if (!needs_commit) {
    finish(metric_index, start, resp);
    respond(std::move(resp));
    return;
  }
  respond_when_durable(std::move(resp), std::move(respond), metric_index, start);
}

void Router::respond_when_durable(net::Response resp, net::Responder respond, size_t metric_index,
                                  std::chrono::steady_clock::time_point start) {
  // Sent once the request's writes are durable: inline for memory storage, by the SQLite
  // writer thread right after the transaction holding them (no I/O thread waits for fsync).
  store_.when_durable([this, metric_index, start, resp = std::move(resp),
                       respond = std::move(respond)](const Result<void>& committed) mutable {
    net::Response out =
        committed ? std::move(resp) : error_response(storage_failure(committed.error()));
    finish(metric_index, start, out);
    respond(std::move(out));
  });
}

}  // namespace c2c::relay::server
