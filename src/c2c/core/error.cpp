#include "c2c/core/error.hpp"

namespace c2c {

std::string_view to_wire(ErrorCode code) {
  // One line per code: the table reads as the mapping it is.
  // clang-format off
  switch (code) {
    case ErrorCode::kBadRequest: return "bad_request";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kInternal: return "internal_error";
    case ErrorCode::kIo: return "internal_error";
    case ErrorCode::kUnavailable: return "connection_error";
    case ErrorCode::kPayloadTooLarge: return "payload_too_large";
    case ErrorCode::kRateLimited: return "rate_limit_exceeded";
    case ErrorCode::kStorageUnavailable: return "storage_unavailable";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kSignatureInvalid: return "signature_invalid";
    case ErrorCode::kTimestampOutOfWindow: return "timestamp_out_of_window";
    case ErrorCode::kNonceReplay: return "nonce_replay";
    case ErrorCode::kMissingProofField: return "missing_proof_field";
    case ErrorCode::kUnsupportedEnc: return "unsupported_enc";
    case ErrorCode::kUnsignedRoomOp: return "unsigned_room_op";
    case ErrorCode::kInvalidAlias: return "invalid_alias";
    case ErrorCode::kReservedAlias: return "invalid_alias";
    case ErrorCode::kUnknownAlias: return "unknown_alias";
    case ErrorCode::kAliasConflict: return "alias_conflict";
    case ErrorCode::kAliasIdentityMismatch: return "alias_identity_mismatch";
    case ErrorCode::kAliasNotAllowed: return "alias_not_allowed";
    case ErrorCode::kRecipientDead: return "recipient_dead";
    case ErrorCode::kUnknownHost: return "unknown_host";
    case ErrorCode::kInvalidRoom: return "bad_request";
    case ErrorCode::kNotInvited: return "not_invited";
    case ErrorCode::kNotAMember: return "not_a_member";
  }
  // clang-format on
  return "internal_error";
}

}  // namespace c2c
