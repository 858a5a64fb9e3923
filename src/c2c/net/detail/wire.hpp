#pragma once
// Internal to c2c_net: the bytes of an HTTP/1.x response head and the JSON error bodies the
// server writes itself (before any handler runs). No Boost here.

#include <string>
#include <string_view>

#include "c2c/net/http_types.hpp"

namespace c2c::net::detail {

bool iequals(std::string_view a, std::string_view b);

struct HeadOptions {
  unsigned version = 11;     // 10 or 11, as in the request
  bool keep_alive = true;    // whether the connection stays open after this response
  bool include_body = true;  // false for HEAD: Content-Length still describes the body
  bool open_ended = false;   // an event stream: no Content-Length, the close ends the body
};

// Status line + Server, Content-Type, Content-Length, Connection and the extra headers, ending
// with the blank line. CR/LF in header names or values is dropped (no response splitting).
std::string serialize_head(const Response& res, const HeadOptions& options);

// {"ok":false,"error_code":"<code>","error":"<message>"} with the given status.
Response error_response(int status, std::string_view error_code, std::string_view message);

}  // namespace c2c::net::detail
