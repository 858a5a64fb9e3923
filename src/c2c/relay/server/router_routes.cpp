// Router: one small handler per route (parse the DTO, call the service, shape the reply).
#include "c2c/core/text.hpp"
#include "c2c/core/version.hpp"
#include "c2c/relay/protocol/routes.hpp"
#include "c2c/relay/server/http_util.hpp"
#include "c2c/relay/server/router.hpp"
#include "c2c/relay/server/router_support.hpp"

namespace c2c::relay::server {

#define C2C_PARSE(Dto, var, req)                                  \
  auto var##_parsed = parse_body<protocol::Dto>(req);             \
  if (!var##_parsed) return error_response(var##_parsed.error()); \
  const protocol::Dto& var = var##_parsed.value()  // NOLINT(bugprone-macro-parentheses): a name

net::Response Router::health(const net::Request&, const Caller&) {
  protocol::HealthResponse h;
  h.version = kVersion;
  h.git_hash = kGitHash;
  h.auth_mode = std::string(auth_.auth_mode());
  h.storage = std::string(store_.kind());
  h.persist_dir = persist_dir_;
  h.messages_persisted = h.storage != "memory";
  h.room_history_persisted = h.messages_persisted || !persist_dir_.empty();
  // false while writes would be refused: a full disk (SQLite) or an unreachable PostgreSQL.
  h.writable = !store_.write_blocked().has_value() && !store_.unreachable().has_value();
  return json_response(200, h.to_json());
}

Gauges Router::sample_gauges() {
  Gauges g = service_.gauges();
  g.rate_limit_buckets = limiter_.bucket_count();
  if (connection_gauges_) g.connections = connection_gauges_();
  const auto a = activity_.snapshot();
  g.messages_sent = a.messages_sent;
  g.messages_polled = a.messages_polled;
  g.gc_runs = a.gc_runs;
  g.stream_frames = a.stream_frames;
  g.stream_messages = a.stream_messages;
  g.stream_receipts = a.stream_receipts;
  g.receipts_accepted = a.receipts_accepted;
  g.receipts_fetched = a.receipts_fetched;
  if (hub_ != nullptr) g.streams_open = hub_->waiting();
  return g;
}

net::Response Router::metrics_text(const net::Request&, const Caller&) {
  const Gauges g = sample_gauges();
  net::Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.render(g);
  return r;
}

net::Response Router::register_alias(const net::Request& req, const Caller&) {
  C2C_PARSE(RegisterRequest, body, req);
  return reply(service_.register_alias(body));
}

net::Response Router::heartbeat(const net::Request& req, const Caller& caller) {
  C2C_PARSE(SessionRequest, body, req);
  return reply(service_.heartbeat(body, caller.verified_alias));
}

net::Response Router::list(const net::Request& req, const Caller&) {
  const bool include_dead = protocol::is_truthy(query_param(req.query, "include_dead"));
  return json_response(200, service_.list(include_dead).to_json());
}

// The dashboard records what was delivered as metadata: never the content.
net::Response Router::send(const net::Request& req, const Caller& caller) {
  C2C_PARSE(SendRequest, body, req);
  auto r = service_.send(body, caller.verified_alias);
  if (r && !r.value().duplicate) {
    activity_.delivery({0, "send", body.from_alias, body.to_alias, body.content.size(), 1});
  }
  return reply(r);
}

net::Response Router::send_batch(const net::Request& req, const Caller& caller) {
  C2C_PARSE(SendBatchRequest, body, req);
  auto r = service_.send_batch(body, caller.verified_alias);
  if (r) {
    // One dashboard line per batch: its new messages, to their one recipient or "*".
    size_t count = 0;
    size_t bytes = 0;
    std::string to;
    for (size_t i = 0; i < r.value().results.size(); ++i) {
      const auto& result = r.value().results[i];
      if (!result.ok || result.duplicate) continue;
      const auto& m = body.messages[i];
      ++count;
      bytes += m.content.size();
      to = to.empty() || iequals(to, m.to_alias) ? m.to_alias : "*";
    }
    if (count > 0) activity_.delivery({0, "send_batch", body.from_alias, to, bytes, count});
  }
  return reply(r);
}

net::Response Router::send_all(const net::Request& req, const Caller& caller) {
  C2C_PARSE(SendAllRequest, body, req);
  auto r = service_.send_all(body, caller.verified_alias);
  if (r && !r.value().delivered.empty()) {
    activity_.delivery(
        {0, "send_all", body.from_alias, "*", body.content.size(), r.value().delivered.size()});
  }
  return reply(r);
}

net::Response Router::poll_inbox(const net::Request& req, const Caller& caller) {
  C2C_PARSE(PollRequest, body, req);
  auto r = service_.poll_inbox(body, caller.verified_alias);
  if (r && !r.value().messages.empty()) {
    size_t bytes = 0;
    for (const auto& m : r.value().messages) bytes += m.content.size();
    const std::string& to = r.value().messages.front().to_alias;
    activity_.delivery(
        {0, "poll", "", to.substr(0, to.find('#')), bytes, r.value().messages.size()});
  }
  return reply(r);
}

net::Response Router::peek_inbox(const net::Request& req, const Caller& caller) {
  C2C_PARSE(SessionRequest, body, req);
  return reply(service_.peek_inbox(body, caller.verified_alias));
}

net::Response Router::join_room(const net::Request& req, const Caller& caller) {
  C2C_PARSE(RoomOpRequest, body, req);
  return reply(service_.join_room(body, caller.verified_alias));
}

net::Response Router::leave_room(const net::Request& req, const Caller& caller) {
  C2C_PARSE(RoomOpRequest, body, req);
  return reply(service_.leave_room(body, caller.verified_alias));
}

net::Response Router::send_room(const net::Request& req, const Caller& caller) {
  C2C_PARSE(SendRoomRequest, body, req);
  auto r = service_.send_room(body, caller.verified_alias);
  if (r && !r.value().delivered.empty()) {
    activity_.delivery({0, "send_room", body.from_alias, "#" + body.room_id, body.content.size(),
                        r.value().delivered.size()});
  }
  return reply(r);
}

net::Response Router::list_rooms(const net::Request& req, const Caller& caller) {
  const std::string named(query_param(req.query, "alias"));
  return json_response(200, service_.list_rooms(named, caller.verified_alias).to_json());
}

net::Response Router::room_history(const net::Request& req, const Caller& caller) {
  C2C_PARSE(RoomHistoryRequest, body, req);
  return reply(service_.room_history(body, caller.verified_alias));
}

net::Response Router::gc(const net::Request&, const Caller&) {
  // The body is ignored (docs/protocol.md §4).
  auto r = service_.gc();
  record_gc(r);
  return reply(r);
}

void Router::record_gc(const Reply<protocol::GcResponse>& r) {
  GcEvent e;
  if (r) {
    e.expired = r.value().expired.size();
    e.pruned = r.value().pruned;
  } else {
    e.error = r.error().error.message;
  }
  activity_.gc(std::move(e));
}

net::Response Router::dead_letter(const net::Request&, const Caller&) {
  return json_response(200, service_.dead_letters().to_json());
}

net::Response Router::set_room_visibility(const net::Request& req, const Caller& caller) {
  C2C_PARSE(SetVisibilityRequest, body, req);
  return reply(service_.set_room_visibility(body, caller.verified_alias));
}

net::Response Router::invite_room(const net::Request& req, const Caller& caller) {
  C2C_PARSE(InviteRequest, body, req);
  return reply(service_.invite(body, true, caller.verified_alias));
}

net::Response Router::uninvite_room(const net::Request& req, const Caller& caller) {
  C2C_PARSE(InviteRequest, body, req);
  return reply(service_.invite(body, false, caller.verified_alias));
}

net::Response Router::admin_unbind(const net::Request& req, const Caller&) {
  C2C_PARSE(UnbindRequest, body, req);
  return reply(service_.unbind(body));
}

net::Response Router::pubkey(const net::Request& req, const Caller&) {
  const std::string alias = req.path.substr(protocol::route::kPubkeyPrefix.size());
  return reply(service_.pubkey(alias));
}

net::Response Router::post_receipts(const net::Request& req, const Caller& caller) {
  C2C_PARSE(PostReceiptsRequest, body, req);
  auto r = service_.post_receipts(body, caller.verified_alias);
  if (r) activity_.receipts(static_cast<size_t>(r.value().accepted), 0);
  return reply(r);
}

net::Response Router::fetch_receipts(const net::Request& req, const Caller& caller) {
  C2C_PARSE(FetchReceiptsRequest, body, req);
  auto r = service_.fetch_receipts(body, caller.verified_alias);
  if (r) activity_.receipts(0, r.value().receipts.size());
  return reply(r);
}

net::Response Router::stream(const net::Request& req, const Caller& caller) {
  if (hub_ == nullptr) {  // as a relay from before the stream answers
    return error_response(
        failure(FailureKind::kNotFound, ErrorCode::kNotFound, "unknown endpoint: " + req.path));
  }
  C2C_PARSE(StreamRequest, body, req);
  auto plan = service_.open_stream(body, caller.verified_alias);
  if (!plan) return error_response(plan.error());
  return frame_response(plan.value().node_id, service_.stream_frame(plan.value()));
}

net::Response Router::frame_response(const std::string& node_id, protocol::StreamFrame frame) {
  size_t bytes = 0;
  for (const auto& m : frame.messages) bytes += m.content.size();
  activity_.stream_frame(node_id, frame.messages.size(), frame.receipts.size(), bytes);
  frame.keepalive = stream_keepalive_;
  return json_response(200, frame.to_json());
}

#undef C2C_PARSE

}  // namespace c2c::relay::server
