#pragma once
// The connector's receive stream (docs/relay-client.md, "Receive stream"): one long-poll at a
// time on POST /stream for every session of this node. Each frame is written into the local
// inboxes first (Broker::deliver skips message_ids it already holds) and acknowledged only in
// the next request, per session, by the highest seq written. A connector killed between the
// write and the acknowledgement gets the same messages again and the broker drops them, so the
// transport is at least once and the local inbox exactly once.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/connector/connector.hpp"
#include "c2c/relay/client/relay_client.hpp"

namespace c2c::connector {

struct StreamPoll {
  enum class Kind {
    kFrame,        // a frame (maybe empty) arrived and was written locally
    kUnsupported,  // the relay has no /stream (404): poll instead
    kUnreachable,  // no answer (refused, timeout, cut)
    kRefused,      // an error answer (401/403/429/5xx ...)
    kLocalError,   // the frame could not be written locally: not acknowledged
  };
  Kind kind = Kind::kFrame;
  int received = 0;   // messages in the frame
  int delivered = 0;  // new in the local inboxes (the rest were duplicates)
  int receipts = 0;   // delivery receipts in the frame
  bool more = false;  // the relay has more queued
  // The relay's keep-alive interval (frame "keepalive"; 0 = none): it writes spaces to a waiting
  // long-poll, so a wait may outlast a proxy's read timeout.
  double keepalive = 0;
  std::string error;  // for everything but kFrame
};

class StreamReceiver {
 public:
  // Takes the delivery receipts a frame carries for the local alias `sender`; returns the
  // receipt ids to acknowledge (Connector::take_receipts).
  using ReceiptSink = std::function<std::vector<std::string>(
      const std::string& sender, const std::vector<relay::protocol::DeliveryReceipt>& receipts)>;

  StreamReceiver(broker::Broker& broker, relay::RelayClient& client, std::string node_id,
                 ReceiptSink receipts = {});

  // One request: acknowledges what the previous frame wrote, waits up to wait_seconds for the
  // next frame and writes it. `sessions` must not be empty (the request is signed as one).
  StreamPoll poll(const std::vector<StreamSession>& sessions, double wait_seconds);

  // Acknowledgements the next request carries (for tests).
  const std::vector<relay::protocol::StreamAck>& pending_acks() const { return acks_; }
  const std::vector<relay::protocol::ReceiptAck>& pending_receipt_acks() const {
    return receipt_acks_;
  }

 private:
  broker::Broker& broker_;
  relay::RelayClient& client_;
  std::string node_id_;
  ReceiptSink receipts_;
  std::vector<relay::protocol::StreamAck> acks_;
  std::vector<relay::protocol::ReceiptAck> receipt_acks_;
};

struct StreamOptions {
  double wait_seconds = 50;  // under nginx's default proxy_read_timeout (60 s)
  // The wait against a relay that keeps waiting long-polls alive (its frames carry keepalive):
  // fewer signed re-polls from an idle machine (docs/relay-client.md, "Receive stream").
  double kept_alive_wait_seconds = 300;
  double max_backoff_seconds = 30;  // reconnect delay cap (exponential, with jitter)
  double reprobe_seconds = 300;     // how often to ask a relay without /stream again
};

// Runs a StreamReceiver on its own thread (with its own RelayClient) until stop(). While the
// stream works, the connector's rounds skip inbound polling; when it fails they poll again.
class StreamLoop {
 public:
  using Log = std::function<void(const std::string& line, bool verbose_only)>;
  StreamLoop(Connector& connector, broker::Broker& broker, relay::RelayClient& client,
             StreamOptions options, Log log);
  ~StreamLoop();  // stop()
  StreamLoop(const StreamLoop&) = delete;
  StreamLoop& operator=(const StreamLoop&) = delete;

  void start();
  // Cancels the request in flight (a frame being written locally is finished first) and joins.
  void stop();

 private:
  void run();
  // Sleeps up to `seconds`; false when stopped.
  bool sleep(double seconds);

  Connector& connector_;
  StreamReceiver receiver_;
  relay::RelayClient& client_;
  StreamOptions options_;
  Log log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace c2c::connector
