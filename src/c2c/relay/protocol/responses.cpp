// JSON of response bodies. to_json() adds "ok": true; from_json() is lenient (clients).
#include "c2c/relay/protocol/json_fields.hpp"
#include "c2c/relay/protocol/messages.hpp"

namespace c2c::relay::protocol {

namespace {

using detail::array_of;
using detail::Fields;
using detail::finish;
using detail::strings;

// Parses an array of records, skipping elements that are not objects.
template <typename T>
std::vector<T> records(const Json& j, const char* key) {
  std::vector<T> out;
  auto it = j.is_object() ? j.find(key) : j.end();
  if (!j.is_object() || it == j.end() || !it->is_array()) return out;
  out.reserve(it->size());
  for (const auto& e : *it) {
    if (!e.is_object()) continue;
    if (auto r = T::from_json(e)) out.push_back(std::move(r).value());
  }
  return out;
}

}  // namespace

bool is_ok(const Json& body) {
  if (!body.is_object()) return false;
  auto it = body.find("ok");
  return it != body.end() && it->is_boolean() && it->get<bool>();
}

Json HealthResponse::to_json() const {
  return {{"ok", true},
          {"version", version},
          {"git_hash", git_hash},
          {"auth_mode", auth_mode},
          {"storage", storage},
          {"persistence",
           {{"storage", storage},
            {"persist_dir", persist_dir.empty() ? Json(nullptr) : Json(persist_dir)},
            {"messages_persisted", messages_persisted},
            {"room_history_persisted", room_history_persisted},
            {"writable", writable}}}};
}
Result<HealthResponse> HealthResponse::from_json(const Json& j) {
  Fields f(j, false);
  HealthResponse r;
  r.version = f.str("version");
  r.git_hash = f.str("git_hash");
  r.auth_mode = f.str("auth_mode");
  r.storage = f.str("storage");
  if (const Json* p = f.object("persistence")) {
    Fields pf(*p, false);
    r.persist_dir = pf.str("persist_dir");
    r.messages_persisted = pf.boolean("messages_persisted").value_or(false);
    r.room_history_persisted = pf.boolean("room_history_persisted").value_or(false);
    r.writable = pf.boolean("writable").value_or(true);
  }
  return finish(f, std::move(r));
}

Json RegisterResponse::to_json() const {
  Json j = {{"ok", true}, {"result", "ok"}, {"lease", lease.to_json()}};
  if (receipt) j["receipt"] = receipt->to_json();
  return j;
}
Result<RegisterResponse> RegisterResponse::from_json(const Json& j) {
  Fields f(j, false);
  RegisterResponse r;
  if (const Json* l = f.object("lease")) {
    if (auto lease = LeaseInfo::from_json(*l)) r.lease = std::move(lease).value();
  }
  if (const Json* rc = f.object("receipt")) {
    if (auto receipt = Receipt::from_json(*rc)) r.receipt = std::move(receipt).value();
  }
  return finish(f, std::move(r));
}

Json ListResponse::to_json() const {
  return {{"ok", true}, {"peers", array_of(peers)}};
}
Result<ListResponse> ListResponse::from_json(const Json& j) {
  ListResponse r;
  r.peers = records<LeaseInfo>(j, "peers");
  return r;
}

Json SendResponse::to_json() const {
  Json j = {{"ok", true}, {"result", duplicate ? "duplicate" : "ok"}, {"ts", ts}};
  if (duplicate) j["duplicate"] = true;
  if (!message_id.empty()) j["message_id"] = message_id;
  return j;
}
Result<SendResponse> SendResponse::from_json(const Json& j) {
  Fields f(j, false);
  SendResponse r;
  r.duplicate = f.str("result") == "duplicate" || f.boolean("duplicate").value_or(false);
  r.ts = f.num("ts").value_or(0);
  r.message_id = f.str("message_id");
  return finish(f, std::move(r));
}

Json SendBatchResult::to_json() const {
  Json j = {{"message_id", message_id}, {"ok", ok}};
  if (ok) {
    j["result"] = duplicate ? "duplicate" : "ok";
    j["ts"] = ts;
    if (duplicate) j["duplicate"] = true;
  } else {
    j["error_code"] = error_code;
    j["error"] = error;
  }
  return j;
}
Result<SendBatchResult> SendBatchResult::from_json(const Json& j) {
  Fields f(j, false);
  SendBatchResult r;
  r.message_id = f.str("message_id");
  r.ok = f.boolean("ok").value_or(false);
  r.duplicate = f.str("result") == "duplicate" || f.boolean("duplicate").value_or(false);
  r.ts = f.num("ts").value_or(0);
  r.error_code = f.str("error_code");
  r.error = f.str("error");
  return finish(f, std::move(r));
}

Json SendBatchResponse::to_json() const {
  return {{"ok", true}, {"ts", ts}, {"results", detail::array_of(results)}};
}
Result<SendBatchResponse> SendBatchResponse::from_json(const Json& j) {
  Fields f(j, false);
  SendBatchResponse r;
  r.ts = f.num("ts").value_or(0);
  const auto it = j.is_object() ? j.find("results") : j.end();
  if (it == j.end() || !it->is_array())
    return fail(ErrorCode::kBadRequest, "results must be an array");
  for (const auto& item : *it) {
    if (!item.is_object()) return fail(ErrorCode::kBadRequest, "each result must be an object");
    auto one = SendBatchResult::from_json(item);
    if (!one) return Unexpected{one.error()};
    r.results.push_back(std::move(*one));
  }
  return finish(f, std::move(r));
}

Json FanoutResponse::to_json() const {
  Json j = {{"ok", true},
            {"result", duplicate ? "duplicate" : "ok"},
            {"ts", ts},
            {"delivered", delivered},
            {"skipped", skipped}};
  if (!message_id.empty()) j["message_id"] = message_id;
  if (!room_id.empty()) j["room_id"] = room_id;
  if (duplicate) j["duplicate"] = true;
  return j;
}
Result<FanoutResponse> FanoutResponse::from_json(const Json& j) {
  Fields f(j, false);
  FanoutResponse r;
  r.ts = f.num("ts").value_or(0);
  r.message_id = f.str("message_id");
  r.delivered = strings(f, "delivered");
  r.skipped = strings(f, "skipped");
  r.room_id = f.str("room_id");
  r.duplicate = f.str("result") == "duplicate" || f.boolean("duplicate").value_or(false);
  return finish(f, std::move(r));
}

Json InboxResponse::to_json() const {
  Json j = {{"ok", true}, {"messages", array_of(messages)}};
  if (more) j["more"] = true;
  return j;
}
Result<InboxResponse> InboxResponse::from_json(const Json& j) {
  InboxResponse r;
  r.messages = records<Message>(j, "messages");
  Fields f(j, false);
  r.more = f.boolean("more").value_or(false);
  return r;
}

Json ReceiptsResponse::to_json() const {
  return {{"ok", true}, {"receipts", array_of(receipts)}, {"accepted", accepted}};
}
Result<ReceiptsResponse> ReceiptsResponse::from_json(const Json& j) {
  Fields f(j, false);
  ReceiptsResponse r;
  // Items that fail the strict check are dropped: the sender verifies what it keeps anyway.
  r.receipts = records<DeliveryReceipt>(j, "receipts");
  r.accepted = f.integer("accepted").value_or(0);
  return finish(f, std::move(r));
}

Json StreamFrame::to_json() const {
  Json j = {{"ok", true}, {"messages", array_of(messages)}, {"more", more}};
  if (!receipts.empty()) j["receipts"] = array_of(receipts);
  if (keepalive > 0) j["keepalive"] = keepalive;
  return j;
}
Result<StreamFrame> StreamFrame::from_json(const Json& j) {
  Fields f(j, false);
  StreamFrame r;
  r.messages = records<Message>(j, "messages");
  // Items that fail the strict check are dropped: the sender verifies what it keeps anyway.
  r.receipts = records<DeliveryReceipt>(j, "receipts");
  r.more = f.boolean("more").value_or(false);
  r.keepalive = std::max(0.0, f.num("keepalive").value_or(0.0));
  return finish(f, std::move(r));
}

Json RoomOpResponse::to_json() const {
  return {{"ok", true}, {"result", "ok"}, {"room_id", room_id}, {"alias", alias}};
}
Result<RoomOpResponse> RoomOpResponse::from_json(const Json& j) {
  Fields f(j, false);
  RoomOpResponse r;
  r.room_id = f.str("room_id");
  r.alias = f.str("alias");
  return finish(f, std::move(r));
}

Json ListRoomsResponse::to_json() const {
  return {{"ok", true}, {"rooms", array_of(rooms)}};
}
Result<ListRoomsResponse> ListRoomsResponse::from_json(const Json& j) {
  ListRoomsResponse r;
  r.rooms = records<RoomInfo>(j, "rooms");
  return r;
}

Json RoomHistoryResponse::to_json() const {
  return {{"ok", true}, {"room_id", room_id}, {"history", array_of(history)}};
}
Result<RoomHistoryResponse> RoomHistoryResponse::from_json(const Json& j) {
  Fields f(j, false);
  RoomHistoryResponse r;
  r.room_id = f.str("room_id");
  r.history = records<Message>(j, "history");
  return finish(f, std::move(r));
}

Json GcResponse::to_json() const {
  return {{"ok", true}, {"expired", expired}, {"pruned", pruned}};
}
Result<GcResponse> GcResponse::from_json(const Json& j) {
  Fields f(j, false);
  GcResponse r;
  r.expired = strings(f, "expired");
  r.pruned = f.integer("pruned").value_or(0);
  return finish(f, std::move(r));
}

Json DeadLetterResponse::to_json() const {
  return {{"ok", true}, {"dead_letter", array_of(dead_letter)}};
}
Result<DeadLetterResponse> DeadLetterResponse::from_json(const Json& j) {
  DeadLetterResponse r;
  r.dead_letter = records<DeadLetterEntry>(j, "dead_letter");
  return r;
}

Json VisibilityResponse::to_json() const {
  return {{"ok", true}, {"room_id", room_id}, {"visibility", visibility}};
}
Result<VisibilityResponse> VisibilityResponse::from_json(const Json& j) {
  Fields f(j, false);
  VisibilityResponse r;
  r.room_id = f.str("room_id");
  r.visibility = f.str("visibility");
  return finish(f, std::move(r));
}

Json InviteResponse::to_json() const {
  return {{"ok", true}, {"room_id", room_id}, {"invited_members", invited_members}};
}
Result<InviteResponse> InviteResponse::from_json(const Json& j) {
  Fields f(j, false);
  InviteResponse r;
  r.room_id = f.str("room_id");
  r.invited_members = strings(f, "invited_members");
  return finish(f, std::move(r));
}

Json UnbindResponse::to_json() const {
  return {{"ok", true}, {"removed", removed}, {"alias", alias}};
}
Result<UnbindResponse> UnbindResponse::from_json(const Json& j) {
  Fields f(j, false);
  UnbindResponse r;
  r.alias = f.str("alias");
  r.removed = f.boolean("removed").value_or(false);
  return finish(f, std::move(r));
}

Json PubkeyResponse::to_json() const {
  Json j = {{"ok", true}, {"alias", alias}, {"ed25519_pubkey", ed25519_pubkey}};
  if (!x25519_pubkey.empty()) j["x25519_pubkey"] = x25519_pubkey;
  if (signed_at != 0) j["signed_at"] = signed_at;
  if (!signature.empty()) j["signature"] = signature;
  return j;
}
Result<PubkeyResponse> PubkeyResponse::from_json(const Json& j) {
  Fields f(j, false);
  PubkeyResponse r;
  r.alias = f.str("alias");
  r.ed25519_pubkey = f.str("ed25519_pubkey");
  r.x25519_pubkey = f.str("x25519_pubkey");
  r.signed_at = f.num("signed_at").value_or(0);
  r.signature = f.str("signature");
  return finish(f, std::move(r));
}

Json ErrorResponse::to_json() const {
  Json j = {{"ok", false}, {"error_code", error_code}, {"error", error}};
  if (existing_lease) j["existing_lease"] = existing_lease->to_json();
  if (lease) j["lease"] = lease->to_json();
  if (retry_after) j["retry_after"] = *retry_after;
  return j;
}
Result<ErrorResponse> ErrorResponse::from_json(const Json& j) {
  Fields f(j, false);
  ErrorResponse r;
  r.error_code = f.str("error_code");
  r.error = f.str("error");
  // The original c2c's 429 body carries the code in "error" and has no error_code.
  if (r.error_code.empty() && r.error == "rate_limit_exceeded") r.error_code = r.error;
  if (const Json* l = f.object("existing_lease")) {
    if (auto lease = LeaseInfo::from_json(*l)) r.existing_lease = std::move(lease).value();
  }
  if (const Json* l = f.object("lease")) {
    if (auto lease = LeaseInfo::from_json(*l)) r.lease = std::move(lease).value();
  }
  r.retry_after = f.num("retry_after");
  return finish(f, std::move(r));
}

}  // namespace c2c::relay::protocol
