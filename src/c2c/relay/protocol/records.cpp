// JSON of the records that appear inside responses: leases, messages, dead letters, rooms.
#include "c2c/relay/protocol/json_fields.hpp"
#include "c2c/relay/protocol/messages.hpp"

namespace c2c::relay::protocol {

namespace {

using detail::Fields;
using detail::finish;
using detail::put_if;

}  // namespace

Json LeaseInfo::to_json() const {
  Json j = {{"node_id", node_id},
            {"session_id", session_id},
            {"alias", alias},
            {"client_type", client_type},
            {"registered_at", registered_at},
            {"last_seen", last_seen},
            {"ttl", ttl},
            {"alive", alive}};
  put_if(j, "identity_pk", identity_pk);
  put_if(j, "enc_pubkey", enc_pubkey);
  if (signed_at != 0) j["signed_at"] = signed_at;
  put_if(j, "sig_b64", sig_b64);
  return j;
}

Result<LeaseInfo> LeaseInfo::from_json(const Json& j) {
  Fields f(j, false);
  LeaseInfo l;
  l.node_id = f.str("node_id");
  l.session_id = f.str("session_id");
  l.alias = f.str("alias");
  l.client_type = f.str("client_type");
  l.registered_at = f.num("registered_at").value_or(0);
  l.last_seen = f.num("last_seen").value_or(0);
  l.ttl = f.num("ttl").value_or(300);
  l.alive = f.boolean("alive").value_or(false);
  l.identity_pk = f.str("identity_pk");
  l.enc_pubkey = f.str("enc_pubkey");
  l.signed_at = f.num("signed_at").value_or(0);
  l.sig_b64 = f.str("sig_b64");
  return finish(f, std::move(l));
}

Json Envelope::to_json() const {
  return {{"ct", ct},   {"enc", enc}, {"sender_pk", sender_pk},
          {"sig", sig}, {"ts", ts},   {"nonce", nonce}};
}

Result<Envelope> Envelope::from_json(const Json& j) {
  Fields f(j, true);
  Envelope e;
  e.ct = f.str("ct");
  e.enc = f.str("enc");
  e.sender_pk = f.str("sender_pk");
  e.sig = f.str("sig");
  e.ts = f.str("ts");
  e.nonce = f.str("nonce");
  return finish(f, std::move(e));
}

Json Message::to_json() const {
  Json j = {{"message_id", message_id}, {"from_alias", from_alias}};
  put_if(j, "to_alias", to_alias);
  j["content"] = content;
  j["ts"] = ts;
  put_if(j, "room_id", room_id);
  if (envelope) j["envelope"] = envelope->to_json();
  put_if(j, "from_node", from_node);
  put_if(j, "session_id", session_id);
  if (seq != 0) j["seq"] = seq;
  return j;
}

Result<Message> Message::from_json(const Json& j) {
  Fields f(j, false);
  Message m;
  m.message_id = f.str("message_id");
  m.from_alias = f.str("from_alias");
  m.to_alias = f.str("to_alias");
  m.content = f.str("content");
  m.ts = f.num("ts").value_or(0);
  m.room_id = f.str("room_id");
  if (const Json* env = f.object("envelope")) {
    if (auto e = Envelope::from_json(*env)) m.envelope = std::move(e).value();
  }
  m.from_node = f.str("from_node");
  m.session_id = f.str("session_id");
  if (auto it = j.find("seq"); it != j.end() && it->is_number_unsigned()) {
    m.seq = it->get<uint64_t>();
  }
  return finish(f, std::move(m));
}

Json DeadLetterEntry::to_json() const {
  Json j = message.to_json();
  j["reason"] = reason;
  j["dead_lettered_at"] = dead_lettered_at;
  return j;
}

Result<DeadLetterEntry> DeadLetterEntry::from_json(const Json& j) {
  auto m = Message::from_json(j);
  if (!m) return fail(m.error());
  Fields f(j, false);
  DeadLetterEntry d;
  d.message = std::move(m).value();
  d.reason = f.str("reason");
  d.dead_lettered_at = f.num("dead_lettered_at").value_or(d.message.ts);
  return finish(f, std::move(d));
}

Json Receipt::to_json() const {
  return {{"alias", alias},
          {"client_identity_pk", client_identity_pk},
          {"relay_identity_pk", relay_identity_pk},
          {"ts", ts},
          {"nonce", nonce},
          {"sig", sig}};
}

Result<Receipt> Receipt::from_json(const Json& j) {
  Fields f(j, false);
  Receipt r;
  r.alias = f.str("alias");
  r.client_identity_pk = f.str("client_identity_pk");
  r.relay_identity_pk = f.str("relay_identity_pk");
  r.ts = f.str("ts");
  r.nonce = f.str("nonce");
  r.sig = f.str("sig");
  return finish(f, std::move(r));
}

Json RoomInfo::to_json() const {
  return {{"room_id", room_id},
          {"visibility", visibility},
          {"member_count", members.size()},
          {"members", members}};
}

Result<RoomInfo> RoomInfo::from_json(const Json& j) {
  Fields f(j, false);
  RoomInfo r;
  r.room_id = f.str("room_id");
  r.visibility = f.str("visibility");
  if (r.visibility.empty()) r.visibility = "public";
  r.members = f.str_list("members").value_or(std::vector<std::string>{});
  return finish(f, std::move(r));
}

}  // namespace c2c::relay::protocol
