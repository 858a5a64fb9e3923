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

Reply<bool> RelayService::is_retry(Tx& tx, const std::string& from_alias,
                                   const std::string& client_message_id) {
  if (client_message_id.empty()) return false;
  auto fresh = tx.remember_message_id(from_alias, client_message_id, config_.dedup_window);
  if (!fresh) return storage_failure(fresh.error());
  return !*fresh;
}

Reply<protocol::SendResponse> RelayService::route_message(Tx& tx, const std::string& from_alias,
                                                          const std::string& to_alias,
                                                          std::string content,
                                                          const std::string& message_id, double now,
                                                          WriteBatch& batch) {
  StoredMessage msg;
  msg.message_id = message_id.empty() ? new_uuid_v4() : message_id;
  msg.from_alias = from_alias;
  msg.content = std::move(content);
  msg.ts = now;

  const auto at = to_alias.find('@');
  const std::string bare = to_alias.substr(0, at);
  const std::string host = at == std::string::npos ? "" : to_alias.substr(at + 1);
  auto dead = [&](const char* reason) {
    batch.dead_letters.push_back(DeadLetter{std::move(msg), reason, now});
  };
  if (!is_local_host(host)) {
    msg.to_alias = to_alias;  // the dead letter keeps what the sender asked for
    dead("unknown_host");
    return failure(ErrorCode::kUnknownHost,
                   "unknown host " + in_quotes(host) + " in " + in_quotes(to_alias) +
                       ": this relay serves \"relay\", " + in_quotes(config_.relay_name) +
                       " and the node ids registered on it");
  }
  msg.to_alias = bare;
  // Aliases are case-insensitive (docs/security.md, finding 8.6): "BOB" reaches bob's lease.
  const auto lease = tx.get_lease(bare);
  if (!lease || !lease->alive(now)) {
    const bool unknown = !lease;
    dead(unknown ? "unknown_alias" : "recipient_dead");
    if (unknown)
      return failure(ErrorCode::kUnknownAlias, "no registration for alias " + in_quotes(bare));
    return failure(ErrorCode::kRecipientDead,
                   "alias " + in_quotes(bare) + " is registered but lease has expired");
  }
  protocol::SendResponse out;
  out.ts = now;
  out.message_id = msg.message_id;
  // Dedup only once the recipient is known to be alive, so a failed send does not burn the id.
  // The window is per sender: another sender's message with the same id is not a retry. An id
  // earlier in the same batch is a retry too. The id is remembered in this transaction, with the
  // delivery that follows: both land, or neither. An id the relay made up cannot come back in a
  // retry, so it takes no place in the window (as for /send_all and /send_room).
  auto retry = is_retry(tx, from_alias, message_id);
  if (!retry) return retry.error();
  if (*retry) {
    out.duplicate = true;
    return out;
  }
  msg.to_alias = lease->alias;  // the recipient's registered spelling
  batch.deliveries.push_back(Delivery{{lease->node_id, lease->session_id}, std::move(msg)});
  return out;
}

Reply<protocol::SendResponse> RelayService::send(const protocol::SendRequest& req,
                                                 const std::string& signer) {
  if (auto f = check_content(req.content)) return std::move(*f);
  if (auto f = check_sender(req.from_alias, signer)) return std::move(*f);
  const double now = clock_.now();
  return in_transaction<protocol::SendResponse>(
      TxScope::kMessages, [&](Tx& tx) -> Reply<protocol::SendResponse> {
        WriteBatch batch;
        auto out = route_message(tx, req.from_alias, req.to_alias, req.content, req.message_id, now,
                                 batch);
        // A refused message still leaves its dead letter.
        if (auto r = apply(tx, batch); !r) return storage_failure(r.error());
        return out;
      });
}

Reply<protocol::SendBatchResponse> RelayService::send_batch(const protocol::SendBatchRequest& req,
                                                            const std::string& signer) {
  if (auto f = check_sender(req.from_alias, signer)) return std::move(*f);
  const double now = clock_.now();
  protocol::SendBatchResponse out;
  out.ts = now;
  out.results.reserve(req.messages.size());
  return in_transaction<protocol::SendBatchResponse>(
      TxScope::kMessages, [&](Tx& tx) -> Reply<protocol::SendBatchResponse> {
        // Every message gets /send's rules, in request order (so per-recipient order is the
        // request's), and all of them, dead letters and dedup ids included, are one all-or-nothing
        // write.
        WriteBatch batch;
        for (const auto& m : req.messages) {
          protocol::SendBatchResult result;
          result.message_id = m.message_id;
          if (!m.invalid.empty()) {
            result.error_code = std::string(c2c::to_wire(ErrorCode::kBadRequest));
            result.error = m.invalid;
            out.results.push_back(std::move(result));
            continue;
          }
          const auto refused = check_content(m.content);
          auto one = refused ? Reply<protocol::SendResponse>(*refused)
                             : route_message(tx, req.from_alias, m.to_alias, m.content,
                                             m.message_id, now, batch);
          // A storage failure fails the whole batch: its transaction is undone, and the client
          // retries it as a whole.
          if (!one && one.error().kind == FailureKind::kUnavailable) return one.error();
          if (one) {
            result.ok = true;
            result.message_id = one->message_id;
            result.duplicate = one->duplicate;
            result.ts = one->ts;
          } else {
            result.error_code = std::string(c2c::to_wire(one.error().error.code));
            result.error = one.error().error.message;
          }
          out.results.push_back(std::move(result));
        }
        if (auto r = apply(tx, batch); !r) return storage_failure(r.error());
        return out;
      });
}

Reply<protocol::FanoutResponse> RelayService::send_all(const protocol::SendAllRequest& req,
                                                       const std::string& signer) {
  if (auto f = check_content(req.content)) return std::move(*f);
  if (auto f = check_sender(req.from_alias, signer)) return std::move(*f);
  const double now = clock_.now();
  protocol::FanoutResponse out;
  out.ts = now;
  out.message_id = req.message_id.empty() ? new_uuid_v4() : req.message_id;

  return in_transaction<protocol::FanoutResponse>(
      TxScope::kWhole, [&](Tx& tx) -> Reply<protocol::FanoutResponse> {
        // A retry of a fan-out that was applied (lost response, failed commit) must not deliver
        // twice: a client-supplied id goes through the dedup window like a /send.
        auto retry = is_retry(tx, req.from_alias, req.message_id);
        if (!retry) return retry.error();
        if (*retry) {
          out.duplicate = true;
          return out;
        }
        WriteBatch batch;
        auto& deliveries = batch.deliveries;
        for (const auto& l : tx.list_leases()) {
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
        // Every copy, with the dedup id remembered above: one all-or-nothing transaction.
        if (auto r = apply(tx, batch); !r) return storage_failure(r.error());
        return out;
      });
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
  // One write, checked before: a kOneWrite transaction (no BEGIN/COMMIT round trips on
  // PostgreSQL).
  auto taken = transact_value(store_, TxScope::kOneWrite, [&](Tx& tx) {
    return req.message_ids ? tx.drain_ids(key, *req.message_ids)
                           : tx.drain_page(key, config_.inbox_page, &out.more);
  });
  if (!taken) return storage_failure(taken.error());
  out.messages = to_wire(std::move(taken).value());
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
