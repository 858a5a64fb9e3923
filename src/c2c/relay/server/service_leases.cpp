// RelayService: leases, key bindings, GC and the operator routes.
#include <algorithm>
#include <cmath>
#include <unordered_set>

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

struct InboxKeyHash {
  size_t operator()(const InboxKey& k) const {
    return std::hash<std::string>()(k.node_id) * 31 + std::hash<std::string>()(k.session_id);
  }
};

}  // namespace

RelayService::RelayService(Store& store, Authenticator& auth, const Clock& clock,
                           ServiceConfig config, crypto::Identity relay_identity)
    : store_(store),
      auth_(auth),
      clock_(clock),
      config_(std::move(config)),
      identity_(std::move(relay_identity)) {}

protocol::LeaseInfo RelayService::lease_info(const Lease& l, double now) const {
  protocol::LeaseInfo i;
  i.node_id = l.node_id;
  i.session_id = l.session_id;
  i.alias = l.alias;
  i.client_type = l.client_type;
  i.registered_at = l.registered_at;
  i.last_seen = l.last_seen;
  i.ttl = l.ttl;
  i.alive = l.alive(now);
  i.identity_pk = l.identity_pk;
  i.enc_pubkey = l.enc_pubkey;
  i.signed_at = l.signed_at;
  i.sig_b64 = l.sig_b64;
  return i;
}

Reply<protocol::RegisterResponse> RelayService::register_alias(
    const protocol::RegisterRequest& req) {
  // Proof first (expensive, no lock needed): "" = unsigned.
  auto proof = auth_.verify_register_proof(req, register_urls_);
  if (!proof) return std::move(proof).error();
  const std::string& pk = proof.value();

  const double now = clock_.now();
  Lease fresh;
  fresh.alias = req.alias;
  fresh.node_id = req.node_id;
  fresh.session_id = req.session_id;
  fresh.client_type = req.client_type.empty() ? "unknown" : req.client_type;
  fresh.registered_at = now;
  fresh.last_seen = now;
  fresh.ttl = std::trunc(req.ttl.value_or(protocol::kDefaultLeaseTtl));
  fresh.enc_pubkey = req.enc_pubkey;
  fresh.signed_at = req.signed_at.value_or(0);
  fresh.sig_b64 = req.sig_b64;

  auto reject = [&](ErrorCode code, std::string message,
                    std::optional<Lease> holder = std::nullopt) -> Failure {
    Failure f = failure(code, std::move(message));
    f.existing_lease = lease_info(holder ? *holder : fresh, now);
    return f;
  };

  // alias_identity_mismatch reports the lease that holds the alias (none: the alias is bound
  // but has no lease), never the refused request.
  auto mismatch = [&](const std::optional<Lease>& holder, std::string message) -> Failure {
    Failure f = failure(ErrorCode::kAliasIdentityMismatch, std::move(message));
    if (holder) f.existing_lease = lease_info(*holder, now);
    return f;
  };

  if (!is_valid_alias(req.alias) || is_reserved_alias(req.alias)) {
    return reject(ErrorCode::kInvalidAlias,
                  "invalid alias " + in_quotes(req.alias) +
                      ": use 1-64 of [A-Za-z0-9._-], no leading '.', not c2c or c2c-system");
  }
  const auto pinned =
      std::find_if(config_.allowlist.begin(), config_.allowlist.end(),
                   [&](const auto& entry) { return iequals(entry.first, req.alias); });
  if (pinned != config_.allowlist.end()) {
    if (pk.empty() || pk != pinned->second) {
      return reject(ErrorCode::kAliasNotAllowed,
                    "alias " + in_quotes(req.alias) +
                        " is pinned by the operator to another identity; register signed with "
                        "the pinned key");
    }
  }

  protocol::RegisterResponse out;
  auto registered = in_transaction<protocol::RegisterResponse>(
      TxScope::kWhole, [&](Tx& tx) -> Reply<protocol::RegisterResponse> {
        const auto binding = tx.get_binding(req.alias);
        // Looked up case-insensitively: "XA1" finds xa1's binding and lease (finding 8.6 in
        // docs/security.md).
        const auto existing = tx.get_lease(req.alias);
        if (!pk.empty() && binding && *binding != pk) {
          return mismatch(
              existing, "alias " + in_quotes(req.alias) + " is bound to a different identity key");
        }
        if (pk.empty() && binding && auth_.prod_mode()) {
          // docs/decisions.md D3: in prod an unsigned registration cannot take over a key-bound
          // alias.
          return mismatch(
              existing,
              "alias " + in_quotes(req.alias) +
                  " is bound to an identity key; the registration must be signed with it");
        }
        if (existing && existing->alive(now) && existing->node_id != req.node_id) {
          return reject(ErrorCode::kAliasConflict,
                        "alias " + in_quotes(req.alias) + " is held by a live session on node " +
                            in_quotes(existing->node_id),
                        existing);
        }
        const bool proof_v1 = !pk.empty() && req.proof_version == 1;
        if (proof_v1 && existing &&
            (existing->node_id != req.node_id || existing->session_id != req.session_id)) {
          // A version-1 proof does not sign node_id, session_id or ttl: replayed with other values
          // it would move the lease and its queued messages (docs/security.md, 8.5). It may create
          // a lease, or refresh the very session it names, never move one.
          return reject(ErrorCode::kSignatureInvalid,
                        "alias " + in_quotes(req.alias) +
                            " has a lease on another session; a version-1 register proof (no "
                            "node_id/session_id/ttl signed) cannot move it: upgrade c2c, whose "
                            "clients sign version 2",
                        existing);
        }
        if (proof_v1 && existing) {
          // Same session: a refresh. What the proof does not sign stays as the lease has it.
          fresh.ttl = existing->ttl;
          fresh.client_type = existing->client_type;
          fresh.enc_pubkey = existing->enc_pubkey;
          fresh.signed_at = existing->signed_at;
          fresh.sig_b64 = existing->sig_b64;
        }
        if (existing && existing->node_id == req.node_id) {
          fresh.registered_at = existing->registered_at;
        }
        fresh.identity_pk = !pk.empty() ? pk : binding.value_or("");
        // Binding, inbox move and lease: one all-or-nothing write.
        WriteBatch batch;
        if (!pk.empty() && !binding) batch.binding.emplace(req.alias, pk);
        if (existing && existing->node_id == req.node_id &&
            existing->session_id != req.session_id) {
          // Managed restart on the same node: the new session inherits the queued messages.
          batch.move_inbox.emplace(InboxKey{existing->node_id, existing->session_id},
                                   InboxKey{req.node_id, req.session_id});
        }
        batch.lease = fresh;
        if (auto r = apply(tx, batch); !r) return storage_failure(r.error());
        out.lease = lease_info(fresh, now);
        return out;
      });
  if (!registered) return registered;

  if (!pk.empty()) {
    protocol::Receipt receipt;
    receipt.alias = req.alias;
    receipt.client_identity_pk = pk;
    receipt.relay_identity_pk = identity_.public_key_b64u();
    receipt.ts = format_rfc3339_utc(now);
    receipt.nonce = crypto::random_nonce();
    receipt.sig = crypto::sign_b64u(
        identity_.keys,
        crypto::canonical_blob(crypto::kCtxRegisterReceipt,
                               {receipt.alias, receipt.client_identity_pk,
                                receipt.relay_identity_pk, receipt.ts, receipt.nonce}));
    out.receipt = std::move(receipt);
  }
  return out;
}

Reply<protocol::RegisterResponse> RelayService::heartbeat(const protocol::SessionRequest& req,
                                                          const std::string& signer) {
  const double now = clock_.now();
  return in_transaction<protocol::RegisterResponse>(
      TxScope::kWhole, [&](Tx& tx) -> Reply<protocol::RegisterResponse> {
        auto lease = tx.find_lease({req.node_id, req.session_id});
        if (!signer.empty() && (!lease || !iequals(lease->alias, signer))) {
          return failure(FailureKind::kForbidden, ErrorCode::kSignatureInvalid,
                         "verified signer " + in_quotes(signer) + " does not own session (" +
                             req.node_id + ", " + req.session_id + ")");
        }
        if (!lease) {
          Failure f = failure(ErrorCode::kUnknownAlias, "unknown node");
          Lease dummy;
          dummy.alias = "_error";
          dummy.node_id = req.node_id;
          dummy.session_id = req.session_id;
          f.lease = lease_info(dummy, now);
          return f;
        }
        // A heartbeat revives an expired lease that GC has not removed yet.
        lease->last_seen = now;
        if (auto r = tx.put_lease(*lease); !r) return storage_failure(r.error());
        protocol::RegisterResponse out;
        out.lease = lease_info(*lease, now);
        return out;
      });
}

protocol::ListResponse RelayService::list(bool include_dead) {
  const double now = clock_.now();
  protocol::ListResponse out;
  for (const auto& l : store_.list_leases()) {
    if (include_dead || l.alive(now)) out.peers.push_back(lease_info(l, now));
  }
  return out;
}

Reply<protocol::GcResponse> RelayService::gc() {
  const double now = clock_.now();
  return in_transaction<protocol::GcResponse>(
      TxScope::kWhole, [&](Tx& tx) -> Reply<protocol::GcResponse> {
        protocol::GcResponse out;
        // Expired leases, their memberships and the inboxes nobody owns: one all-or-nothing write.
        WriteBatch batch;
        std::unordered_set<InboxKey, InboxKeyHash> owned;
        const auto rooms = tx.list_rooms();
        for (const auto& l : tx.list_leases()) {
          if (l.alive(now)) {
            owned.insert({l.node_id, l.session_id});
            owned.insert({std::string(kReceiptsNode), l.alias});  // its delivery receipts
            continue;
          }
          batch.remove_leases.push_back(l.alias);
          for (const auto& room : rooms) {
            for (const auto& m : room.members) {
              if (iequals(m, l.alias)) batch.remove_members.emplace_back(room.room_id, m);
            }
          }
          out.expired.push_back(l.alias);
        }
        for (const auto& key : tx.inbox_keys()) {
          if (!owned.count(key)) batch.remove_inboxes.push_back(key);
        }
        if (auto r = apply(tx, batch); !r) return storage_failure(r.error());
        out.pruned = static_cast<int64_t>(batch.remove_inboxes.size());
        return out;
      });
}

protocol::DeadLetterResponse RelayService::dead_letters() {
  protocol::DeadLetterResponse out;
  for (auto& dl : store_.dead_letters()) {
    protocol::DeadLetterEntry e;
    e.message = to_wire(std::move(dl.message));
    e.reason = std::move(dl.reason);
    e.dead_lettered_at = dl.ts;
    out.dead_letter.push_back(std::move(e));
  }
  return out;
}

Reply<protocol::UnbindResponse> RelayService::unbind(const protocol::UnbindRequest& req) {
  protocol::UnbindResponse out;
  out.alias = req.alias;
  auto unbound = in_transaction<protocol::UnbindResponse>(
      TxScope::kWhole, [&](Tx& tx) -> Reply<protocol::UnbindResponse> {
        // The binding and the lease's copy of the key (so the next signed registration may bind a
        // new one): one all-or-nothing write.
        WriteBatch batch;
        out.removed = tx.get_binding(req.alias).has_value();
        if (out.removed) batch.remove_binding = req.alias;
        if (auto lease = tx.get_lease(req.alias); lease && !lease->identity_pk.empty()) {
          lease->identity_pk.clear();
          batch.lease = std::move(*lease);
        }
        if (auto r = apply(tx, batch); !r) return storage_failure(r.error());
        return out;
      });
  if (!unbound) return unbound;
  if (audit_sink_) {
    audit_sink_("audit: admin_unbind alias=" + req.alias +
                " removed=" + (out.removed ? "true" : "false"));
  }
  return out;
}

Reply<protocol::PubkeyResponse> RelayService::pubkey(const std::string& alias) {
  if (!is_valid_alias(alias)) {
    return failure(FailureKind::kInvalid, ErrorCode::kBadRequest, "invalid alias format: " + alias);
  }
  auto bound = store_.get_binding(alias);
  if (!bound) return failure(ErrorCode::kNotFound, "unknown alias: " + alias);
  protocol::PubkeyResponse out;
  out.alias = alias;
  out.ed25519_pubkey = *bound;
  if (auto lease = store_.get_lease(alias)) {
    out.x25519_pubkey = lease->enc_pubkey;
    out.signed_at = lease->signed_at;
    out.signature = lease->sig_b64;
  }
  return out;
}

Gauges RelayService::gauges() {
  const double now = clock_.now();
  Gauges g;
  for (const auto& l : store_.list_leases()) {
    ++g.leases_total;
    if (l.alive(now)) ++g.leases_alive;
  }
  g.queued_messages = store_.queued_messages();
  g.rooms = store_.list_rooms().size();
  return g;
}

}  // namespace c2c::relay::server
