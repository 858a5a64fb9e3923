#include "c2c/connector/stream.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>

#include "c2c/connector/run_loop.hpp"
#include "c2c/core/text.hpp"

namespace c2c::connector {

namespace {
// Messages per frame asked of the relay (its default is 256; the byte bound stays its default
// 1 MiB, docs/relay-server.md): fewer, larger frames mean fewer inbox writes and round trips
// when a backlog drains.
constexpr int64_t kFrameMessages = 1024;
}  // namespace

StreamReceiver::StreamReceiver(broker::Broker& broker, relay::RelayClient& client,
                               std::string node_id, ReceiptSink receipts)
    : broker_(broker),
      client_(client),
      node_id_(std::move(node_id)),
      receipts_(std::move(receipts)) {}

StreamPoll StreamReceiver::poll(const std::vector<StreamSession>& sessions, double wait_seconds) {
  StreamPoll out;
  relay::protocol::StreamRequest req;
  req.node_id = node_id_;
  req.acks = acks_;
  req.receipt_acks = receipt_acks_;
  req.wait = wait_seconds;
  req.max_messages = kFrameMessages;
  req.receipt_batches = true;  // take_receipts reads them
  auto reply = client_.stream(req, sessions.front().alias);
  if (!reply) {
    out.kind = StreamPoll::Kind::kUnreachable;
    out.error = reply.error().message;
    return out;
  }
  if (!reply->ok()) {
    out.kind =
        reply->http_status == 404 ? StreamPoll::Kind::kUnsupported : StreamPoll::Kind::kRefused;
    out.error = reply->describe();
    return out;
  }
  acks_.clear();  // the relay applied them
  receipt_acks_.clear();
  auto frame = relay::protocol::StreamFrame::from_json(reply->body);
  if (!frame) {
    out.kind = StreamPoll::Kind::kRefused;
    out.error = "malformed stream frame: " + frame.error().message;
    return out;
  }
  out.more = frame->more;
  out.keepalive = frame->keepalive;
  out.received = static_cast<int>(frame->messages.size());
  // Per session, in frame order: write, then remember the highest seq for the next request.
  std::vector<std::string> order;
  for (const auto& m : frame->messages) {
    if (std::find(order.begin(), order.end(), m.session_id) == order.end()) {
      order.push_back(m.session_id);
    }
  }
  const double now = broker_.clock().now();
  for (const auto& sid : order) {
    std::string alias;
    for (const auto& s : sessions) {
      if (s.session_id == sid) alias = s.alias;
    }
    std::vector<broker::Message> local;
    uint64_t highest = 0;
    for (const auto& m : frame->messages) {
      if (m.session_id != sid) continue;
      highest = std::max(highest, m.seq);
      if (m.message_id.empty() || m.content.empty()) continue;  // nothing to write
      local.push_back(inbound_message(m, alias, node_id_, now));
    }
    auto written = broker_.deliver(sid, local);
    if (!written) {
      out.kind = StreamPoll::Kind::kLocalError;
      out.error = "deliver to session " + sid + ": " + written.error().message;
      continue;  // not acknowledged: the relay sends it again
    }
    out.delivered += static_cast<int>(written.value());
    if (highest > 0) acks_.push_back({sid, highest});
  }
  // Receipts, per local sender: recorded (after the messages, which never wait for them), then
  // acknowledged in the next request like the messages.
  out.receipts = static_cast<int>(frame->receipts.size());
  if (receipts_) {
    std::map<std::string, std::vector<relay::protocol::DeliveryReceipt>> by_sender;
    for (auto& r : frame->receipts) {
      for (const auto& s : sessions) {
        if (!iequals(s.alias, r.to_alias)) continue;
        by_sender[s.alias].push_back(std::move(r));
        break;
      }
    }
    for (const auto& [sender, receipts] : by_sender) {
      for (auto& id : receipts_(sender, receipts)) {
        receipt_acks_.push_back({sender, std::move(id)});
      }
    }
  }
  return out;
}

StreamLoop::StreamLoop(Connector& connector, broker::Broker& broker, relay::RelayClient& client,
                       StreamOptions options, Log log)
    : connector_(connector),
      receiver_(broker, client, connector.options().node_id,
                [this](const std::string& sender,
                       const std::vector<relay::protocol::DeliveryReceipt>& receipts) {
                  SyncReport report;
                  auto acks = connector_.take_receipts(sender, receipts, client_, report);
                  for (const auto& d : report.details) log_("stream: " + d, true);
                  return acks;
                }),
      client_(client),
      options_(options),
      log_(std::move(log)) {}

StreamLoop::~StreamLoop() {
  stop();
}

void StreamLoop::start() {
  // Rounds leave inbound to the stream from the start; they poll again only once it fails (or
  // the relay turns out not to offer it), so the two never race for the same backlog.
  connector_.set_stream_delivers(true);
  thread_ = std::thread([this] { run(); });
}

void StreamLoop::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  client_.cancel();
  if (thread_.joinable()) thread_.join();
  connector_.set_stream_delivers(false);
}

bool StreamLoop::sleep(double seconds) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)),
               [this] { return stop_; });
  return !stop_;
}

void StreamLoop::run() {
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int failures = 0;
  bool open = false;
  bool kept_alive = false;  // the last frame announced keep-alive spaces
  auto lost = [&](const std::string& why) {
    connector_.set_stream_delivers(false);  // the rounds poll meanwhile
    const double delay = next_delay(1.0, options_.max_backoff_seconds, ++failures, unit(rng));
    char buf[64];
    std::snprintf(buf, sizeof buf, "; reconnecting in %.1fs", delay);
    if (open || failures == 1) log_("stream: " + why + buf, false);
    open = false;
    return sleep(delay);
  };
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    const auto sessions = connector_.stream_sessions();
    if (sessions.empty()) {  // nothing registered yet: the next round may register some
      if (!sleep(0.2)) return;
      continue;
    }
    // The first request after (re)connecting does not wait: its answer says the stream is up.
    const double wait = kept_alive ? options_.kept_alive_wait_seconds : options_.wait_seconds;
    const StreamPoll r = receiver_.poll(sessions, open ? wait : 0);
    if (r.kind == StreamPoll::Kind::kFrame) kept_alive = r.keepalive > 0;
    switch (r.kind) {
      case StreamPoll::Kind::kFrame:
        failures = 0;
        connector_.set_stream_delivers(true);
        if (!open) log_("stream: open (node " + connector_.options().node_id + ")", false);
        open = true;
        if (r.received > 0) {
          log_("stream: received " + std::to_string(r.received) + ", delivered " +
                   std::to_string(r.delivered) + (r.more ? " (more queued)" : ""),
               true);
        }
        if (r.receipts > 0) log_("stream: " + std::to_string(r.receipts) + " receipt(s)", true);
        break;
      case StreamPoll::Kind::kUnsupported:
        connector_.set_stream_delivers(false);
        log_("stream: the relay offers no receive stream (" + r.error +
                 "); receiving by polling each round",
             false);
        open = false;
        if (!sleep(options_.reprobe_seconds)) return;
        break;
      case StreamPoll::Kind::kLocalError:
        // The relay is fine; the local broker is not. Keep the stream, retry after a pause.
        log_("stream: " + r.error, false);
        if (!sleep(next_delay(1.0, options_.max_backoff_seconds, ++failures, unit(rng)))) return;
        break;
      case StreamPoll::Kind::kUnreachable:
      case StreamPoll::Kind::kRefused:
        if (!lost(r.error)) return;
        break;
    }
  }
}

}  // namespace c2c::connector
