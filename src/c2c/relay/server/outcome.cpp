#include "c2c/relay/server/outcome.hpp"

namespace c2c::relay::server {

FailureKind default_kind(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
    case ErrorCode::kInvalidRoom:
    case ErrorCode::kMissingProofField:
    case ErrorCode::kUnsupportedEnc:
      return FailureKind::kInvalid;
    case ErrorCode::kUnauthorized:
    case ErrorCode::kSignatureInvalid:
    case ErrorCode::kTimestampOutOfWindow:
    case ErrorCode::kNonceReplay:
    case ErrorCode::kUnsignedRoomOp:
    case ErrorCode::kNotInvited:
    case ErrorCode::kNotAMember:
      return FailureKind::kUnauthenticated;
    case ErrorCode::kNotFound:
    case ErrorCode::kUnknownHost:
      return FailureKind::kNotFound;
    case ErrorCode::kPayloadTooLarge:
      return FailureKind::kTooLarge;
    case ErrorCode::kRateLimited:
      return FailureKind::kRateLimited;
    case ErrorCode::kStorageUnavailable:
      return FailureKind::kUnavailable;
    case ErrorCode::kInvalidAlias:
    case ErrorCode::kReservedAlias:
    case ErrorCode::kUnknownAlias:
    case ErrorCode::kAliasConflict:
    case ErrorCode::kAliasIdentityMismatch:
    case ErrorCode::kAliasNotAllowed:
    case ErrorCode::kRecipientDead:
      return FailureKind::kRejected;
    case ErrorCode::kInternal:
    case ErrorCode::kIo:
    case ErrorCode::kUnavailable:
      return FailureKind::kInternal;
  }
  return FailureKind::kInternal;
}

Failure storage_failure(const Error& e) {
  // Nothing unsaved is acknowledged: the client is told to retry (503), not that it failed for
  // good (docs/reliability.md "Disk full").
  return failure(FailureKind::kUnavailable, ErrorCode::kStorageUnavailable,
                 "storage unavailable, retry later: " + e.message);
}

}  // namespace c2c::relay::server
