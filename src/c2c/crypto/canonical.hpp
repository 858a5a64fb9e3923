#pragma once
// The bytes c2c signs. Exactly one place builds them, for client and server alike:
// canonical = CTX US field1 US ... US fieldN   (US = 0x1F, no trailing separator).

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "c2c/crypto/crypto.hpp"

namespace c2c::crypto {

inline constexpr std::string_view kCtxRegister = "c2c/v1/register";
inline constexpr std::string_view kCtxRegisterV2 = "c2c/v2/register";
inline constexpr std::string_view kCtxRequest = "c2c/v1/request";
inline constexpr std::string_view kCtxRegisterReceipt = "c2c/v1/register-receipt";
inline constexpr std::string_view kCtxRoomJoin = "c2c/v1/room-join";
inline constexpr std::string_view kCtxRoomLeave = "c2c/v1/room-leave";
inline constexpr std::string_view kCtxRoomInvite = "c2c/v1/room-invite";
inline constexpr std::string_view kCtxRoomUninvite = "c2c/v1/room-uninvite";
inline constexpr std::string_view kCtxRoomSetVisibility = "c2c/v1/room-set-visibility";
inline constexpr std::string_view kCtxRoomSend = "c2c/v1/room-send";
inline constexpr std::string_view kCtxDeliveryReceipt = "c2c/v1/delivery-receipt";
inline constexpr std::string_view kCtxDeliveryReceipts = "c2c/v1/delivery-receipts";

std::string canonical_blob(std::string_view ctx, std::initializer_list<std::string_view> fields);

// The bytes of a /register proof. Version 1 (the reference's) signs only
//   alias, relay_url, identity_pk, timestamp, nonce;
// version 2 also binds what the registration authorises (docs/relay-server.md, "Register proof"):
//   alias, relay_url, identity_pk, timestamp, nonce, node_id, session_id, ttl
// with ttl the lease's whole seconds in decimal.
std::string register_blob_v1(std::string_view alias, std::string_view relay_url,
                             std::string_view identity_pk, std::string_view timestamp,
                             std::string_view nonce);
std::string register_blob_v2(std::string_view alias, std::string_view relay_url,
                             std::string_view identity_pk, std::string_view timestamp,
                             std::string_view nonce, std::string_view node_id,
                             std::string_view session_id, int64_t ttl_seconds);

// "" for an empty body, else b64u(sha256(body)).
std::string body_hash(std::string_view body);

// Server-side query canonicalisation: pairs stably sorted by key, each "pct(k)=pct(v)",
// joined by '&'; keys without a value contribute nothing; "" when there is no query.
std::string canonical_query(std::string_view raw_query);

// Blob of the per-request signature (ctx c2c/v1/request).
std::string request_blob(std::string_view method, std::string_view path, std::string_view query,
                         std::string_view body_hash_b64u, std::string_view ts,
                         std::string_view nonce);

// Blob of a delivery receipt (ctx c2c/v1/delivery-receipt), signed by the recipient machine's
// identity (docs/security.md "Delivery receipts"): message id, state ("delivered" | "read"),
// recipient "alias@node", and the time in integer milliseconds (decimal), so both sides build
// the same bytes without formatting a float.
std::string delivery_receipt_blob(std::string_view message_id, std::string_view state,
                                  std::string_view recipient, long long ts_ms);
// Blob of a batched delivery receipt (ctx c2c/v1/delivery-receipts): one signature for several
// messages that reached one state at one time (docs/security.md "Delivery receipts"):
//   state, recipient, ts_ms, the number of ids (decimal), then each id in order.
// Ids never hold the separator (they are ids: no control characters), and the count makes the
// field list unambiguous anyway.
std::string delivery_receipts_blob(std::span<const std::string> message_ids, std::string_view state,
                                   std::string_view recipient, long long ts_ms);

// b64u(sign(blob)).
std::string sign_b64u(const KeyPair& keys, std::string_view blob);
// Verifies b64u signature text over blob; false on any decoding problem.
bool verify_b64u(const PublicKey& pk, std::string_view blob, std::string_view sig_b64u);

}  // namespace c2c::crypto
