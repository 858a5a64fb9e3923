#pragma once
// Small helpers over net::Request values (header lookup without linking the net library).

#include <string>
#include <string_view>

#include "c2c/core/text.hpp"
#include "c2c/net/http_types.hpp"

namespace c2c::relay::server {

// Case-insensitive header lookup; nullptr when absent.
inline const std::string* find_header(const net::Request& req, std::string_view name) {
  for (const auto& h : req.headers) {
    if (iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

// The value of query parameter `key` (raw, not percent-decoded), or "" if absent.
inline std::string query_param(std::string_view query, std::string_view key) {
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    }
    start = end + 1;
  }
  return {};
}

}  // namespace c2c::relay::server
