#pragma once
// The one error vocabulary of c2c. Every module returns these codes inside Result<T>;
// each boundary maps them once: relay router -> HTTP status + wire error_code,
// MCP server -> isError tool result / JSON-RPC error, CLI -> "error: ..." + exit code.

#include <string>
#include <string_view>

namespace c2c {

enum class ErrorCode {
  // Generic
  kBadRequest,          // malformed input (wire: bad_request)
  kNotFound,            // unknown route / object (not_found)
  kInternal,            // a bug or an unexpected failure (internal_error)
  kIo,                  // file system / database failure (internal_error on the wire)
  kUnavailable,         // peer unreachable, connection refused, timeout (connection_error)
  kPayloadTooLarge,     // body over the limit (payload_too_large)
  kRateLimited,         // too many requests (rate_limit_exceeded)
  kStorageUnavailable,  // writes cannot be made durable now, e.g. disk full (storage_unavailable)
  // Auth
  kUnauthorized,          // missing / wrong credential (unauthorized)
  kSignatureInvalid,      // Ed25519 signature does not verify (signature_invalid)
  kTimestampOutOfWindow,  // ts outside the accepted window (timestamp_out_of_window)
  kNonceReplay,           // nonce already seen (nonce_replay)
  kMissingProofField,     // partial proof (missing_proof_field)
  kUnsupportedEnc,        // envelope enc other than none (unsupported_enc)
  kUnsignedRoomOp,        // room op without proof while required (unsigned_room_op)
  // Aliases and leases
  kInvalidAlias,           // alias fails the name rule (invalid_alias)
  kReservedAlias,          // c2c / c2c-system (invalid_alias on the wire)
  kUnknownAlias,           // no registration for alias (unknown_alias)
  kAliasConflict,          // alias held by another live session / node (alias_conflict)
  kAliasIdentityMismatch,  // alias bound to another key (alias_identity_mismatch)
  kAliasNotAllowed,        // allowlist refuses it (alias_not_allowed)
  kRecipientDead,          // registered but not alive (recipient_dead)
  kUnknownHost,            // alias@host with a host this relay does not serve (unknown_host)
  // Rooms
  kInvalidRoom,  // room id fails the name rule (bad_request on the wire)
  kNotInvited,   // invite-only room (not_invited)
  kNotAMember,   // caller is not a member (not_a_member)
};

// The snake_case code used on the wire and in JSON output ("alias_conflict", ...).
std::string_view to_wire(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace c2c
