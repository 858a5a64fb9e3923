// The non-template parts of a server session: mapping read errors to responses, building
// c2c's Request, and the Responder.

#include "c2c/net/detail/session.hpp"

#include <cctype>

namespace c2c::net::detail {

std::optional<Response> response_for_read_error(const error_code& ec, const ServerLimits& limits) {
  if (ec == http::error::body_limit) {
    return error_response(
        413, "payload_too_large",
        "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes");
  }
  if (ec == http::error::header_limit) {
    return error_response(
        431, "bad_request",
        "request headers exceed " + std::to_string(limits.max_header_bytes) + " bytes");
  }
  // The peer went away, timed out or we are stopping: there is nobody to answer.
  if (ec == http::error::partial_message || ec == http::error::end_of_stream) return std::nullopt;
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
    return error_response(400, "bad_request", "malformed HTTP request: " + ec.message());
  }
  return std::nullopt;
}

Request to_request(http::request<http::string_body>&& msg, const std::string& remote_ip, bool tls) {
  Request r;
  auto method = msg.method_string();
  r.method.reserve(method.size());
  for (char c : method) {
    r.method.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  r.target = std::string(msg.target());
  auto q = r.target.find('?');
  if (q == std::string::npos) {
    r.path = r.target;
  } else {
    r.path = r.target.substr(0, q);
    r.query = r.target.substr(q + 1);
  }
  r.headers.reserve(8);
  for (const auto& field : msg) {
    r.headers.push_back(Header{std::string(field.name_string()), std::string(field.value())});
  }
  r.body = std::move(msg.body());
  r.remote_ip = remote_ip;
  r.tls = tls;
  return r;
}

void PendingResponse::release() {
  if (holders_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // The common case (already answered) must not pay for building the error body.
  if (done()) return;
  fulfil(error_response(500, "internal_error", "request handler dropped the request"));
}

}  // namespace c2c::net::detail
