#pragma once
// Wire DTOs of the relay API and their JSON (docs/protocol.md §4).
// One struct per request or response body; both directions are here so the server, the relay
// client and the connector agree byte for byte.
//
// from_json() of a *request* validates what the wire format says about it: known fields must
// have the right JSON type (a string field sent as a number is rejected, not coerced), required
// fields must be non-empty (the error texts are the original c2c's), ids are bounded by
// kMaxIdBytes. Errors are ErrorCode::kBadRequest. from_json() of a *response* is lenient:
// missing fields get defaults, as clients must tolerate older relays.
// to_json() of a response includes "ok": true; errors use ErrorResponse.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "c2c/core/result.hpp"

namespace c2c::relay::protocol {

using Json = nlohmann::json;

// ---------------------------------------------------------------- shared records

// A registration lease as the relay reports it (`RegistrationLease.to_json`).
struct LeaseInfo {
  std::string node_id;
  std::string session_id;
  std::string alias;
  std::string client_type = "unknown";
  double registered_at = 0;
  double last_seen = 0;
  double ttl = 300;
  bool alive = false;
  std::string identity_pk;  // b64u Ed25519 key; omitted when ""
  std::string enc_pubkey;   // verbatim as registered (not double-encoded); omitted when ""
  double signed_at = 0;     // omitted when 0
  std::string sig_b64;      // omitted when ""

  Json to_json() const;
  static Result<LeaseInfo> from_json(const Json& j);
};

// The signed envelope of a room message (ctx c2c/v1/room-send). Only enc "none" exists.
struct Envelope {
  std::string ct;  // b64u(content)
  std::string enc;
  std::string sender_pk;
  std::string sig;
  std::string ts;  // RFC 3339
  std::string nonce;

  Json to_json() const;
  // Type errors only; emptiness is the relay's missing_proof_field check.
  static Result<Envelope> from_json(const Json& j);
};

// An inbox message, a room history entry or a room fan-out copy.
struct Message {
  std::string message_id;
  std::string from_alias;
  std::string to_alias;  // bare alias (DM), "<member>#<room>" (room copy); omitted when ""
  std::string content;
  double ts = 0;
  std::string room_id;  // omitted when ""
  std::optional<Envelope> envelope;
  // The node the sender's lease is registered from, so a reply to from_alias@from_node routes
  // back; omitted when "" (unknown sender, c2c-system, older relays).
  std::string from_node;
  // Receive stream frames only (omitted otherwise): the recipient session and the inbox
  // sequence number the connector acknowledges.
  std::string session_id;
  uint64_t seq = 0;

  Json to_json() const;
  static Result<Message> from_json(const Json& j);
};

struct DeadLetterEntry {
  Message message;
  std::string reason;           // unknown_alias, recipient_dead, unknown_host, ...
  double dead_lettered_at = 0;  // when the relay gave up on it

  // The message fields flattened, plus "reason" and "dead_lettered_at".
  Json to_json() const;
  static Result<DeadLetterEntry> from_json(const Json& j);
};

struct Receipt {  // relay -> client proof of a signed registration (ctx c2c/v1/register-receipt)
  std::string alias;
  std::string client_identity_pk;
  std::string relay_identity_pk;
  std::string ts;  // RFC 3339
  std::string nonce;
  std::string sig;

  Json to_json() const;
  static Result<Receipt> from_json(const Json& j);
};

// A delivery receipt (docs/relay-server.md "Delivery receipts"): the recipient machine tells the
// sender that a message reached (`delivered`) or was drained by (`read`) the recipient. `sig`
// is b64u Ed25519 over signed_blob() by the recipient machine's identity ("" from a connector
// without one, dev mode).
// A batched receipt names several messages (`message_ids`, at most kMaxIdsPerReceipt) that
// reached one state at one time, under one signature; a single one names `message_id`. Exactly
// one of the two is set. Batches go only to requesters that said they read them
// (StreamRequest/FetchReceiptsRequest::receipt_batches).
struct DeliveryReceipt {
  std::string message_id;
  std::vector<std::string> message_ids;  // batched form (message_id then empty)
  std::string state;                     // "delivered" | "read"
  std::string recipient;                 // "alias@node" of the recipient
  std::string to_alias;                  // the sender, who gets the receipt
  int64_t ts_ms = 0;                     // when the state was reached, on the recipient machine
  std::string sig;
  std::string receipt_id;  // relay -> sender only: what the sender acknowledges

  bool batched() const { return !message_ids.empty(); }
  // The messages it speaks for: message_ids, or message_id alone (a view into this receipt).
  std::span<const std::string> ids() const;
  // "receipt for <id>" or "receipt for <n> messages", for error and log lines.
  std::string describe() const;
  // What `sig` signs: crypto::delivery_receipts_blob for a batch, else
  // crypto::delivery_receipt_blob.
  std::string signed_blob() const;

  Json to_json() const;
  // Strict (a request's items): every field but sig/receipt_id required, state known.
  static Result<DeliveryReceipt> from_json(const Json& j);
};
inline constexpr size_t kMaxIdsPerReceipt = 256;

struct RoomInfo {
  std::string room_id;
  std::string visibility = "public";
  std::vector<std::string> members;  // "member_count" is derived on the wire

  Json to_json() const;
  static Result<RoomInfo> from_json(const Json& j);
};

// ---------------------------------------------------------------- requests

struct RegisterRequest {
  std::string node_id;
  std::string session_id;
  std::string alias;
  std::string client_type;    // "" -> "unknown"
  std::optional<double> ttl;  // seconds; absent -> 300
  // Body proof: all four or none. proof_version 1 (absent on the wire; ctx c2c/v1/register)
  // signs alias, relay_url, identity_pk, timestamp and nonce; 2 (ctx c2c/v2/register) also
  // node_id, session_id and the lease ttl (crypto::register_blob_v2).
  int proof_version = 1;
  std::string identity_pk;
  std::string signature;
  std::string nonce;
  std::string timestamp;  // RFC 3339
  // Stored verbatim for end-to-end key discovery.
  std::string enc_pubkey;
  std::optional<double> signed_at;
  std::string sig_b64;

  bool has_any_proof_field() const;
  bool has_full_proof() const;
  // The lease ttl this request asks for, in whole seconds (absent -> kDefaultLeaseTtl): what
  // the lease gets and what a version-2 proof signs.
  int64_t lease_ttl_seconds() const;
  Json to_json() const;
  static Result<RegisterRequest> from_json(const Json& j);
};

// /heartbeat and /peek_inbox.
struct SessionRequest {
  std::string node_id;
  std::string session_id;

  Json to_json() const;
  static Result<SessionRequest> from_json(const Json& j);
};

// /poll_inbox. With message_ids, only those messages are removed and returned (acknowledged
// delivery after a peek); without, the whole inbox is drained (docs/protocol.md §4).
struct PollRequest {
  std::string node_id;
  std::string session_id;
  std::optional<std::vector<std::string>> message_ids;

  Json to_json() const;
  static Result<PollRequest> from_json(const Json& j);
};

// /stream: acknowledge what the last frame delivered, then wait up to `wait` seconds for more.
struct StreamAck {
  std::string session_id;
  uint64_t seq = 0;  // every message of the session's inbox with seq <= this one is delivered
};
// A delivery receipt the connector recorded, so the relay drops it from `alias`'s queue.
struct ReceiptAck {
  std::string alias;
  std::string receipt_id;
};
struct StreamRequest {
  std::string node_id;
  std::vector<StreamAck> acks;
  std::vector<ReceiptAck> receipt_acks;
  double wait = 0;  // seconds; the relay caps it
  std::optional<int64_t> max_messages;
  std::optional<int64_t> max_bytes;
  bool receipt_batches = false;  // as FetchReceiptsRequest::receipt_batches

  Json to_json() const;
  static Result<StreamRequest> from_json(const Json& j);
};
inline constexpr size_t kMaxStreamAcks = 4096;

struct SendRequest {
  std::string from_alias;
  std::string to_alias;  // may be alias@host
  std::string content;
  std::string message_id;  // "" -> the relay mints one

  Json to_json() const;
  static Result<SendRequest> from_json(const Json& j);
};

// One message of a /send_batch (the fields of a /send without from_alias). A message that is
// not a valid /send (a field of the wrong type, too long, missing) is kept with `invalid` set:
// the relay answers it bad_request and applies the others.
struct SendBatchItem {
  std::string message_id;  // "" -> the relay mints one
  std::string to_alias;    // may be alias@host
  std::string content;
  std::string invalid;  // why the relay refuses this message as it is ("" when valid)

  Json to_json() const;
  static SendBatchItem from_json(const Json& j);
};

// /send_batch: messages from one sender, applied in order as one durable write
// (docs/protocol.md §4, docs/relay-server.md "Batched sends").
struct SendBatchRequest {
  std::string from_alias;
  std::vector<SendBatchItem> messages;

  Json to_json() const;
  static Result<SendBatchRequest> from_json(const Json& j);
};
inline constexpr size_t kMaxBatchMessages = 256;

struct SendAllRequest {
  std::string from_alias;
  std::string content;
  std::string message_id;

  Json to_json() const;
  static Result<SendAllRequest> from_json(const Json& j);
};

// Optional proof on room operations (note the field names sig / ts, not signature / timestamp).
struct RoomProof {
  std::string identity_pk;
  std::string sig;
  std::string nonce;
  std::string ts;  // RFC 3339

  bool any() const { return !identity_pk.empty() || !sig.empty() || !nonce.empty() || !ts.empty(); }
  bool complete() const {
    return !identity_pk.empty() && !sig.empty() && !nonce.empty() && !ts.empty();
  }
};

// /join_room and /leave_room.
struct RoomOpRequest {
  std::string alias;
  std::string room_id;
  RoomProof proof;

  Json to_json() const;
  static Result<RoomOpRequest> from_json(const Json& j);
};

struct SetVisibilityRequest {
  std::string alias;
  std::string room_id;
  std::string visibility;  // "public" | "invite"
  RoomProof proof;

  Json to_json() const;
  static Result<SetVisibilityRequest> from_json(const Json& j);
};

// /invite_room and /uninvite_room.
struct InviteRequest {
  std::string alias;
  std::string room_id;
  std::string invitee_pk;  // b64u Ed25519 key
  RoomProof proof;

  Json to_json() const;
  static Result<InviteRequest> from_json(const Json& j);
};

struct SendRoomRequest {
  std::string from_alias;
  std::string room_id;
  std::string content;
  std::string message_id;
  std::optional<Envelope> envelope;

  Json to_json() const;
  static Result<SendRoomRequest> from_json(const Json& j);
};

struct RoomHistoryRequest {
  std::string room_id;
  int64_t limit = 50;  // negative -> 0; above kMaxHistoryLimit -> kMaxHistoryLimit
  // Optional: the member reading an invite-only room. Trusted as is in dev mode only; in prod
  // the request must be signed (Ed25519 header) by a member (docs/relay-server.md).
  std::string alias;

  Json to_json() const;
  static Result<RoomHistoryRequest> from_json(const Json& j);
};

// /receipts: the recipient machine hands receipts to the relay, signed as `alias` (the
// recipient's bare alias, which every receipt's recipient must name).
struct PostReceiptsRequest {
  std::string alias;
  std::vector<DeliveryReceipt> receipts;  // at most kMaxReceiptsPerRequest message ids in all

  Json to_json() const;
  static Result<PostReceiptsRequest> from_json(const Json& j);
};
inline constexpr size_t kMaxReceiptsPerRequest = 1000;
// Message ids named by the receipts of one request (a single receipt names one).
inline constexpr size_t kMaxReceiptIdsPerRequest = 4096;

// /receipts/fetch: the sender's connector, signed as `alias` (the sender), drops the receipts
// it acknowledges (ack: receipt ids) and gets the next ones.
struct FetchReceiptsRequest {
  std::string alias;
  std::vector<std::string> ack;
  // The requester reads batched receipts. A relay drops the batched receipts queued for a
  // requester that does not say so (it could neither read nor acknowledge them).
  bool receipt_batches = false;

  Json to_json() const;
  static Result<FetchReceiptsRequest> from_json(const Json& j);
};

struct UnbindRequest {
  std::string alias;

  Json to_json() const;
  static Result<UnbindRequest> from_json(const Json& j);
};

// ---------------------------------------------------------------- responses

struct HealthResponse {
  std::string version;
  std::string git_hash;
  std::string auth_mode;  // "dev" | "prod"
  std::string storage;    // "memory" | "sqlite"
  // "persistence": what survives a restart (docs/relay-server.md "GET /health").
  std::string persist_dir;              // "" -> null (none set)
  bool messages_persisted = false;      // queued messages, leases, dedup ids: sqlite storage
  bool room_history_persisted = false;  // sqlite storage, or memory storage with a persist dir
  bool writable = true;  // false while the store cannot persist writes (e.g. a full disk)

  Json to_json() const;
  static Result<HealthResponse> from_json(const Json& j);
};

struct RegisterResponse {  // also the /heartbeat success shape (without receipt)
  LeaseInfo lease;
  std::optional<Receipt> receipt;

  Json to_json() const;  // {"ok":true,"result":"ok","lease":..,"receipt"?:..}
  static Result<RegisterResponse> from_json(const Json& j);
};

struct ListResponse {
  std::vector<LeaseInfo> peers;

  Json to_json() const;
  static Result<ListResponse> from_json(const Json& j);
};

struct SendResponse {
  bool duplicate = false;  // wire: "result": "duplicate" instead of "ok"
  double ts = 0;
  std::string message_id;

  Json to_json() const;
  static Result<SendResponse> from_json(const Json& j);
};

// One message's outcome in a /send_batch answer: what /send would have answered it.
struct SendBatchResult {
  std::string message_id;
  bool ok = false;
  bool duplicate = false;  // ok, and already held (a retry)
  double ts = 0;
  std::string error_code;  // when !ok
  std::string error;

  Json to_json() const;
  static Result<SendBatchResult> from_json(const Json& j);
};

struct SendBatchResponse {
  double ts = 0;
  std::vector<SendBatchResult> results;  // one per message, in request order

  Json to_json() const;
  static Result<SendBatchResponse> from_json(const Json& j);
};

// /send_all and /send_room.
struct FanoutResponse {
  double ts = 0;
  std::string message_id;
  std::vector<std::string> delivered;
  std::vector<std::string> skipped;
  std::string room_id;     // /send_room only; omitted when ""
  bool duplicate = false;  // the client's message_id was already fanned out: nothing was queued

  Json to_json() const;
  static Result<FanoutResponse> from_json(const Json& j);
};

struct InboxResponse {  // /poll_inbox and /peek_inbox
  std::vector<Message> messages;
  // The inbox holds more than this page (wire: "more": true, omitted when false); read again
  // (after acknowledging this page) for the rest. docs/relay-server.md, "Inbox pages".
  bool more = false;

  Json to_json() const;
  static Result<InboxResponse> from_json(const Json& j);
};

struct ReceiptsResponse {  // /receipts (accepted = how many were queued) and /receipts/fetch
  std::vector<DeliveryReceipt> receipts;
  int64_t accepted = 0;

  Json to_json() const;
  static Result<ReceiptsResponse> from_json(const Json& j);
};

// One /stream frame: {"ok":true,"messages":[...],"receipts":[...],"more":bool}. Later event
// kinds are added as sibling arrays; clients ignore keys they do not know.
struct StreamFrame {
  std::vector<Message> messages;  // each with session_id and seq
  // Delivery receipts queued for the node's senders, each with its receipt_id (acknowledged in
  // the next request's receipt_acks).
  std::vector<DeliveryReceipt> receipts;
  bool more = false;  // the frame was cut by its bounds: more is queued
  // Seconds between the keep-alive spaces the relay writes while a long-poll waits (0: none, as
  // on relays before them): a connector may then wait longer than a proxy's read timeout
  // (docs/relay-server.md, "Receive stream").
  double keepalive = 0;

  Json to_json() const;
  static Result<StreamFrame> from_json(const Json& j);
};

struct RoomOpResponse {  // /join_room and /leave_room
  std::string room_id;
  std::string alias;

  Json to_json() const;  // {"ok":true,"result":"ok","room_id","alias"}
  static Result<RoomOpResponse> from_json(const Json& j);
};

struct ListRoomsResponse {
  std::vector<RoomInfo> rooms;

  Json to_json() const;
  static Result<ListRoomsResponse> from_json(const Json& j);
};

struct RoomHistoryResponse {
  std::string room_id;
  std::vector<Message> history;  // oldest first

  Json to_json() const;
  static Result<RoomHistoryResponse> from_json(const Json& j);
};

struct GcResponse {
  std::vector<std::string> expired;  // aliases whose leases were removed
  int64_t pruned = 0;                // inboxes removed

  Json to_json() const;
  static Result<GcResponse> from_json(const Json& j);
};

struct DeadLetterResponse {
  std::vector<DeadLetterEntry> dead_letter;  // oldest first

  Json to_json() const;
  static Result<DeadLetterResponse> from_json(const Json& j);
};

struct VisibilityResponse {
  std::string room_id;
  std::string visibility;

  Json to_json() const;
  static Result<VisibilityResponse> from_json(const Json& j);
};

struct InviteResponse {  // /invite_room and /uninvite_room
  std::string room_id;
  std::vector<std::string> invited_members;  // identity pks

  Json to_json() const;
  static Result<InviteResponse> from_json(const Json& j);
};

struct UnbindResponse {
  std::string alias;
  bool removed = false;

  Json to_json() const;
  static Result<UnbindResponse> from_json(const Json& j);
};

struct PubkeyResponse {
  std::string alias;
  std::string ed25519_pubkey;
  std::string x25519_pubkey;  // omitted when ""
  double signed_at = 0;       // omitted when 0
  std::string signature;      // omitted when ""

  Json to_json() const;
  static Result<PubkeyResponse> from_json(const Json& j);
};

// {"ok":false,"error_code":..,"error":..} plus the extras some failures carry.
struct ErrorResponse {
  std::string error_code;
  std::string error;
  std::optional<LeaseInfo> existing_lease;  // register rejections
  std::optional<LeaseInfo> lease;           // heartbeat unknown_alias (alias "_error")
  std::optional<double> retry_after;        // rate_limit_exceeded, seconds

  Json to_json() const;
  static Result<ErrorResponse> from_json(const Json& j);
};

// True when a response body is an object with "ok": true.
bool is_ok(const Json& body);

}  // namespace c2c::relay::protocol
