#pragma once
// What a relay operation answers when it does not succeed. The service says *what kind* of
// failure it is (malformed input, failed authentication, a semantic rejection, ...); the router
// turns each kind into exactly one HTTP status (router.cpp `status_of`). The wire error_code
// comes from the c2c::ErrorCode (core/error.hpp `to_wire`).

#include <optional>
#include <utility>

#include "c2c/core/error.hpp"
#include "c2c/core/result.hpp"
#include "c2c/relay/protocol/messages.hpp"

namespace c2c::relay::server {

enum class FailureKind {
  kInvalid,          // malformed or out-of-range input (400)
  kUnauthenticated,  // missing / wrong credential or proof (401)
  kForbidden,        // authenticated, but not as the party that may do this (403)
  kNotFound,         // unknown route, alias or host (404)
  kTooLarge,         // body over the limit (413)
  // kRejected: a semantic "no" in the original shape (docs/decisions.md D5).
  kRejected,     // HTTP 200 + ok:false
  kRateLimited,  // (429)
  kUnavailable,  // storage cannot persist writes now: retry later (503 + Retry-After)
  kInternal,     // storage failure or bug (500)
};

struct Failure {
  FailureKind kind = FailureKind::kInternal;
  Error error;
  std::optional<protocol::LeaseInfo> existing_lease;  // register rejections
  std::optional<protocol::LeaseInfo> lease;           // heartbeat unknown_alias
};

// The kind a code has unless the caller says otherwise.
FailureKind default_kind(ErrorCode code);

// Failure for a storage error: 503 storage_unavailable (retry later).
Failure storage_failure(const Error& e);

inline Failure failure(ErrorCode code, std::string message) {
  return Failure{default_kind(code), Error{code, std::move(message)}, {}, {}};
}
inline Failure failure(FailureKind kind, ErrorCode code, std::string message) {
  return Failure{kind, Error{code, std::move(message)}, {}, {}};
}
inline Failure failure(Error e) {
  const auto kind = default_kind(e.code);
  return Failure{kind, std::move(e), {}, {}};
}

// A value or a Failure: the relay service's Result. The router maps the Failure to HTTP
// (router_support.hpp `error_response`).
template <typename T>
using Reply = Result<T, Failure>;

}  // namespace c2c::relay::server
