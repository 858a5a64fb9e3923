#include "c2c/net/http_types.hpp"

#include "c2c/net/detail/wire.hpp"

namespace c2c::net {

const std::string* Request::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (detail::iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

}  // namespace c2c::net
