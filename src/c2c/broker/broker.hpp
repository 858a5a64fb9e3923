#pragma once
// The local broker: a directory of JSON files shared by every c2c process on one machine
// (CLI, MCP servers, the relay connector). File formats, locks and semantics follow
// docs/protocol.md §6 with docs/decisions.md D1, D7, D10:
// FIFO inboxes, lockf sidecar locks taken by every writer (the outbox included), atomic
// replace (tmp + fsync + rename), files 0600, no read size cap, unknown aliases are errors.
//
// Thread/process safety: every method may be called concurrently from many threads and
// processes on the same root. Lock order is always registry -> inbox; never two inboxes.

#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "c2c/core/clock.hpp"
#include "c2c/core/result.hpp"

namespace c2c::broker {

namespace detail {
struct RegistryCache;
}

// ---------- root resolution (docs/protocol.md §6) ----------

// First 12 hex chars of sha256(input).
std::string fingerprint_of(std::string_view input);
// <fp> of the repository containing the current directory, or "default" outside a repo.
std::string repo_fingerprint();
// C2C_MCP_BROKER_ROOT > $XDG_STATE_HOME/c2c/repos/<fp>/broker > $HOME/.c2c/repos/<fp>/broker.
std::filesystem::path resolve_root();

// ---------- records (docs/protocol.md §6) ----------

struct Registration {
  std::string session_id;
  std::string alias;
  std::optional<long long> pid;
  std::optional<long long> pid_start_time;
  std::optional<double> registered_at;
  std::optional<double> confirmed_at;
  std::string client_type;  // "" when absent
  std::string role;
  nlohmann::json extra = nlohmann::json::object();  // unknown keys, preserved on rewrite
};

enum class Liveness { kAlive, kDead, kUnknown };

struct Message {
  std::string from_alias;
  std::string to_alias;
  std::string content;
  double ts = 0;
  bool deferrable = false;
  bool ephemeral = false;
  std::optional<std::string> reply_via;
  std::optional<std::string> message_id;
  std::optional<std::string> enc_status;
  std::optional<std::string> room_id;  // set on messages pulled from a relay room
  // Written into this inbox by the relay connector (Broker::deliver): its `read` receipt goes
  // back to the sender's machine (docs/relay-client.md "Delivery receipts").
  bool via_relay = false;
};

struct ArchiveEntry {
  double drained_at = 0;
  std::string drained_by;
  std::string session_id;
  Message message;
};

struct OutboxEntry {
  std::string from_alias;
  std::string to_alias;  // verbatim, "alias@host"
  std::string content;
  std::string message_id;  // stable across retries (assigned at enqueue)
  int attempts = 1;
  double enqueued_at = 0;
  std::optional<std::string> last_error;
};

struct RoomMember {
  std::string alias;
  std::string session_id;
  double joined_at = 0;
};

struct RoomHistoryEntry {
  double ts = 0;
  std::string from_alias;
  std::string content;
};

struct RoomMeta {
  std::string visibility = "public";  // "public" | "invite_only"
  std::vector<std::string> invited_members;
  std::string created_by;
};

struct RoomInfo {
  std::string room_id;
  std::vector<RoomMember> members;
  std::vector<Liveness> member_liveness;  // parallel to members
  RoomMeta meta;
};

// ---------- operation inputs / outputs ----------

struct RegisterRequest {
  std::string session_id;
  std::string alias;
  std::optional<long long> pid;  // liveness process; pid_start_time is read from /proc
  std::string client_type;
  std::string role;
  // When false (CLI `register`), an alias held by another live session is taken over, as the
  // original c2c does; when true (MCP), that fails with kAliasConflict and a suggested alias.
  bool guard_alias = true;
};

struct RegisterResult {
  Registration registration;
  std::vector<std::string> evicted_sessions;
  size_t migrated_messages = 0;
  size_t redelivered_dead_letters = 0;
};

struct SendOptions {
  bool deferrable = false;
  bool ephemeral = false;
  std::string tag;  // "", "fail", "blocking", "urgent" (prefix added to the body)
};

struct SendReceipt {
  bool remote = false;  // queued to remote-outbox.jsonl (alias@host)
  double ts = 0;
  std::string from_alias;
  std::string to_alias;
  std::string message_id;
};

struct BroadcastResult {
  std::vector<std::string> sent_to;
  std::vector<std::string> message_ids;                      // parallel to sent_to
  std::vector<std::pair<std::string, std::string>> skipped;  // (alias, reason)
};

struct JoinResult {
  std::string room_id;
  std::vector<RoomMember> members;
  std::vector<RoomHistoryEntry> history;
  bool joined_now = false;  // false when already a member
};

struct RoomSendResult {
  std::vector<std::string> delivered_to;
  std::vector<std::string> skipped;
  double ts = 0;
  // One id shared by every member's copy (empty when the send was a deduplicated retry).
  std::string message_id;
};

struct SweepResult {
  std::vector<std::pair<std::string, std::string>> dropped;  // (session_id, alias)
  std::vector<std::string> deleted_inboxes;
  size_t preserved_messages = 0;
  std::vector<std::pair<std::string, std::string>> evicted_room_members;  // (room, alias)
  // "<file>.tmp.<pid>.<tid>" left behind by writers killed before their rename, relative to the
  // broker root; removed only when that pid is gone.
  std::vector<std::string> removed_temp_files;
  size_t pruned_receipts = 0;  // receipt files past their retention (docs/cli.md)
};

struct DeadLetterRecord {
  double deleted_at = 0;
  std::string from_session_id;  // the session whose inbox was swept (the recipient)
  Message message;
};

// A remote send (alias@host) the connector gave up on: a line of remote-outbox-dlq.jsonl.
struct RemoteDeadLetter {
  OutboxEntry entry;   // empty fields for a malformed outbox line
  std::string reason;  // dlq_reason: the relay's error code, max_attempts, malformed, ...
  double dlq_at = 0;
  std::optional<std::string> raw;  // the unparsable outbox line, for reason "malformed"
};

// Outcome of one outbox entry after a connector tried to forward it.
struct OutboxOutcome {
  enum class Kind { kDelivered, kRetry, kDeadLetter };
  std::string message_id;
  Kind kind = Kind::kRetry;
  std::string reason;  // last_error for kRetry, dlq_reason for kDeadLetter
};

// ---------- delivery receipts (docs/cli.md "Delivery receipts") ----------

// States a message moves through, in order. A later state implies the earlier ones.
enum class ReceiptState { kAccepted, kDelivered, kRead };
std::string_view receipt_state_name(ReceiptState s);
std::optional<ReceiptState> parse_receipt_state(std::string_view name);

// One recorded state change of one message for one recipient.
struct ReceiptEvent {
  std::string message_id;
  ReceiptState state = ReceiptState::kAccepted;
  // Who the state is about: the local alias (room copies: "alias#room"), or the address the
  // sender used for a remote recipient ("alias@node").
  std::string recipient;
  double ts = 0;
  // What recorded it: "local" (local send), "outbox" (queued for the relay), "relay" (the
  // relay stored it), "connector" (written into an inbox from the relay), the drain that read
  // it ("poll_inbox", "watcher", "wait_for_message", "cli"), "remote" (a receipt from the
  // recipient's machine).
  std::string via;
  std::string from_alias;  // the sender, when known (accepted records)
  // Remote receipts: the recipient's node and how the sender's connector checked it
  // ("ed25519" = signature verified against the pinned key, "dev" = unsigned dev relay).
  std::string node;
  std::string verified;
};

// A delivered/read state of a message that came through the relay, waiting in
// receipts-outbox.jsonl for the connector to send it back to the sender's machine.
struct ReceiptOutboxEntry {
  std::string message_id;
  ReceiptState state = ReceiptState::kDelivered;
  std::string recipient;  // the local alias (room copies: "alias#room")
  std::string sender;     // the sender's alias on the relay
  double ts = 0;
};

struct RecipientStatus {
  std::string recipient;
  ReceiptState state = ReceiptState::kAccepted;  // the furthest state reached
  std::optional<double> accepted_at, delivered_at, read_at;
};

struct DeliveryStatus {
  std::string message_id;
  std::string from_alias;
  std::vector<RecipientStatus> recipients;  // in order of first appearance
  std::vector<ReceiptEvent> events;         // as recorded
};

// The JSON answer of `c2c delivery-status --json` and the MCP delivery_status tool:
// {message_id, from_alias, state, recipients:[{recipient, state, accepted_at, delivered_at,
// read_at}], events:[...]}; `state` is the least advanced recipient's, times are epoch seconds
// (null until reached).
nlohmann::json delivery_status_json(const DeliveryStatus& status);

// ---------- the broker ----------

class Broker {
 public:
  explicit Broker(std::filesystem::path root, Clock& clock = SystemClock::instance());

  const std::filesystem::path& root() const { return root_; }
  Clock& clock() const { return clock_; }

  // Registry. Alias rule and reserved aliases enforced (kInvalidAlias / kReservedAlias);
  // a guarded register of an alias held by another live session -> kAliasConflict whose
  // message names the holder and suggests a free alias. Evicted sessions' queued messages
  // move to the new session; dead letters addressed to the alias/session are redelivered.
  Result<RegisterResult> register_session(const RegisterRequest& req);
  Result<std::vector<Registration>> registrations();
  Result<std::optional<Registration>> find_session(std::string_view session_id);
  // Case-insensitive; prefers the most recently registered live row.
  Result<std::optional<Registration>> find_alias(std::string_view alias);
  Liveness liveness(const Registration& reg) const;

  // Direct messages. to_alias with '@' -> remote outbox; unknown bare alias -> kUnknownAlias;
  // all matching rows dead -> kRecipientDead; reserved sender -> kReservedAlias;
  // self-send (exact) -> kBadRequest.
  Result<SendReceipt> send(std::string_view from_alias, std::string_view to_alias,
                           std::string_view content, const SendOptions& opts = {});
  Result<BroadcastResult> send_all(std::string_view from_alias, std::string_view content,
                                   const std::vector<std::string>& exclude,
                                   const SendOptions& opts = {});

  // Inbox reads. poll drains everything (archiving non-ephemeral messages first);
  // drain_push drains non-deferrable messages only, handing them to `push` (when given) before
  // they are reported read, so the push does not wait for the receipt's write; peek never drains.
  Result<std::vector<Message>> poll(std::string_view session_id,
                                    std::string_view drained_by = "poll_inbox");
  Result<std::vector<Message>> drain_push(
      std::string_view session_id,
      const std::function<void(const std::vector<Message>&)>& push = nullptr);
  Result<std::vector<Message>> peek(std::string_view session_id);
  // The second half of a two-step drain (peek, hand the messages out, then acknowledge): removes
  // exactly these messages (matched by message_id, or by their whole record when they have
  // none) if still queued, archiving them as poll does. Returns how many were removed.
  Result<size_t> acknowledge(std::string_view session_id, const std::vector<Message>& messages,
                             std::string_view drained_by);
  // Newest first, at most `limit`. Archive lines that do not parse (torn by a writer killed
  // mid-append) are skipped and counted in *unreadable_lines when given.
  Result<std::vector<ArchiveEntry>> history(std::string_view session_id, size_t limit,
                                            size_t* unreadable_lines = nullptr);
  // Appends messages to a session's inbox under its lock (used by the relay connector),
  // skipping any whose message_id is already queued in that inbox or was recently delivered.
  // Returns how many were appended.
  Result<size_t> deliver(std::string_view session_id, const std::vector<Message>& messages);

  // Rooms (docs/cli.md Rooms). history_limit is clamped to 0..200.
  Result<JoinResult> join_room(std::string_view room_id, std::string_view alias,
                               std::string_view session_id, size_t history_limit = 20);
  Result<std::vector<RoomMember>> leave_room(std::string_view room_id, std::string_view alias);
  Result<RoomSendResult> send_room(std::string_view room_id, std::string_view from_alias,
                                   std::string_view content, const SendOptions& opts = {});
  Result<std::vector<RoomInfo>> list_rooms();
  Result<std::optional<RoomInfo>> room(std::string_view room_id);
  // since: keep entries with ts >= since; limit 0 = all. caller_alias is used for the
  // invite-only ACL (empty = no ACL, the operator's CLI view).
  Result<std::vector<RoomHistoryEntry>> room_history(std::string_view room_id, size_t limit,
                                                     std::optional<double> since,
                                                     std::string_view caller_alias);
  Result<void> invite(std::string_view room_id, std::string_view inviter, std::string_view invitee);
  Result<void> set_visibility(std::string_view room_id, std::string_view caller,
                              std::string_view visibility);

  // Maintenance. sweep drops dead registrations; their queued messages go to dead-letter.jsonl.
  Result<SweepResult> sweep();
  Result<std::vector<DeadLetterRecord>> dead_letters();
  // remote-outbox-dlq.jsonl, oldest first (unparsable lines skipped).
  Result<std::vector<RemoteDeadLetter>> remote_dead_letters();

  // Remote outbox (alias@host), shared with the relay connector. Every access holds
  // remote-outbox.lock. read_outbox moves malformed lines to remote-outbox-dlq.jsonl with
  // dlq_reason "malformed" and returns the valid entries in order. settle_outbox applies
  // outcomes by message_id to whatever the file holds now (entries appended meanwhile stay).
  Result<void> append_outbox(const OutboxEntry& entry);
  // Several entries in order with one append and one fdatasync (a caller queueing many remote
  // messages pays one sync instead of one each); all or none are queued. Each queued entry's
  // `accepted` receipt (via outbox) is recorded before this returns, so a receipt coming back
  // from the recipient's machine finds who sent it.
  Result<void> append_outbox(const std::vector<OutboxEntry>& entries);
  Result<std::vector<OutboxEntry>> read_outbox();
  Result<void> settle_outbox(const std::vector<OutboxOutcome>& outcomes);

  // Delivery receipts, an append-only log under receipts/ (see receipts.cpp): one write per
  // call, never blocked by a lock. Ids that are not safe file names are refused by
  // delivery_status and silently not recorded (every id c2c assigns is a UUID).
  Result<void> record_receipts(const std::vector<ReceiptEvent>& events);
  // nullopt when nothing was recorded for this id (unknown, or pruned).
  Result<std::optional<DeliveryStatus>> delivery_status(std::string_view message_id);
  // For a connector checking receipts from another machine: the status of each of these
  // messages as far as its `accepted` record (who sent it, and to whom), read from the newest
  // records back in one pass; later states may be missing. Ids without records are absent.
  Result<std::unordered_map<std::string, DeliveryStatus>> sent_statuses(
      const std::unordered_set<std::string>& message_ids);
  // receipts-outbox.jsonl (under receipts-outbox.lock), filled by deliver() and by drains of
  // messages that came through the relay; the connector reads it and settles what the relay
  // took. Bounded: settle keeps at most the newest kReceiptOutboxKept entries.
  Result<std::vector<ReceiptOutboxEntry>> read_receipt_outbox();
  Result<void> settle_receipt_outbox(const std::vector<ReceiptOutboxEntry>& sent);
  // Ed25519 keys (b64u) pinned for remote recipients' relay aliases, in receipt-keys.json: the
  // first key seen for an alias stays (docs/security.md "Delivery receipts").
  Result<std::optional<std::string>> pinned_receipt_key(std::string_view alias);
  // Pins pk for alias unless a key is pinned already; returns the pinned key.
  Result<std::string> pin_receipt_key(std::string_view alias, std::string_view pk);

 private:
  std::filesystem::path root_;
  Clock& clock_;
  // Last parsed registry.json (raw bytes + rows), shared by copies of this Broker: a read
  // whose bytes equal the cached ones skips the parse.
  std::shared_ptr<detail::RegistryCache> cache_;
};

}  // namespace c2c::broker
