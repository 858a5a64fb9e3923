// RelayService: rooms (membership, notices, fan-out, history, visibility, invites).
#include <algorithm>

#include "c2c/core/ids.hpp"
#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"
#include "c2c/relay/protocol/routes.hpp"
#include "c2c/relay/server/convert.hpp"
#include "c2c/relay/server/relay_service.hpp"

namespace c2c::relay::server {

namespace {

std::string in_quotes(const std::string& s) {
  return "\"" + s + "\"";
}

std::optional<Failure> check_room_id(const std::string& room_id) {
  if (is_valid_room_id(room_id)) return std::nullopt;
  return failure(FailureKind::kInvalid, ErrorCode::kBadRequest,
                 "invalid room_id " + in_quotes(room_id) + ": use 1-64 of [A-Za-z0-9_-]");
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Room members are aliases, which are case-insensitive (docs/security.md, finding 8.6).
bool is_member(const Room& room, const std::string& alias) {
  return std::any_of(room.members.begin(), room.members.end(),
                     [&](const std::string& m) { return iequals(m, alias); });
}

}  // namespace

std::optional<Failure> RelayService::check_room_op_signed(const std::string& alias, bool is_signed,
                                                          RoomOpGate gate) const {
  if (is_signed) return std::nullopt;
  if (gate == RoomOpGate::kGated && config_.require_signed_room_ops) {
    return failure(ErrorCode::kUnsignedRoomOp, "room operations must be signed on this relay");
  }
  if (auth_.prod_mode() && store_.get_binding(alias)) {
    return failure(ErrorCode::kUnsignedRoomOp,
                   "alias " + in_quotes(alias) +
                       " is bound to an identity key: room operations for it must be signed");
  }
  return std::nullopt;
}

std::string RelayService::room_reader(const std::string& named, const std::string& signer) const {
  if (!signer.empty()) return signer;
  return auth_.prod_mode() ? std::string() : named;
}

namespace {

bool invite_only(const Room& room) {
  return room.visibility == "invite";
}

Failure closed_room(const std::string& room_id, const std::string& alias, const char* what) {
  return failure(ErrorCode::kNotAMember,
                 "room " + in_quotes(room_id) + " is invite-only: only its members may " + what +
                     (alias.empty() ? std::string(" (sign the request as a member)")
                                    : ", and " + in_quotes(alias) + " is not one"));
}

Failure not_a_member(const std::string& room_id, const std::string& alias) {
  return failure(ErrorCode::kNotAMember,
                 "alias " + in_quotes(alias) + " is not a member of room " + in_quotes(room_id));
}

}  // namespace

Result<void> RelayService::apply(Tx& tx, const WriteBatch& batch) {
  if (batch.empty()) return {};
  C2C_TRY(apply_batch(tx, batch));
  if (!batch.deliveries.empty() || batch.move_inbox) {
    std::vector<std::string> nodes;
    for (const auto& d : batch.deliveries) {
      std::string node = d.key.node_id;
      // A receipt wakes the stream of the machine its sender (the inbox's "session") is on.
      if (node == kReceiptsNode) {
        auto sender = tx.get_lease(d.key.session_id);
        if (!sender) continue;
        node = std::move(sender->node_id);
      }
      if (nodes.empty() || nodes.back() != node) nodes.push_back(std::move(node));
    }
    if (batch.move_inbox) nodes.push_back(batch.move_inbox->second.node_id);
    record_woken(std::move(nodes));
  }
  if (history_sink_) {
    for (const auto& [room_id, entry] : batch.history) history_sink_(room_id, entry);
  }
  return {};
}

void RelayService::fan_out(const std::string& room_id, const std::vector<std::string>& recipients,
                           const StoredMessage& msg, double now, WriteBatch& batch,
                           std::vector<std::string>* delivered, std::vector<std::string>* skipped) {
  for (const auto& member : recipients) {
    StoredMessage copy = msg;
    copy.to_alias = member + "#" + room_id;
    copy.room_id = room_id;
    const auto lease = store_.get_lease(member);
    if (!lease || !lease->alive(now)) {
      batch.dead_letters.push_back(
          DeadLetter{std::move(copy), lease ? "recipient_dead" : "unknown_alias", now});
      if (skipped) skipped->push_back(member);
      continue;
    }
    batch.deliveries.push_back(Delivery{{lease->node_id, lease->session_id}, std::move(copy)});
    if (delivered) delivered->push_back(member);
  }
}

void RelayService::room_notice(const std::string& room_id,
                               const std::vector<std::string>& recipients,
                               const std::string& content, double now, WriteBatch& batch) {
  StoredMessage notice;
  notice.message_id = new_uuid_v4();
  notice.from_alias = std::string(protocol::kSystemAlias);
  notice.content = content;
  notice.ts = now;
  notice.room_id = room_id;
  batch.history.emplace_back(room_id, notice);
  fan_out(room_id, recipients, notice, now, batch, nullptr, nullptr);
}

Reply<protocol::RoomOpResponse> RelayService::join_room(const protocol::RoomOpRequest& req,
                                                        const std::string& signer) {
  if (auto f = check_room_id(req.room_id)) return std::move(*f);
  auto proof = auth_.verify_room_proof(crypto::kCtxRoomJoin, req.room_id, req.alias, req.proof);
  if (!proof) return std::move(proof).error();
  const bool header_signed = !signer.empty() && iequals(signer, req.alias);
  if (auto f = check_room_op_signed(req.alias, !proof.value().empty() || header_signed)) {
    return std::move(*f);
  }
  // The key that speaks for the caller: the proof's, else the binding behind a verified header.
  std::string caller_pk = proof.value();
  if (caller_pk.empty() && header_signed) caller_pk = store_.get_binding(req.alias).value_or("");

  const double now = clock_.now();
  return in_transaction<protocol::RoomOpResponse>(
      TxScope::kWhole, [&](Tx& tx) -> Reply<protocol::RoomOpResponse> {
        auto room = tx.get_room(req.room_id);
        const bool already_member = room && is_member(*room, req.alias);
        if (room && room->visibility == "invite" && !already_member &&
            (caller_pk.empty() || !contains(room->invited, caller_pk))) {
          return failure(ErrorCode::kNotInvited, "room " + in_quotes(req.room_id) +
                                                     " is invite-only and " + in_quotes(req.alias) +
                                                     " is not invited");
        }
        const auto lease = tx.get_lease(req.alias);
        if (!lease) {
          return failure(ErrorCode::kUnknownAlias,
                         "alias " + in_quotes(req.alias) + " is not registered");
        }
        if (!already_member) {
          // The room (when new), the membership and the join notice: one all-or-nothing write.
          WriteBatch batch;
          if (!room) {
            room.emplace();
            room->room_id = req.room_id;
            batch.room = *room;
          }
          // Members are listed as their aliases are registered (one spelling per alias).
          batch.add_member.emplace(req.room_id, lease->alias);
          auto members = room->members;
          members.push_back(lease->alias);  // the joiner gets the notice too
          room_notice(req.room_id, members, req.alias + " joined room " + req.room_id, now, batch);
          if (auto r = apply(tx, batch); !r) return storage_failure(r.error());
        }
        protocol::RoomOpResponse out;
        out.room_id = req.room_id;
        out.alias = req.alias;
        return out;
      });
}

Reply<protocol::RoomOpResponse> RelayService::leave_room(const protocol::RoomOpRequest& req,
                                                         const std::string& signer) {
  if (auto f = check_room_id(req.room_id)) return std::move(*f);
  auto proof = auth_.verify_room_proof(crypto::kCtxRoomLeave, req.room_id, req.alias, req.proof);
  if (!proof) return std::move(proof).error();
  const bool header_signed = !signer.empty() && iequals(signer, req.alias);
  if (auto f = check_room_op_signed(req.alias, !proof.value().empty() || header_signed)) {
    return std::move(*f);
  }
  const double now = clock_.now();
  return in_transaction<protocol::RoomOpResponse>(
      TxScope::kWhole, [&](Tx& tx) -> Reply<protocol::RoomOpResponse> {
        // Leaving a room that does not exist is a no-op (the original c2c created an empty room).
        if (auto room = tx.get_room(req.room_id); room && is_member(*room, req.alias)) {
          // The membership and the leave notice to those who stay: one all-or-nothing write.
          WriteBatch batch;
          batch.remove_members.emplace_back(req.room_id, req.alias);
          std::vector<std::string> remaining;
          for (auto& m : room->members) {
            if (!iequals(m, req.alias)) remaining.push_back(std::move(m));
          }
          if (!remaining.empty()) {
            room_notice(req.room_id, remaining, req.alias + " left room " + req.room_id, now,
                        batch);
          }
          if (auto r = apply(tx, batch); !r) return storage_failure(r.error());
        }
        protocol::RoomOpResponse out;
        out.room_id = req.room_id;
        out.alias = req.alias;
        return out;
      });
}

Reply<protocol::FanoutResponse> RelayService::send_room(const protocol::SendRoomRequest& req,
                                                        const std::string& signer) {
  if (auto f = check_room_id(req.room_id)) return std::move(*f);
  if (auto f = check_content(req.content)) return std::move(*f);
  if (auto f = check_sender(req.from_alias, signer)) return std::move(*f);
  if (req.envelope) {
    auto v = auth_.verify_envelope(req.room_id, req.from_alias, req.content, *req.envelope);
    if (!v) return std::move(v).error();
  }
  // send_room is outside the require_signed_room_ops gate (docs/protocol.md §2), not the key-bound
  // rule.
  const bool is_signed = req.envelope || (!signer.empty() && iequals(signer, req.from_alias));
  if (auto f = check_room_op_signed(req.from_alias, is_signed, RoomOpGate::kKeyBoundOnly)) {
    return std::move(*f);
  }
  const double now = clock_.now();
  protocol::FanoutResponse out;
  out.ts = now;
  out.room_id = req.room_id;
  out.message_id = req.message_id.empty() ? new_uuid_v4() : req.message_id;

  return in_transaction<protocol::FanoutResponse>(
      TxScope::kWhole, [&](Tx& tx) -> Reply<protocol::FanoutResponse> {
        auto room = tx.get_room(req.room_id);
        if (room && invite_only(*room)) {
          // Closed to non-members, as in the local broker; in prod the sender proves membership
          // with the member's bound key (an envelope from an unbound alias could be signed by
          // anyone).
          if (!is_member(*room, req.from_alias))
            return closed_room(req.room_id, req.from_alias, "send");
          if (auth_.prod_mode() && !(is_signed && tx.get_binding(req.from_alias))) {
            return failure(ErrorCode::kUnsignedRoomOp,
                           "room " + in_quotes(req.room_id) +
                               " is invite-only: sends must be signed with the member's bound key");
          }
        }
        // An unknown or empty room records nothing (docs/protocol.md §4).
        if (!room || room->members.empty()) return out;
        // A retried fan-out (lost response, failed commit) must not deliver twice: a
        // client-supplied id goes through the dedup window like a /send.
        auto retry = is_retry(tx, req.from_alias, req.message_id);
        if (!retry) return retry.error();
        if (*retry) {
          out.duplicate = true;
          return out;
        }
        StoredMessage msg;
        msg.message_id = out.message_id;
        msg.from_alias = req.from_alias;
        msg.content = req.content;
        msg.ts = now;
        msg.room_id = req.room_id;
        if (req.envelope) msg.envelope = req.envelope->to_json().dump();
        std::vector<std::string> recipients;
        for (const auto& m : room->members) {
          if (!iequals(m, req.from_alias)) recipients.push_back(m);
        }
        // Copies, dead letters and the history entry, with the dedup id remembered above: one
        // all-or-nothing transaction.
        WriteBatch batch;
        fan_out(req.room_id, recipients, msg, now, batch, &out.delivered, &out.skipped);
        batch.history.emplace_back(req.room_id, msg);
        if (auto r = apply(tx, batch); !r) return storage_failure(r.error());
        return out;
      });
}

protocol::ListRoomsResponse RelayService::list_rooms(const std::string& named,
                                                     const std::string& signer) {
  const std::string reader = room_reader(named, signer);
  protocol::ListRoomsResponse out;
  for (auto& room : store_.list_rooms()) {
    // An invite-only room is invisible to non-members: neither it nor its members are listed.
    if (invite_only(room) && (reader.empty() || !is_member(room, reader))) continue;
    protocol::RoomInfo info;
    info.room_id = std::move(room.room_id);
    info.visibility = std::move(room.visibility);
    info.members = std::move(room.members);
    out.rooms.push_back(std::move(info));
  }
  return out;
}

Reply<protocol::RoomHistoryResponse> RelayService::room_history(
    const protocol::RoomHistoryRequest& req, const std::string& signer) {
  if (auto f = check_room_id(req.room_id)) return std::move(*f);
  if (auto room = store_.get_room(req.room_id); room && invite_only(*room)) {
    const std::string reader = room_reader(req.alias, signer);
    if (reader.empty() || !is_member(*room, reader)) {
      return closed_room(req.room_id, reader, "read its history");
    }
  }
  protocol::RoomHistoryResponse out;
  out.room_id = req.room_id;
  out.history = to_wire(store_.history(req.room_id, static_cast<size_t>(req.limit)));
  return out;
}

Reply<protocol::VisibilityResponse> RelayService::set_room_visibility(
    const protocol::SetVisibilityRequest& req, const std::string& signer) {
  if (auto f = check_room_id(req.room_id)) return std::move(*f);
  auto proof =
      auth_.verify_room_proof(crypto::kCtxRoomSetVisibility, req.room_id, req.alias, req.proof);
  if (!proof) return std::move(proof).error();
  const bool header_signed = !signer.empty() && iequals(signer, req.alias);
  if (auto f = check_room_op_signed(req.alias, !proof.value().empty() || header_signed)) {
    return std::move(*f);
  }
  return in_transaction<protocol::VisibilityResponse>(
      TxScope::kWhole, [&](Tx& tx) -> Reply<protocol::VisibilityResponse> {
        auto room = tx.get_room(req.room_id);
        if (!room || !is_member(*room, req.alias)) return not_a_member(req.room_id, req.alias);
        room->visibility = req.visibility;
        if (auto r = tx.put_room(*room); !r) return storage_failure(r.error());
        protocol::VisibilityResponse out;
        out.room_id = req.room_id;
        out.visibility = req.visibility;
        return out;
      });
}

Reply<protocol::InviteResponse> RelayService::invite(const protocol::InviteRequest& req, bool add,
                                                     const std::string& signer) {
  if (auto f = check_room_id(req.room_id)) return std::move(*f);
  if (!crypto::b64u_decode_fixed<32>(req.invitee_pk)) {
    return failure(FailureKind::kInvalid, ErrorCode::kBadRequest,
                   "invitee_pk must be a base64url (no padding) Ed25519 public key of 32 bytes");
  }
  if (!signer.empty() && !iequals(signer, req.alias)) {
    return failure(FailureKind::kForbidden, ErrorCode::kSignatureInvalid,
                   "verified signer " + in_quotes(signer) + " does not match body alias " +
                       in_quotes(req.alias));
  }
  auto proof = auth_.verify_room_proof(add ? crypto::kCtxRoomInvite : crypto::kCtxRoomUninvite,
                                       req.room_id, req.alias, req.proof);
  if (!proof) return std::move(proof).error();
  if (auto f = check_room_op_signed(req.alias, !proof.value().empty() || !signer.empty(),
                                    RoomOpGate::kKeyBoundOnly)) {
    return std::move(*f);
  }
  return in_transaction<protocol::InviteResponse>(
      TxScope::kWhole, [&](Tx& tx) -> Reply<protocol::InviteResponse> {
        auto room = tx.get_room(req.room_id);
        if (!room || !is_member(*room, req.alias)) return not_a_member(req.room_id, req.alias);
        auto& invited = room->invited;
        const auto it = std::find(invited.begin(), invited.end(), req.invitee_pk);
        if (add && it == invited.end()) invited.push_back(req.invitee_pk);
        if (!add && it != invited.end()) invited.erase(it);
        if (auto r = tx.put_room(*room); !r) return storage_failure(r.error());
        protocol::InviteResponse out;
        out.room_id = req.room_id;
        out.invited_members = invited;
        return out;
      });
}

}  // namespace c2c::relay::server
