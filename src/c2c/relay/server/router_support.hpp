#pragma once
// Internal to relay/server: response builders and body parsing shared by the router's files.

#include <string>

#include "c2c/net/http_types.hpp"
#include "c2c/relay/protocol/messages.hpp"
#include "c2c/relay/server/outcome.hpp"

namespace c2c::relay::server {

net::Response error_response(const Failure& f);

inline net::Response json_response(int status, const protocol::Json& j) {
  net::Response r;
  r.status = status;
  // Invalid UTF-8 can only come from echoed request parts (e.g. an odd path): replace it.
  r.body = j.dump(-1, ' ', false, protocol::Json::error_handler_t::replace);
  return r;
}

// Parses the body as JSON and then as the route's DTO; every problem is 400 bad_request.
template <typename Dto>
Reply<Dto> parse_body(const net::Request& req) {
  protocol::Json j;
  try {
    j = protocol::Json::parse(req.body);
  } catch (const protocol::Json::exception& e) {  // parse_error, or out_of_range for 1e999
    return failure(FailureKind::kInvalid, ErrorCode::kBadRequest,
                   std::string("invalid JSON: ") + e.what());
  }
  auto dto = Dto::from_json(j);
  if (!dto) return failure(FailureKind::kInvalid, dto.error().code, dto.error().message);
  return std::move(dto).value();
}

template <typename T>
net::Response reply(const Reply<T>& r) {
  if (!r) return error_response(r.error());
  return json_response(200, r.value().to_json());
}

}  // namespace c2c::relay::server
