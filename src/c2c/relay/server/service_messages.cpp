// RelayService: direct messages, broadcasts and inbox reads.
#include "c2c/core/ids.hpp"
#include "c2c/core/text.hpp"
#include "c2c/relay/server/convert.hpp"
#include "c2c/relay/server/relay_service.hpp"

namespace c2c::relay::server {

namespace {

std::string in_quotes(const std::string& s) {
  return "\"" + s + "\"";
}

}  // namespace

std::optional<Failure> RelayService::check_content(const std::string& content) const {
  if (content.size() > config_.max_content_bytes) {
    return failure(FailureKind::kInvalid, ErrorCode::kBadRequest,
                   "content is " + std::to_string(content.size()) + " bytes; the limit is " +
                       std::to_string(config_.max_content_bytes));
  }
  return std::nullopt;
}

std::optional<Failure> RelayService::check_sender(const std::string& from_alias,
                                                  const std::string& signer) const {
  if (is_reserved_alias(from_alias)) {
    // c2c-system speaks only for the relay (join/leave notices).
    return failure(FailureKind::kInvalid, ErrorCode::kInvalidAlias,
                   "from_alias " + in_quotes(from_alias) + " is reserved");
  }
  if (!signer.empty() && !iequals(signer, from_alias)) {
    return failure(FailureKind::kForbidden, ErrorCode::kSignatureInvalid,
                   "verified signer " + in_quotes(signer) + " does not match body from_alias " +
                       in_quotes(from_alias));
  }
  return std::nullopt;
}

bool RelayService::is_local_host(const std::string& host) const {
  // A node id routes here while some lease was registered from it: asked of the store, so every
  // relay of a cluster answers alike.
  return host.empty() || iequals(host, "relay") || iequals(host, config_.relay_name) ||
         !store_.leases_on_node(host).empty();
}

Result<void> RelayService::dead_letter(const StoredMessage& msg, const std::string& reason,
                                       double now) {
  DeadLetter dl;
  dl.message = msg;
  dl.reason = reason;
  dl.ts = now;
  return store_.add_dead_letter(dl);
}

Reply<protocol::SendResponse> RelayService::send(const protocol::SendRequest& req,
                                                 const std::string& signer) {
  if (auto f = check_content(req.content)) return std::move(*f);
  if (auto f = check_sender(req.from_alias, signer)) return std::move(*f);
  const double now = clock_.now();
  StoredMessage msg;
  msg.message_id = req.message_id.empty() ? new_uuid_v4() : req.message_id;
  msg.from_alias = req.from_alias;
  msg.content = req.content;
  msg.ts = now;

  const auto at = req.to_alias.find('@');
  const std::string bare = req.to_alias.substr(0, at);
  const std::string host = at == std::string::npos ? "" : req.to_alias.substr(at + 1);

  const Section section(mu_, store_, SectionScope::kMessages);
  if (!is_local_host(host)) {
    msg.to_alias = req.to_alias;  // the dead letter keeps what the sender asked for
    if (auto r = dead_letter(msg, "unknown_host", now); !r) return storage_failure(r.error());
    return failure(ErrorCode::kUnknownHost,
                   "unknown host " + in_quotes(host) + " in " + in_quotes(req.to_alias) +
                       ": this relay serves \"relay\", " + in_quotes(config_.relay_name) +
                       " and the node ids registered on it");
  }
  msg.to_alias = bare;
  // Aliases are case-insensitive (docs/security.md, finding 8.6): "BOB" reaches bob's lease.
  const auto lease = store_.get_lease(bare);
  if (!lease || !lease->alive(now)) {
    const bool unknown = !lease;
    if (auto r = dead_letter(msg, unknown ? "unknown_alias" : "recipient_dead", now); !r) {
      return storage_failure(r.error());
    }
    if (unknown)
      return failure(ErrorCode::kUnknownAlias, "no registration for alias " + in_quotes(bare));
    return failure(ErrorCode::kRecipientDead,
                   "alias " + in_quotes(bare) + " is registered but lease has expired");
  }
  protocol::SendResponse out;
  out.ts = now;
  out.message_id = msg.message_id;
  // Dedup only once the recipient is known to be alive, so a failed send does not burn the id.
  // The window is per sender: another sender's message with the same id is not a retry.
  if (store_.seen_message_id(req.from_alias, msg.message_id)) {
    out.duplicate = true;
    return out;
  }
  msg.to_alias = lease->alias;  // the recipient's registered spelling
  // The message and its dedup id: one all-or-nothing write (built in place: an initializer
  // list would copy the message).
  WriteBatch batch;
  batch.deliveries.push_back(Delivery{{lease->node_id, lease->session_id}, std::move(msg)});
  batch.remember_id = DedupId{req.from_alias, out.message_id, config_.dedup_window};
  if (auto r = apply(batch); !r) return storage_failure(r.error());
  return out;
}

Reply<protocol::FanoutResponse> RelayService::send_all(const protocol::SendAllRequest& req,
                                                       const std::string& signer) {
  if (auto f = check_content(req.content)) return std::move(*f);
  if (auto f = check_sender(req.from_alias, signer)) return std::move(*f);
  const double now = clock_.now();
  protocol::FanoutResponse out;
  out.ts = now;
  out.message_id = req.message_id.empty() ? new_uuid_v4() : req.message_id;

  const Section section(mu_, store_);
  // A retry of a fan-out that was applied (lost response, failed commit) must not deliver
  // twice: a client-supplied id goes through the dedup window like a /send.
  const bool client_id = !req.message_id.empty();
  if (client_id && store_.seen_message_id(req.from_alias, out.message_id)) {
    out.duplicate = true;
    return out;
  }
  WriteBatch batch;
  auto& deliveries = batch.deliveries;
  for (const auto& l : store_.list_leases()) {
    if (iequals(l.alias, req.from_alias)) continue;
    if (!l.alive(now)) {
      out.skipped.push_back(l.alias);
      continue;
    }
    StoredMessage msg;
    msg.message_id = out.message_id;
    msg.from_alias = req.from_alias;
    msg.to_alias = l.alias;
    msg.content = req.content;
    msg.ts = now;
    deliveries.push_back(Delivery{{l.node_id, l.session_id}, std::move(msg)});
    out.delivered.push_back(l.alias);
  }
  // Every copy and the dedup id: one all-or-nothing write.
  if (client_id) batch.remember_id = DedupId{req.from_alias, out.message_id, config_.dedup_window};
  if (auto r = apply(batch); !r) return storage_failure(r.error());
  return out;
}

std::optional<Failure> RelayService::check_inbox_owner(const InboxKey& key,
                                                       const std::string& signer) {
  if (signer.empty()) return std::nullopt;  // dev mode: the gate let an unsigned read through
  auto lease = store_.find_lease(key);
  if (lease && iequals(lease->alias, signer)) return std::nullopt;
  return failure(FailureKind::kForbidden, ErrorCode::kSignatureInvalid,
                 "verified signer " + in_quotes(signer) + " does not own session (" + key.node_id +
                     ", " + key.session_id + ")");
}

Reply<protocol::InboxResponse> RelayService::poll_inbox(const protocol::PollRequest& req,
                                                        const std::string& signer) {
  const InboxKey key{req.node_id, req.session_id};
  if (auto f = check_inbox_owner(key, signer)) return std::move(*f);
  // An acknowledgement names what one page delivered: bounded like a page, so a response never
  // carries a whole backlog (docs/relay-server.md, "Inbox pages").
  if (req.message_ids && req.message_ids->size() > config_.inbox_page.max_messages) {
    return failure(FailureKind::kInvalid, ErrorCode::kBadRequest,
                   "message_ids lists " + std::to_string(req.message_ids->size()) +
                       " ids; at most " + std::to_string(config_.inbox_page.max_messages) +
                       " per request");
  }
  protocol::InboxResponse out;
  auto drained = req.message_ids ? store_.drain_ids(key, *req.message_ids)
                                 : store_.drain_page(key, config_.inbox_page, &out.more);
  if (!drained) return storage_failure(drained.error());
  out.messages = to_wire(std::move(drained).value());
  add_sender_nodes(out.messages);
  return out;
}

Reply<protocol::InboxResponse> RelayService::peek_inbox(const protocol::SessionRequest& req,
                                                        const std::string& signer) {
  const InboxKey key{req.node_id, req.session_id};
  if (auto f = check_inbox_owner(key, signer)) return std::move(*f);
  protocol::InboxResponse out;
  out.messages = to_wire(store_.peek_page(key, config_.inbox_page, &out.more));
  add_sender_nodes(out.messages);
  return out;
}

}  // namespace c2c::relay::server
