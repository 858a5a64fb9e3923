// JSON of request bodies. from_json() is what the relay trusts: strict types, required fields.
#include <algorithm>
#include <cmath>

#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"
#include "c2c/relay/protocol/json_fields.hpp"
#include "c2c/relay/protocol/messages.hpp"
#include "c2c/relay/protocol/routes.hpp"

namespace c2c::relay::protocol {

namespace {

using detail::Fields;
using detail::finish;
using detail::put_if;

RoomProof read_proof(Fields& f) {
  RoomProof p;
  p.identity_pk = f.str("identity_pk");
  p.sig = f.str("sig");
  p.nonce = f.str("nonce");
  p.ts = f.str("ts");
  return p;
}

void write_proof(Json& j, const RoomProof& p) {
  put_if(j, "identity_pk", p.identity_pk);
  put_if(j, "sig", p.sig);
  put_if(j, "nonce", p.nonce);
  put_if(j, "ts", p.ts);
}

}  // namespace

bool is_truthy(std::string_view value) {
  const std::string v = casefold(value);
  return v == "1" || v == "true" || v == "yes";
}

// ---------------------------------------------------------------- register

bool RegisterRequest::has_any_proof_field() const {
  return !identity_pk.empty() || !signature.empty() || !nonce.empty() || !timestamp.empty();
}
bool RegisterRequest::has_full_proof() const {
  return !identity_pk.empty() && !signature.empty() && !nonce.empty() && !timestamp.empty();
}

int64_t RegisterRequest::lease_ttl_seconds() const {
  return static_cast<int64_t>(std::trunc(ttl.value_or(kDefaultLeaseTtl)));
}

Json RegisterRequest::to_json() const {
  Json j = {{"node_id", node_id}, {"session_id", session_id}, {"alias", alias}};
  put_if(j, "client_type", client_type);
  if (ttl) j["ttl"] = *ttl;
  if (proof_version != 1) j["proof_version"] = proof_version;
  put_if(j, "identity_pk", identity_pk);
  put_if(j, "signature", signature);
  put_if(j, "nonce", nonce);
  put_if(j, "timestamp", timestamp);
  put_if(j, "enc_pubkey", enc_pubkey);
  if (signed_at) j["signed_at"] = *signed_at;
  put_if(j, "sig_b64", sig_b64);
  return j;
}

Result<RegisterRequest> RegisterRequest::from_json(const Json& j) {
  Fields f(j, true);
  RegisterRequest r;
  r.node_id = f.id("node_id");
  r.session_id = f.id("session_id");
  r.alias = f.id("alias");
  r.client_type = f.id("client_type");
  r.ttl = f.num("ttl");
  r.identity_pk = f.str("identity_pk");
  r.signature = f.str("signature");
  r.nonce = f.id("nonce");
  r.timestamp = f.id("timestamp");
  r.enc_pubkey = f.id("enc_pubkey");
  r.signed_at = f.num("signed_at");
  r.sig_b64 = f.id("sig_b64");
  if (auto v = f.integer("proof_version")) {
    if (*v != 1 && *v != 2) f.record_error("proof_version must be 1 or 2");
    r.proof_version = static_cast<int>(*v);
  }
  if (f.ok() && (r.node_id.empty() || r.session_id.empty() || r.alias.empty())) {
    f.record_error("node_id, session_id, and alias are required");
  }
  if (f.ok() && r.ttl && (*r.ttl < 1 || *r.ttl > 31'536'000)) {
    f.record_error("ttl must be between 1 and 31536000 seconds");
  }
  return finish(f, std::move(r));
}

// ---------------------------------------------------------------- sessions

Json SessionRequest::to_json() const {
  return {{"node_id", node_id}, {"session_id", session_id}};
}

Result<SessionRequest> SessionRequest::from_json(const Json& j) {
  Fields f(j, true);
  SessionRequest r;
  r.node_id = f.id("node_id");
  r.session_id = f.id("session_id");
  if (f.ok() && (r.node_id.empty() || r.session_id.empty())) {
    f.record_error("node_id and session_id are required");
  }
  return finish(f, std::move(r));
}

Json PollRequest::to_json() const {
  Json j = {{"node_id", node_id}, {"session_id", session_id}};
  if (message_ids) j["message_ids"] = *message_ids;
  return j;
}

Result<PollRequest> PollRequest::from_json(const Json& j) {
  Fields f(j, true);
  PollRequest r;
  r.node_id = f.id("node_id");
  r.session_id = f.id("session_id");
  r.message_ids = f.str_list("message_ids");
  if (f.ok() && (r.node_id.empty() || r.session_id.empty())) {
    f.record_error("node_id and session_id are required");
  }
  if (f.ok() && r.message_ids) {
    for (const auto& id : *r.message_ids) {
      if (id.empty() || id.size() > kMaxIdBytes) {
        f.record_error("message_ids must hold non-empty ids of at most 256 bytes");
        break;
      }
    }
  }
  return finish(f, std::move(r));
}

Json StreamRequest::to_json() const {
  Json a = Json::array();
  for (const auto& ack : acks) a.push_back({{"session_id", ack.session_id}, {"seq", ack.seq}});
  Json j = {{"node_id", node_id}, {"acks", std::move(a)}, {"wait", wait}};
  if (!receipt_acks.empty()) {
    Json ra = Json::array();
    for (const auto& ack : receipt_acks) {
      ra.push_back({{"alias", ack.alias}, {"receipt_id", ack.receipt_id}});
    }
    j["receipt_acks"] = std::move(ra);
  }
  if (max_messages) j["max_messages"] = *max_messages;
  if (max_bytes) j["max_bytes"] = *max_bytes;
  if (receipt_batches) j["receipt_batches"] = true;
  return j;
}

Result<StreamRequest> StreamRequest::from_json(const Json& j) {
  Fields f(j, true);
  StreamRequest r;
  r.node_id = f.id("node_id");
  r.wait = f.num("wait").value_or(0);
  r.max_messages = f.integer("max_messages");
  r.max_bytes = f.integer("max_bytes");
  r.receipt_batches = f.boolean("receipt_batches").value_or(false);
  if (f.ok() && r.node_id.empty()) f.record_error("node_id is required");
  if (f.ok() && !(r.wait >= 0 && r.wait <= 3600))
    f.record_error("wait must be between 0 and 3600 seconds");
  if (f.ok() && ((r.max_messages && *r.max_messages < 1) || (r.max_bytes && *r.max_bytes < 1))) {
    f.record_error("max_messages and max_bytes must be positive");
  }
  if (auto it = j.find("acks"); f.ok() && it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->size() > kMaxStreamAcks) {
      f.record_error("acks must be an array of at most " + std::to_string(kMaxStreamAcks) +
                     " {session_id, seq} objects");
    } else {
      for (const auto& a : *it) {
        const auto seq = a.is_object() ? a.find("seq") : a.end();
        if (!a.is_object() || seq == a.end() || !seq->is_number_unsigned() ||
            seq->get<uint64_t>() == 0) {
          f.record_error("each ack must be {\"session_id\": string, \"seq\": positive integer}");
          break;
        }
        Fields af(a, true);
        StreamAck ack{af.id("session_id"), seq->get<uint64_t>()};
        if (!af.ok() || ack.session_id.empty()) {
          f.record_error("each ack needs a session_id of at most 256 bytes");
          break;
        }
        r.acks.push_back(std::move(ack));
      }
    }
  }
  if (auto it = j.find("receipt_acks"); f.ok() && it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->size() > kMaxStreamAcks) {
      f.record_error("receipt_acks must be an array of at most " + std::to_string(kMaxStreamAcks) +
                     " {alias, receipt_id} objects");
    } else {
      for (const auto& a : *it) {
        if (!a.is_object()) {
          f.record_error("each receipt ack must be {\"alias\": string, \"receipt_id\": string}");
          break;
        }
        Fields af(a, true);
        ReceiptAck ack{af.id("alias"), af.id("receipt_id")};
        if (!af.ok() || ack.alias.empty() || ack.receipt_id.empty()) {
          f.record_error("each receipt ack needs an alias and a receipt_id of at most 256 bytes");
          break;
        }
        r.receipt_acks.push_back(std::move(ack));
      }
    }
  }
  return finish(f, std::move(r));
}

// ---------------------------------------------------------------- direct messages

Json SendRequest::to_json() const {
  Json j = {{"from_alias", from_alias}, {"to_alias", to_alias}, {"content", content}};
  put_if(j, "message_id", message_id);
  return j;
}

Result<SendRequest> SendRequest::from_json(const Json& j) {
  Fields f(j, true);
  SendRequest r;
  r.from_alias = f.id("from_alias");
  r.to_alias = f.id("to_alias");
  r.content = f.str("content");
  r.message_id = f.id("message_id");
  if (f.ok() && (r.from_alias.empty() || r.to_alias.empty() || r.content.empty())) {
    f.record_error("from_alias, to_alias, and content are required");
  }
  return finish(f, std::move(r));
}

Json SendBatchItem::to_json() const {
  Json j = {{"to_alias", to_alias}, {"content", content}};
  put_if(j, "message_id", message_id);
  return j;
}

SendBatchItem SendBatchItem::from_json(const Json& j) {
  SendBatchItem r;
  if (!j.is_object()) {
    r.invalid = "each message must be an object";
    return r;
  }
  Fields f(j, true);
  r.message_id = f.id("message_id");
  r.to_alias = f.id("to_alias");
  r.content = f.str("content");
  if (f.ok() && (r.to_alias.empty() || r.content.empty())) {
    f.record_error("to_alias and content are required");
  }
  if (!f.ok()) r.invalid = f.error()->message;
  return r;
}

Json SendBatchRequest::to_json() const {
  return {{"from_alias", from_alias}, {"messages", detail::array_of(messages)}};
}

Result<SendBatchRequest> SendBatchRequest::from_json(const Json& j) {
  Fields f(j, true);
  SendBatchRequest r;
  r.from_alias = f.id("from_alias");
  if (f.ok() && r.from_alias.empty()) f.record_error("from_alias is required");
  const auto it = j.is_object() ? j.find("messages") : j.end();
  if (f.ok() && (it == j.end() || !it->is_array())) f.record_error("messages must be an array");
  if (f.ok() && it->size() > kMaxBatchMessages) {
    f.record_error("messages lists " + std::to_string(it->size()) + " messages; at most " +
                   std::to_string(kMaxBatchMessages) + " per /send_batch");
  }
  if (f.ok()) {
    r.messages.reserve(it->size());
    for (const auto& item : *it) r.messages.push_back(SendBatchItem::from_json(item));
  }
  return finish(f, std::move(r));
}

Json SendAllRequest::to_json() const {
  Json j = {{"from_alias", from_alias}, {"content", content}};
  put_if(j, "message_id", message_id);
  return j;
}

Result<SendAllRequest> SendAllRequest::from_json(const Json& j) {
  Fields f(j, true);
  SendAllRequest r;
  r.from_alias = f.id("from_alias");
  r.content = f.str("content");
  r.message_id = f.id("message_id");
  if (f.ok() && (r.from_alias.empty() || r.content.empty())) {
    f.record_error("from_alias and content are required");
  }
  return finish(f, std::move(r));
}

// ---------------------------------------------------------------- rooms

Json RoomOpRequest::to_json() const {
  Json j = {{"alias", alias}, {"room_id", room_id}};
  write_proof(j, proof);
  return j;
}

Result<RoomOpRequest> RoomOpRequest::from_json(const Json& j) {
  Fields f(j, true);
  RoomOpRequest r;
  r.alias = f.id("alias");
  r.room_id = f.id("room_id");
  r.proof = read_proof(f);
  if (f.ok() && (r.alias.empty() || r.room_id.empty()))
    f.record_error("alias and room_id are required");
  return finish(f, std::move(r));
}

Json SetVisibilityRequest::to_json() const {
  Json j = {{"alias", alias}, {"room_id", room_id}, {"visibility", visibility}};
  write_proof(j, proof);
  return j;
}

Result<SetVisibilityRequest> SetVisibilityRequest::from_json(const Json& j) {
  Fields f(j, true);
  SetVisibilityRequest r;
  r.alias = f.id("alias");
  r.room_id = f.id("room_id");
  r.visibility = f.id("visibility");
  r.proof = read_proof(f);
  if (f.ok() && (r.alias.empty() || r.room_id.empty() || r.visibility.empty())) {
    f.record_error("alias, room_id, and visibility are required");
  }
  if (f.ok() && r.visibility != "public" && r.visibility != "invite") {
    f.record_error("visibility must be \"public\" or \"invite\"");
  }
  return finish(f, std::move(r));
}

Json InviteRequest::to_json() const {
  Json j = {{"alias", alias}, {"room_id", room_id}, {"invitee_pk", invitee_pk}};
  write_proof(j, proof);
  return j;
}

Result<InviteRequest> InviteRequest::from_json(const Json& j) {
  Fields f(j, true);
  InviteRequest r;
  r.alias = f.id("alias");
  r.room_id = f.id("room_id");
  r.invitee_pk = f.id("invitee_pk");
  r.proof = read_proof(f);
  if (f.ok() && (r.alias.empty() || r.room_id.empty() || r.invitee_pk.empty())) {
    f.record_error("alias, room_id, and invitee_pk are required");
  }
  return finish(f, std::move(r));
}

Json SendRoomRequest::to_json() const {
  Json j = {{"from_alias", from_alias}, {"room_id", room_id}, {"content", content}};
  put_if(j, "message_id", message_id);
  if (envelope) j["envelope"] = envelope->to_json();
  return j;
}

Result<SendRoomRequest> SendRoomRequest::from_json(const Json& j) {
  Fields f(j, true);
  SendRoomRequest r;
  r.from_alias = f.id("from_alias");
  r.room_id = f.id("room_id");
  r.content = f.str("content");
  r.message_id = f.id("message_id");
  if (const Json* env = f.object("envelope")) {
    auto e = Envelope::from_json(*env);
    if (!e) {
      f.record_error("envelope: " + e.error().message);
    } else {
      r.envelope = std::move(e).value();
    }
  }
  if (f.ok() && (r.from_alias.empty() || r.room_id.empty() || r.content.empty())) {
    f.record_error("from_alias, room_id, and content are required");
  }
  return finish(f, std::move(r));
}

Json RoomHistoryRequest::to_json() const {
  Json j = {{"room_id", room_id}, {"limit", limit}};
  if (!alias.empty()) j["alias"] = alias;
  return j;
}

Result<RoomHistoryRequest> RoomHistoryRequest::from_json(const Json& j) {
  Fields f(j, true);
  RoomHistoryRequest r;
  r.room_id = f.id("room_id");
  if (auto limit = f.integer("limit")) {
    r.limit = std::clamp<int64_t>(*limit, 0, kMaxHistoryLimit);
  }
  r.alias = f.id("alias");
  if (f.ok() && r.room_id.empty()) f.record_error("room_id is required");
  return finish(f, std::move(r));
}

Json UnbindRequest::to_json() const {
  return {{"alias", alias}};
}

Result<UnbindRequest> UnbindRequest::from_json(const Json& j) {
  Fields f(j, true);
  UnbindRequest r;
  r.alias = f.id("alias");
  if (f.ok() && r.alias.empty()) f.record_error("alias is required");
  return finish(f, std::move(r));
}

// ---------------------------------------------------------------- delivery receipts

std::span<const std::string> DeliveryReceipt::ids() const {
  return batched() ? std::span<const std::string>(message_ids)
                   : std::span<const std::string>(&message_id, 1);
}

std::string DeliveryReceipt::describe() const {
  return batched() ? "receipt for " + std::to_string(message_ids.size()) + " messages"
                   : "receipt for " + message_id;
}

std::string DeliveryReceipt::signed_blob() const {
  return batched() ? crypto::delivery_receipts_blob(message_ids, state, recipient, ts_ms)
                   : crypto::delivery_receipt_blob(message_id, state, recipient, ts_ms);
}

Json DeliveryReceipt::to_json() const {
  Json j = {{"state", state}, {"recipient", recipient}, {"to_alias", to_alias}, {"ts_ms", ts_ms}};
  if (batched()) {
    j["message_ids"] = message_ids;
  } else {
    j["message_id"] = message_id;
  }
  put_if(j, "sig", sig);
  put_if(j, "receipt_id", receipt_id);
  return j;
}

Result<DeliveryReceipt> DeliveryReceipt::from_json(const Json& j) {
  Fields f(j, true);
  DeliveryReceipt r;
  r.message_id = f.id("message_id");
  r.message_ids = detail::strings(f, "message_ids");
  r.state = f.str("state");
  r.recipient = f.id("recipient");
  r.to_alias = f.id("to_alias");
  r.ts_ms = f.integer("ts_ms").value_or(0);
  r.sig = f.str("sig");
  r.receipt_id = f.id("receipt_id");
  if (f.ok() && r.message_id.empty() == r.message_ids.empty()) {
    f.record_error("a receipt names either message_id or message_ids (a non-empty array)");
  }
  if (f.ok() && r.message_ids.size() > kMaxIdsPerReceipt) {
    f.record_error("a receipt names at most " + std::to_string(kMaxIdsPerReceipt) + " message_ids");
  }
  // The ids are signed one after another (crypto::delivery_receipts_blob): none may hold a
  // control character, which could move the boundary between two of them.
  for (const auto& id : r.message_ids) {
    if (!f.ok()) break;
    if (id.empty() || id.size() > kMaxIdBytes || std::any_of(id.begin(), id.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20;
        })) {
      f.record_error("message_ids must hold ids of 1 to 256 bytes without control characters");
    }
  }
  if (f.ok() && (r.recipient.empty() || r.to_alias.empty())) {
    f.record_error("receipts need message_id, recipient and to_alias");
  }
  if (f.ok() && r.state != "delivered" && r.state != "read") {
    f.record_error("receipt state must be \"delivered\" or \"read\"");
  }
  if (f.ok() && r.recipient.find('@') == std::string::npos) {
    f.record_error("receipt recipient must be alias@node");
  }
  if (f.ok() && r.ts_ms <= 0) f.record_error("receipt ts_ms must be a positive integer");
  if (f.ok() && r.sig.size() > kMaxIdBytes) f.record_error("receipt sig is too long");
  return finish(f, std::move(r));
}

Json PostReceiptsRequest::to_json() const {
  Json items = Json::array();
  for (const auto& r : receipts) items.push_back(r.to_json());
  return {{"alias", alias}, {"receipts", std::move(items)}};
}

Result<PostReceiptsRequest> PostReceiptsRequest::from_json(const Json& j) {
  Fields f(j, true);
  PostReceiptsRequest r;
  r.alias = f.id("alias");
  if (f.ok() && r.alias.empty()) f.record_error("alias is required");
  const auto it = j.is_object() ? j.find("receipts") : j.end();
  if (f.ok() && (it == j.end() || !it->is_array())) f.record_error("receipts must be an array");
  if (f.ok() && it->size() > kMaxReceiptsPerRequest) {
    f.record_error("at most " + std::to_string(kMaxReceiptsPerRequest) + " receipts per request");
  }
  if (f.ok()) {
    size_t ids = 0;
    for (const auto& item : *it) {
      auto one = DeliveryReceipt::from_json(item);
      if (!one) {
        f.record_error(one.error().message);
        break;
      }
      ids += std::max<size_t>(1, one->message_ids.size());
      r.receipts.push_back(std::move(*one));
    }
    if (f.ok() && ids > kMaxReceiptIdsPerRequest) {
      f.record_error("at most " + std::to_string(kMaxReceiptIdsPerRequest) +
                     " message ids in the receipts of one request");
    }
  }
  return finish(f, std::move(r));
}

Json FetchReceiptsRequest::to_json() const {
  Json j = {{"alias", alias}, {"ack", ack}};
  if (receipt_batches) j["receipt_batches"] = true;
  return j;
}

Result<FetchReceiptsRequest> FetchReceiptsRequest::from_json(const Json& j) {
  Fields f(j, true);
  FetchReceiptsRequest r;
  r.alias = f.id("alias");
  r.ack = detail::strings(f, "ack");
  r.receipt_batches = f.boolean("receipt_batches").value_or(false);
  if (f.ok() && r.alias.empty()) f.record_error("alias is required");
  if (f.ok() && r.ack.size() > kMaxReceiptsPerRequest) f.record_error("too many ack ids");
  for (const auto& id : r.ack) {
    if (f.ok() && (id.empty() || id.size() > kMaxIdBytes)) {
      f.record_error("ack must hold non-empty ids of at most 256 bytes");
    }
  }
  return finish(f, std::move(r));
}

}  // namespace c2c::relay::protocol
