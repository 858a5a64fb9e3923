#pragma once
// RelayService: every rule of the relay (docs/relay-server.md, docs/protocol.md §4,
// docs/decisions.md) over a Store. It never sees a socket: the router hands it parsed request DTOs
// and the caller's verified alias, and maps its Reply to HTTP.
//
// Concurrency: every operation that writes runs its reads and writes as one store transaction
// (Store::transact), which the store serialises (memory, SQLite: its lock; PostgreSQL: advisory
// locks); signature checks run before it. The service does not wait for durability: the router
// calls Store::when_durable() after the service returned and before answering, so concurrent
// requests share one SQLite fsync.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "c2c/core/clock.hpp"
#include "c2c/core/limits.hpp"
#include "c2c/crypto/identity.hpp"
#include "c2c/relay/protocol/messages.hpp"
#include "c2c/relay/server/auth.hpp"
#include "c2c/relay/server/metrics.hpp"
#include "c2c/relay/server/outcome.hpp"
#include "c2c/relay/store/store.hpp"

namespace c2c::relay::server {

struct ServiceConfig {
  // alias@host is delivered locally when host is "", "relay", this name, or a registered node_id.
  std::string relay_name = "127.0.0.1";
  size_t max_content_bytes = kMaxContentBytes;
  size_t dedup_window = 10'000;
  std::map<std::string, std::string> allowlist;  // alias -> pinned identity pk (b64u)
  // Unsigned join/leave/set_visibility answer 401 unsigned_room_op (the original c2c's env gate
  // C2C_REQUIRE_SIGNED_ROOM_OPS=1).
  bool require_signed_room_ops = false;
  // One /peek_inbox or /poll_inbox answer holds at most this much (always at least one message);
  // `message_ids` of an acknowledging poll are limited to max_messages.
  PageLimit inbox_page{100, 1024 * 1024};
};

// Called under the service lock whenever an entry is appended to a room's history
// (memory storage with --persist-dir writes it to <dir>/rooms/<room>/history.jsonl).
using HistorySink = std::function<void(const std::string& room_id, const StoredMessage& entry)>;
// Operator audit lines ("audit: admin_unbind alias=<a> removed=<bool>").
using AuditSink = std::function<void(const std::string& line)>;

// The most receipts one /receipts/fetch answer or stream frame carries, and the most message
// ids they name in all (a batched receipt names up to protocol::kMaxIdsPerReceipt, so a fresh
// budget holds any one receipt).
inline constexpr size_t kMaxReceiptsPerFetch = 500;
inline constexpr size_t kMaxReceiptIdsPerFetch = 4096;
static_assert(protocol::kMaxIdsPerReceipt <= kMaxReceiptIdsPerFetch);

class RelayService {
 public:
  RelayService(Store& store, Authenticator& auth, const Clock& clock, ServiceConfig config,
               crypto::Identity relay_identity);

  void set_history_sink(HistorySink sink) { history_sink_ = std::move(sink); }
  void set_audit_sink(AuditSink sink) { audit_sink_ = std::move(sink); }

  // The URLs register proofs must name (register_proof_urls() of the relay's public URLs).
  // Set once before serving: none set, no signed registration verifies.
  void set_register_urls(std::vector<std::string> urls) { register_urls_ = std::move(urls); }
  const std::vector<std::string>& register_urls() const { return register_urls_; }

  // `signer` is the alias of a verified Ed25519 request header, "" when unsigned.
  Reply<protocol::RegisterResponse> register_alias(const protocol::RegisterRequest& req);
  Reply<protocol::RegisterResponse> heartbeat(const protocol::SessionRequest& req,
                                              const std::string& signer);
  protocol::ListResponse list(bool include_dead);

  Reply<protocol::SendResponse> send(const protocol::SendRequest& req, const std::string& signer);
  // Each message gets send()'s rules in request order, and the whole batch (deliveries, dead
  // letters, dedup ids) is one store write; one outcome per message (docs/relay-server.md,
  // "Batched sends").
  Reply<protocol::SendBatchResponse> send_batch(const protocol::SendBatchRequest& req,
                                                const std::string& signer);
  Reply<protocol::FanoutResponse> send_all(const protocol::SendAllRequest& req,
                                           const std::string& signer);
  Reply<protocol::InboxResponse> poll_inbox(const protocol::PollRequest& req,
                                            const std::string& signer);
  Reply<protocol::InboxResponse> peek_inbox(const protocol::SessionRequest& req,
                                            const std::string& signer);

  // The receive stream (docs/relay-server.md, "Receive stream"). open_stream() checks the
  // request, applies its acknowledgements to the sessions the caller owns on the node and
  // returns what stream_frame() needs; stream_frame() reads the store only (no service lock),
  // so a StreamHub thread can call it for every wake-up.
  struct StreamPlan {
    std::string node_id;
    std::string owner_pk;  // "" (dev mode, unsigned): every session of the node
    size_t max_messages = 0;
    size_t max_bytes = 0;
    bool receipt_batches = false;  // the requester reads batched receipts
  };
  Reply<StreamPlan> open_stream(const protocol::StreamRequest& req, const std::string& signer);
  protocol::StreamFrame stream_frame(const StreamPlan& plan);
  // Nodes whose inboxes received messages from the calling thread's service calls since its
  // last call: the router wakes their streams once its own writes are durable. Per thread, so a
  // request never takes (and wakes streams for) another request's writes before those are
  // committed, which would leave them unannounced (two requests run side by side on a cluster
  // backend, and a PostgreSQL transaction commits only at its end).
  std::vector<std::string> take_woken_nodes();

  Reply<protocol::RoomOpResponse> join_room(const protocol::RoomOpRequest& req,
                                            const std::string& signer);
  Reply<protocol::RoomOpResponse> leave_room(const protocol::RoomOpRequest& req,
                                             const std::string& signer);
  Reply<protocol::FanoutResponse> send_room(const protocol::SendRoomRequest& req,
                                            const std::string& signer);
  // Invite-only rooms are listed, and their history read, only for a member: the verified
  // signer, or in dev mode the alias the caller names (`named`, `req.alias`).
  protocol::ListRoomsResponse list_rooms(const std::string& named, const std::string& signer);
  Reply<protocol::RoomHistoryResponse> room_history(const protocol::RoomHistoryRequest& req,
                                                    const std::string& signer);
  Reply<protocol::VisibilityResponse> set_room_visibility(const protocol::SetVisibilityRequest& req,
                                                          const std::string& signer);
  // invite = true for /invite_room, false for /uninvite_room.
  Reply<protocol::InviteResponse> invite(const protocol::InviteRequest& req, bool invite,
                                         const std::string& signer);

  // Expires dead leases, drops their room memberships, prunes inboxes no lease owns.
  Reply<protocol::GcResponse> gc();
  protocol::DeadLetterResponse dead_letters();
  Reply<protocol::UnbindResponse> unbind(const protocol::UnbindRequest& req);
  Reply<protocol::PubkeyResponse> pubkey(const std::string& alias);

  // Delivery receipts (service_receipts.cpp): queued for the sender's alias, fetched and
  // acknowledged by the sender's connector.
  Reply<protocol::ReceiptsResponse> post_receipts(const protocol::PostReceiptsRequest& req,
                                                  const std::string& signer);
  Reply<protocol::ReceiptsResponse> fetch_receipts(const protocol::FetchReceiptsRequest& req,
                                                   const std::string& signer);

  Gauges gauges();
  const crypto::Identity& relay_identity() const { return identity_; }
  const ServiceConfig& config() const { return config_; }

 private:
  protocol::LeaseInfo lease_info(const Lease& l, double now) const;
  // Host part of alias@host is served here.
  bool is_local_host(const std::string& host) const;
  std::optional<Failure> check_content(const std::string& content) const;
  std::optional<Failure> check_sender(const std::string& from_alias,
                                      const std::string& signer) const;
  // A room operation naming `alias` without a proof, envelope or verified header from it: refused
  // when the relay requires signed room ops, and in prod mode when `alias` is bound to a key
  // (D3's rule for /register, applied to rooms: nobody acts unsigned for a key-bound alias).
  // D3: a verified signer may read only the inbox of a session its alias holds.
  std::optional<Failure> check_inbox_owner(const InboxKey& key, const std::string& signer);
  enum class RoomOpGate { kGated, kKeyBoundOnly };
  // The alias a room read speaks for: the verified signer; in dev mode, else, the named alias
  // (dev mode trusts what callers claim, as on every other route); "" for nobody.
  std::string room_reader(const std::string& named, const std::string& signer) const;
  std::optional<Failure> check_room_op_signed(const std::string& alias, bool is_signed,
                                              RoomOpGate gate = RoomOpGate::kGated) const;
  // Applies `batch` on `tx`, then hands its room history to the persistence sink and notes the
  // nodes to wake.
  Result<void> apply(Tx& tx, const WriteBatch& batch);
  // Adds a c2c-system notice to `recipients` and to history to `batch`.
  void room_notice(const std::string& room_id, const std::vector<std::string>& recipients,
                   const std::string& content, double now, WriteBatch& batch);
  // Adds `msg` for each recipient's live lease as "<member>#<room>" to `batch`; the rest become
  // dead letters and are returned in `skipped` (inside the caller's transaction).
  void fan_out(const std::string& room_id, const std::vector<std::string>& recipients,
               const StoredMessage& msg, double now, WriteBatch& batch,
               std::vector<std::string>* delivered, std::vector<std::string>* skipped);
  // The dedup window's answer for a message with a client-supplied id (none: never a retry):
  // remembers the (sender, id) pair on `tx` and says whether the window already held it. Only
  // a client's id can come back in a retry, so only it takes a place in the window.
  Reply<bool> is_retry(Tx& tx, const std::string& from_alias, const std::string& client_message_id);
  // /send's rules for one message whose content passed check_content (inside the caller's
  // kMessages transaction `tx`): remembers its dedup id on `tx` and adds its delivery, or its dead
  // letter, to `batch`; an id the window already holds (a retry, or earlier in the same
  // /send_batch) is a duplicate.
  Reply<protocol::SendResponse> route_message(Tx& tx, const std::string& from_alias,
                                              const std::string& to_alias, std::string content,
                                              const std::string& message_id, double now,
                                              WriteBatch& batch);

  Store& store_;
  Authenticator& auth_;
  const Clock& clock_;
  ServiceConfig config_;
  crypto::Identity identity_;
  HistorySink history_sink_;
  AuditSink audit_sink_;
  std::vector<std::string> register_urls_;

  // Runs `body(tx)`, which answers a Reply<T>, as one store transaction of `scope`. A storage
  // failure the body answers (kUnavailable) undoes its writes; any other answer keeps them (a
  // refused message still leaves its dead letter). A transaction the store could not commit
  // answers 503.
  template <typename T, typename Body>
  Reply<T> in_transaction(TxScope scope, Body&& body) {
    std::optional<Reply<T>> reply;
    auto done = store_.transact(scope, [&](Tx& tx) -> Result<void> {
      reply.emplace(body(tx));
      if (!*reply && reply->error().kind == FailureKind::kUnavailable) {
        return fail(reply->error().error);
      }
      return {};
    });
    if (reply && !*reply) return std::move(*reply);
    if (!done) return storage_failure(done.error());
    return std::move(*reply);
  }

  // Sets each message's from_node: the node of the sender's lease, so replies route back.
  void add_sender_nodes(std::vector<protocol::Message>& messages);
  // The inboxes a stream of `plan` reads now (sessions move, register and expire meanwhile).
  // The leases a stream may read: those registered from its node (in prod, only those bound to
  // the signer's key).
  std::vector<Lease> stream_leases(const StreamPlan& plan);
  std::vector<InboxKey> stream_keys(const std::vector<Lease>& leases);
  // What one answer may still carry of receipts: entries, and message ids named by them.
  struct ReceiptBudget {
    size_t receipts = kMaxReceiptsPerFetch;
    size_t ids = kMaxReceiptIdsPerFetch;
  };
  // Receipts queued for `alias`, oldest first, each with its receipt_id, within `budget` (which
  // they use up). Batched receipts are skipped
  // unless `batches`: a requester that cannot read them leaves them queued. Sets *more when
  // some that fit the requester were left for a later answer.
  std::vector<protocol::DeliveryReceipt> queued_receipts(const std::string& alias,
                                                         ReceiptBudget& budget, bool batches,
                                                         bool* more);
  // The inbox holding `alias`'s receipts, keyed by the alias as its lease spells it.
  InboxKey receipts_key(const std::string& alias);

  // Records nodes for the calling thread's take_woken_nodes().
  void record_woken(std::vector<std::string> nodes);
};

// The node id of the inboxes that hold delivery receipts, one per sender alias. Not a valid
// node id for a registration ('#'), so no session ever reads one.
inline constexpr std::string_view kReceiptsNode = "#receipts";

}  // namespace c2c::relay::server
