#pragma once
// The relay connector: keeps one machine's local broker in sync with a relay.
//
// sync_once() is one deterministic round:
//   1. registrations: every session in registry.json the relay does not know yet is registered
//      (node_id = this machine, session_id = the local session); known ones are heartbeated, and
//      re-registered when the relay no longer knows them (e.g. after a relay restart).
//   2. outbox: remote-outbox.jsonl entries are forwarded with their stable message_ids (the relay
//      deduplicates, so a retry after a lost answer never delivers twice), consecutive entries of
//      one sender as one /send_batch (one /send each to a relay without it), then settled through
//      the broker (retry with attempt/age limits, or remote-outbox-dlq.jsonl with a reason).
//      An alias the relay refuses for a reason of its own (alias_conflict: another node holds
//      it) is reported once and skipped, with its outbox entries left queued; it is not a relay
//      failure, so the loop does not back off and the other aliases are not delayed.
//   3. inbound: each registered session's relay inbox is peeked, written into the local inbox
//      (Broker::deliver skips message_ids it already holds), and only then acknowledged by id.
//      A connector killed at any point therefore neither loses nor duplicates a message.
// Room messages arrive in step 3 like direct messages (the relay fans them out per member).
//   4. receipts (receipts.cpp, docs/relay-client.md "Delivery receipts"): the delivered/read
//      receipts of messages that came through the relay are signed with the machine identity
//      and posted for their senders; this machine's own senders' receipts are fetched,
//      verified against the key pinned for the recipient's alias, recorded in the broker and
//      acknowledged on the next fetch.

// In loop mode, when the relay offers the receive stream, a StreamLoop (stream.hpp) receives
// instead and step 3 is skipped while the stream works (set_stream_delivers).

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/connector/outbox_policy.hpp"
#include "c2c/core/clock.hpp"
#include "c2c/core/result.hpp"
#include "c2c/relay/client/relay_client.hpp"

namespace c2c::connector {

struct ConnectorOptions {
  std::string node_id;
  int lease_ttl = 300;  // seconds, sent on register
  OutboxLimits outbox;
  // The sessions the relay knows are heartbeated in a round only when the last heartbeats are at
  // least this old (seconds; 0: every round). The loop sets it to half its interval, so the
  // extra rounds it runs as soon as mail is queued forward it at once instead of first making
  // one durable relay write per session, while the scheduled rounds keep the leases fresh.
  double heartbeat_every = 0;
};

struct SyncReport {
  int registered = 0;
  int heartbeated = 0;
  int forwarded = 0;
  int failed = 0;
  int dlqed = 0;
  int inbound = 0;
  bool unreachable = false;          // at least one request got no answer from the relay
  bool refused = false;              // the relay refused our credentials or a registration
  bool contacted_relay = false;      // at least one request was sent this round
  bool throttled = false;            // the relay answered 429: slow down
  bool local_error = false;          // reading/settling the outbox or writing an inbox failed
  std::string last_error;            // "<op>: <detail>", "" when the round was clean
  std::vector<std::string> details;  // one line per action, for --verbose
  // Aliases the relay refused this round for a reason of their own (another node holds the
  // alias, it is bound to another identity, reserved...). Not a relay failure: the round stays
  // healthy and the other aliases are synced as usual.
  std::vector<std::string> refused_aliases;
  // Lines worth showing even without --verbose, each said once: an alias became refused (and
  // why), or is registered again.
  std::vector<std::string> notices;

  // [relay-connector] sync: registered=.. heartbeated=.. fwd=.. failed=.. dlqed=.. inbound=..
  // followed by " [<last_error>]" when there is one (cut to max_error chars; 0 = no cut).
  std::string summary_line(size_t max_error = 0) const;
  bool healthy() const { return !unreachable && !refused; }
};

// A relay message as it is written into the local inbox of `alias` on node `own_node`. The
// sender becomes "alias@node" when the relay says it is registered from another node, so
// answering from_alias as is routes back through the relay (docs/decisions.md D18).
broker::Message inbound_message(const relay::protocol::Message& m, std::string_view alias,
                                std::string_view own_node, double now);

// A local session the relay knows: what the receive stream reads and signs as.
struct StreamSession {
  std::string session_id;
  std::string alias;
};

class Connector {
 public:
  Connector(broker::Broker& broker, relay::RelayClient& client, ConnectorOptions options);

  // One round. An error means the local broker could not be read at all (e.g. the broker root
  // is missing); relay trouble is reported in the SyncReport instead. stop (optional) is checked
  // between requests so a signal ends the round promptly.
  Result<SyncReport> sync_once(const std::atomic<bool>* stop = nullptr);

  const ConnectorOptions& options() const { return options_; }

  // True when remote-outbox.jsonl holds entries never tried yet (queued during the last round).
  bool has_untried_outbox();
  // True when receipts-outbox.jsonl holds receipts queued since the last round read it (that
  // round posted everything it read; otherwise false, so a relay refusing them is not retried
  // in a tight loop).
  bool has_new_receipts();

  // Thread-safe. The sessions registered on the relay as of the last round.
  std::vector<StreamSession> stream_sessions() const;
  // Thread-safe. While set, rounds leave inbound delivery to the receive stream.
  void set_stream_delivers(bool on) { stream_delivers_.store(on); }
  bool stream_delivers() const { return stream_delivers_.load(); }

  // Delivery receipts the relay queued for the local alias `sender` (fetched by a round, or
  // carried by the receive stream): each one is kept only when this broker sent that message to
  // that recipient and its signature verifies against the key pinned for the recipient's alias
  // (pinned through `client` on first use); kept ones are recorded in the broker. Returns the
  // receipt ids to acknowledge (recorded, or dropped as not ours); none when recording failed,
  // so they come again. Safe from the stream's thread: it touches only the broker and `client`.
  std::vector<std::string> take_receipts(
      const std::string& sender, const std::vector<relay::protocol::DeliveryReceipt>& receipts,
      relay::RelayClient& client, SyncReport& report);

 private:
  struct Session {
    std::string session_id;
    std::string alias;
    std::string client_type;
  };
  void sync_registration(const Session& s, SyncReport& report);
  bool register_session(const Session& s, SyncReport& report, const char* why);
  // heartbeats_skipped: this round did not heartbeat (not due yet), so it cannot tell an
  // unknown recipient from a relay that lost its leases.
  void forward_outbox(SyncReport& report, const std::atomic<bool>* stop, bool heartbeats_skipped);
  // What forwarding decided: the outbox outcomes and the relay's `accepted` receipts.
  struct ForwardResults {
    std::vector<broker::OutboxOutcome> outcomes;
    std::vector<broker::ReceiptEvent> relay_accepted;
  };
  // /send_batch for `entries` (one sender): one answer per entry, each standing for its /send
  // answer; none when the batch route cannot take them (an older relay's 404, or the batch
  // refused whole for its form or size), so they go by /send.
  std::vector<Result<relay::RelayReply>> send_batch(std::span<const broker::OutboxEntry> entries,
                                                    SyncReport& report);
  bool batch_usable(double now) const;
  // Decides one entry on its relay answer; false when the round should forward nothing more.
  bool settle_sent(const broker::OutboxEntry& e, const Result<relay::RelayReply>& sent,
                   bool heartbeats_skipped, SyncReport& report, ForwardResults& out);
  void pull_inbox(const Session& s, SyncReport& report);
  void forward_receipts(const std::vector<Session>& sessions, SyncReport& report);
  // False for a while after the relay refused a batched receipt (an older relay).
  bool receipt_batches_usable(double now) const;
  void fetch_receipts(const Session& s, SyncReport& report);
  // The key the receipt's recipient alias is pinned to ("" when the relay has none for it).
  Result<std::string> recipient_key(const std::string& alias, const std::string& sign_as,
                                    relay::RelayClient& client);
  // One page: peek, deliver locally, acknowledge. True when it all worked and the relay holds
  // more for this session.
  bool pull_page(const Session& s, SyncReport& report);
  void note_error(SyncReport& report, const std::string& op, const std::string& detail);

  broker::Broker& broker_;
  relay::RelayClient& client_;
  ConnectorOptions options_;
  std::set<std::string> registered_;  // session_ids the relay knows (as far as we know)
  // casefolded alias -> the refusal last reported for it (so each is said once).
  std::map<std::string, std::string> alias_refusals_;
  bool alias_refused(const std::string& alias) const;
  // When the relay was last seen to have forgotten a session of ours (restart), or nullopt.
  std::optional<double> relay_restart_seen_at_;
  std::optional<double> last_heartbeats_;  // when a round last heartbeated every session
  // When the relay last answered 404 to /send_batch (an older relay), or nullopt.
  std::optional<double> batch_unsupported_at_;
  // When the relay last refused batched receipts (400: an older relay), or nullopt.
  std::optional<double> receipt_batches_refused_at_;
  // Receipt ids recorded locally, acknowledged with the next fetch (per sender alias).
  std::map<std::string, std::vector<std::string>> receipt_acks_;
  bool receipts_left_behind_ = false;  // the last forward_receipts() did not post all it read
  mutable std::mutex shared_mu_;
  std::vector<StreamSession> stream_sessions_;  // under shared_mu_
  std::atomic<bool> stream_delivers_{false};
};

}  // namespace c2c::connector
