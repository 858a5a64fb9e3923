// RelayService: delivery receipts (docs/relay-server.md "Delivery receipts"). The recipient
// machine posts signed receipts; the relay queues each one for the sender's alias under the
// inbox key {kReceiptsNode, <sender alias>} (an inbox no session reads, so connectors that do
// not know receipts never see them, and every Store backend holds them without a new table);
// the sender's connector fetches and acknowledges them. The relay checks the signature too,
// to refuse garbage early, but it is not the trust anchor: the sender verifies every receipt
// against the key it pinned for the recipient's alias (docs/security.md).
#include "c2c/core/ids.hpp"
#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"
#include "c2c/relay/server/relay_service.hpp"

namespace c2c::relay::server {

namespace {

std::string bare_alias(const std::string& address) {
  return address.substr(0, address.find('@'));
}

// Prod mode: a request about `alias`'s receipts must be signed as `alias`.
std::optional<Failure> signer_mismatch(const std::string& alias, const std::string& signer) {
  if (signer.empty() || signer == alias) return std::nullopt;
  return failure(FailureKind::kForbidden, ErrorCode::kSignatureInvalid,
                 "verified signer \"" + signer + "\" does not match body alias \"" + alias + "\"");
}

}  // namespace

Reply<protocol::ReceiptsResponse> RelayService::post_receipts(
    const protocol::PostReceiptsRequest& req, const std::string& signer) {
  if (auto f = signer_mismatch(req.alias, signer)) return std::move(*f);
  for (const auto& r : req.receipts) {
    if (bare_alias(r.recipient) != req.alias) {
      return failure(
          FailureKind::kForbidden, ErrorCode::kSignatureInvalid,
          "receipt recipient \"" + r.recipient + "\" is not alias \"" + req.alias + "\"");
    }
  }
  const double now = clock_.now();
  return in_transaction<protocol::ReceiptsResponse>(
      TxScope::kWhole, [&](Tx& tx) -> Reply<protocol::ReceiptsResponse> {
        protocol::ReceiptsResponse out;
        // A key-bound alias (prod) must sign its receipts with that key.
        std::optional<crypto::PublicKey> bound;
        if (auth_.prod_mode()) {
          if (auto pk = tx.get_binding(req.alias)) bound = crypto::b64u_decode_fixed<32>(*pk);
        }
        WriteBatch batch;
        for (const auto& r : req.receipts) {
          // One signature per receipt, batched or not.
          if (bound && !crypto::verify_b64u(*bound, r.signed_blob(), r.sig)) {
            return failure(
                FailureKind::kForbidden, ErrorCode::kSignatureInvalid,
                r.describe() + " is not signed by the key bound to \"" + req.alias + "\"");
          }
          // Only a sender the relay knows gets receipts (GC drops them with its lease).
          const auto sender = tx.get_lease(r.to_alias);
          if (!sender) continue;
          protocol::DeliveryReceipt queued = r;
          queued.receipt_id.clear();
          StoredMessage m;
          m.message_id = new_uuid_v4();
          m.from_alias = req.alias;
          m.to_alias = r.to_alias;
          m.content = queued.to_json().dump();
          m.ts = now;
          batch.deliveries.push_back(
              Delivery{{std::string(kReceiptsNode), sender->alias}, std::move(m)});
        }
        out.accepted = static_cast<int64_t>(batch.deliveries.size());
        if (!batch.empty()) {
          if (auto w = apply(tx, batch); !w) return storage_failure(w.error());
        }
        return out;
      });
}

Reply<protocol::ReceiptsResponse> RelayService::fetch_receipts(
    const protocol::FetchReceiptsRequest& req, const std::string& signer) {
  if (auto f = signer_mismatch(req.alias, signer)) return std::move(*f);
  return in_transaction<protocol::ReceiptsResponse>(
      TxScope::kWhole, [&](Tx& tx) -> Reply<protocol::ReceiptsResponse> {
        protocol::ReceiptsResponse out;
        if (!req.ack.empty()) {
          if (auto d = tx.drain_ids(receipts_key(req.alias), req.ack); !d) {
            return storage_failure(d.error());
          }
        }
        ReceiptBudget budget;
        out.receipts = queued_receipts(req.alias, budget, req.receipt_batches, nullptr);
        return out;
      });
}

InboxKey RelayService::receipts_key(const std::string& alias) {
  const auto lease = store_.get_lease(alias);
  return InboxKey{std::string(kReceiptsNode), lease ? lease->alias : alias};
}

std::vector<protocol::DeliveryReceipt> RelayService::queued_receipts(const std::string& alias,
                                                                     ReceiptBudget& budget,
                                                                     bool batches, bool* more) {
  std::vector<protocol::DeliveryReceipt> out;
  PageLimit limit;
  // One more than fits tells whether some are left; skipped batches (an older requester) take
  // page room too, so that one looks further.
  limit.max_messages = budget.receipts + (batches ? 1 : kMaxReceiptsPerFetch);
  for (auto& m : store_.peek_page(receipts_key(alias), limit, nullptr)) {
    auto j = nlohmann::json::parse(m.content, nullptr, /*allow_exceptions=*/false);
    auto r = protocol::DeliveryReceipt::from_json(j);
    if (!r) continue;  // never written by this relay
    if (r->batched() && !batches) continue;
    // A fresh budget holds any one receipt (kMaxIdsPerReceipt < kMaxReceiptIdsPerFetch).
    const size_t ids = r->batched() ? r->message_ids.size() : 1;
    if (budget.receipts == 0 || ids > budget.ids) {
      if (more != nullptr) *more = true;
      break;
    }
    budget.receipts -= 1;
    budget.ids -= ids;
    r->receipt_id = m.message_id;
    out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace c2c::relay::server
