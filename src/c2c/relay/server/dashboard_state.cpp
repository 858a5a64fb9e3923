// GET /dashboard/state and GET /dashboard/events: what the operator page (GET /) shows, as JSON
// and as a stream of server-sent events (docs/relay-server.md "Dashboard"). Counts are public (they
// say no more than /health, /list_rooms and /metrics in dev mode); peers, deliveries, GC runs and
// failed requests are details, given in prod mode only with the admin token in an Authorization
// header. Deliveries are metadata: aliases, sizes and times, never contents.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "c2c/core/version.hpp"
#include "c2c/relay/server/http_util.hpp"
#include "c2c/relay/server/router.hpp"
#include "c2c/relay/server/router_support.hpp"

namespace c2c::relay::server {

namespace {
// Peers listed with their queue depth; a bigger relay shows the first ones by alias.
constexpr size_t kMaxPeers = 500;

std::string event_of(const protocol::Json& state) {
  return "data: " + state.dump() + "\n\n";
}
}  // namespace

Reply<bool> Router::dashboard_detail(const net::Request& req) {
  if (!auth_.prod_mode()) return true;
  if (find_header(req, "Authorization") == nullptr) return false;
  // A wrong token is told as such (the page says "token refused"), not silently ignored.
  C2C_TRY(auth_.gate(RouteClass::kAdmin, req));
  return true;
}

net::Response Router::dashboard_state(const net::Request& req, const Caller&) {
  const auto detail = dashboard_detail(req);
  if (!detail) return error_response(detail.error());
  return json_response(200, dashboard_json(*detail));
}

// The same state as server-sent events, one every half second for as long as the page stays
// open (at most 10 minutes per connection; the page reconnects).
net::Response Router::dashboard_events(const net::Request& req, const Caller&) {
  const auto detail = dashboard_detail(req);
  if (!detail) return error_response(detail.error());
  net::Response resp;
  resp.content_type = "text/event-stream";
  // X-Accel-Buffering: nginx in front passes each event on instead of buffering the body.
  resp.headers = {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}};
  resp.events = std::make_shared<net::EventStream>();
  resp.events->interval = std::chrono::milliseconds(500);
  // The first event is built here, inside the request: if its reads fail (PostgreSQL down), the
  // router answers 503 with Retry-After instead of opening a stream.
  auto first = std::make_shared<std::string>(event_of(dashboard_json(*detail)));
  resp.events->next_event = [this, d = *detail, first] {
    if (!first->empty()) return std::exchange(*first, std::string());
    (void)store_.take_failure();  // one left by a request on this I/O thread is not ours
    std::string event = event_of(dashboard_json(d));
    // A state built from failed reads is not shown: the stream ends, the page says
    // "disconnected" and reconnects, and gets the 503 above until the database is back.
    return store_.take_failure() ? std::string() : event;
  };
  return resp;
}

protocol::Json Router::dashboard_json(bool detail) {
  const Gauges g = sample_gauges();
  const auto a = activity_.snapshot();
  protocol::Json counts = {{"peers_alive", g.leases_alive},
                           {"peers_total", g.leases_total},
                           {"queued_messages", g.queued_messages},
                           {"messages_sent", a.messages_sent},
                           {"messages_polled", a.messages_polled},
                           {"gc_runs", a.gc_runs},
                           {"errors", a.errors},
                           {"stream_frames", g.stream_frames},
                           {"stream_messages", g.stream_messages},
                           {"stream_receipts", g.stream_receipts},
                           {"receipts_accepted", g.receipts_accepted},
                           {"receipts_fetched", g.receipts_fetched}};
  // null when the relay offers no receive stream (--no-stream).
  counts["streams_open"] = g.streams_open ? protocol::Json(*g.streams_open) : nullptr;
  counts["connections_open"] = g.connections ? protocol::Json(g.connections->open) : nullptr;
  counts["connections_accepted"] =
      g.connections ? protocol::Json(g.connections->accepted) : nullptr;
  protocol::Json out = {{"ok", true},
                        {"version", std::string(kVersion)},
                        {"git_hash", std::string(kGitHash)},
                        {"auth_mode", std::string(auth_.auth_mode())},
                        {"storage", std::string(store_.kind())},
                        {"started_at", a.started_at},
                        {"now", a.now},
                        {"detail", detail},
                        {"counts", std::move(counts)},
                        {"per_second", a.per_second}};

  // Public counts show what anonymous /list_rooms shows (invite-only rooms stay hidden,
  // docs/relay-server.md "Invite-only rooms"); the admin view lists every room.
  std::vector<protocol::RoomInfo> rooms;
  if (detail) {
    for (auto& room : store_.list_rooms()) {
      protocol::RoomInfo info;
      info.room_id = std::move(room.room_id);
      info.visibility = std::move(room.visibility);
      info.members = std::move(room.members);
      rooms.push_back(std::move(info));
    }
  } else {
    rooms = service_.list_rooms(/*named=*/"", /*signer=*/"").rooms;
  }
  std::sort(rooms.begin(), rooms.end(),
            [](const auto& x, const auto& y) { return x.room_id < y.room_id; });
  protocol::Json room_list = protocol::Json::array();
  for (const auto& r : rooms) {
    protocol::Json j = {
        {"room_id", r.room_id}, {"visibility", r.visibility}, {"members", r.members.size()}};
    if (detail) j["member_aliases"] = r.members;
    room_list.push_back(std::move(j));
  }
  out["counts"]["rooms"] = rooms.size();
  out["rooms"] = std::move(room_list);
  if (!detail) return out;

  // Queue depth per inbox, matched to the lease that owns it.
  std::map<std::pair<std::string, std::string>, size_t> depth;
  for (const auto& key : store_.inbox_keys()) {
    depth[{key.node_id, key.session_id}] = store_.peek(key).size();
  }
  auto peers = service_.list(/*include_dead=*/true).peers;
  std::sort(peers.begin(), peers.end(),
            [](const auto& x, const auto& y) { return x.alias < y.alias; });
  protocol::Json peer_list = protocol::Json::array();
  for (size_t i = 0; i < peers.size() && i < kMaxPeers; ++i) {
    const auto& p = peers[i];
    const auto d = depth.find({p.node_id, p.session_id});
    peer_list.push_back({{"alias", p.alias},
                         {"node_id", p.node_id},
                         {"client_type", p.client_type},
                         {"alive", p.alive},
                         {"last_seen", p.last_seen},
                         {"queued", d == depth.end() ? 0 : d->second}});
  }
  out["peers"] = std::move(peer_list);
  protocol::Json deliveries = protocol::Json::array();
  for (const auto& d : a.deliveries) {
    deliveries.push_back({{"ts", d.ts},
                          {"kind", d.kind},
                          {"from", d.from},
                          {"to", d.to},
                          {"bytes", d.bytes},
                          {"count", d.count}});
  }
  out["deliveries"] = std::move(deliveries);
  protocol::Json gc_runs = protocol::Json::array();
  for (const auto& e : a.gc_runs_recent) {
    gc_runs.push_back(
        {{"ts", e.ts}, {"expired", e.expired}, {"pruned", e.pruned}, {"error", e.error}});
  }
  out["gc"] = std::move(gc_runs);
  protocol::Json errors = protocol::Json::array();
  for (const auto& e : a.errors_recent) {
    errors.push_back(
        {{"ts", e.ts}, {"route", e.route}, {"status", e.status}, {"error_code", e.error_code}});
  }
  out["errors"] = std::move(errors);
  return out;
}

}  // namespace c2c::relay::server
