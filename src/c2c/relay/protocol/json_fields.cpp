#include "c2c/relay/protocol/json_fields.hpp"

#include <cmath>

#include "c2c/relay/protocol/routes.hpp"

namespace c2c::relay::protocol::detail {

Fields::Fields(const nlohmann::json& j, bool strict) : j_(j), strict_(strict) {
  if (!j_.is_object()) record_error("request body must be a JSON object");
}

const nlohmann::json* Fields::find(const char* key) const {
  if (!j_.is_object()) return nullptr;
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return nullptr;
  return &*it;
}

void Fields::record_error(std::string message) {
  if (!error_) error_ = Error{ErrorCode::kBadRequest, std::move(message)};
}

const nlohmann::json* Fields::typed(const char* key, bool (nlohmann::json::*is)() const noexcept,
                                    const char* what) {
  const auto* v = find(key);
  if (!v || (v->*is)()) return v;
  if (strict_) record_error(std::string(key) + " must be " + what);
  return nullptr;
}

std::string Fields::str(const char* key) {
  const auto* v = typed(key, &nlohmann::json::is_string, "a string");
  return v ? v->get<std::string>() : std::string();
}

std::string Fields::id(const char* key) {
  std::string s = str(key);
  if (strict_ && s.size() > kMaxIdBytes) {
    record_error(std::string(key) + " is too long (max " + std::to_string(kMaxIdBytes) + " bytes)");
  }
  return s;
}

std::optional<double> Fields::num(const char* key) {
  const auto* v = typed(key, &nlohmann::json::is_number, "a number");
  if (!v) return std::nullopt;
  const double d = v->get<double>();
  if (!std::isfinite(d)) {
    if (strict_) record_error(std::string(key) + " must be a finite number");
    return std::nullopt;
  }
  return d;
}

std::optional<int64_t> Fields::integer(const char* key) {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned()) {
      const auto u = v->get<uint64_t>();
      return u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
    }
    return v->get<int64_t>();
  }
  auto d = num(key);
  if (!d) return std::nullopt;
  if (*d >= 9.2e18) return INT64_MAX;
  if (*d <= -9.2e18) return INT64_MIN;
  return static_cast<int64_t>(*d);
}

std::optional<bool> Fields::boolean(const char* key) {
  const auto* v = typed(key, &nlohmann::json::is_boolean, "a boolean");
  if (!v) return std::nullopt;
  return v->get<bool>();
}

std::optional<std::vector<std::string>> Fields::str_list(const char* key) {
  const auto* v = typed(key, &nlohmann::json::is_array, "an array of strings");
  if (!v) return std::nullopt;
  std::vector<std::string> out;
  out.reserve(v->size());
  for (const auto& e : *v) {
    if (!e.is_string()) {
      if (strict_) {
        record_error(std::string(key) + " must be an array of strings");
        return std::nullopt;
      }
      continue;
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

const nlohmann::json* Fields::object(const char* key) {
  return typed(key, &nlohmann::json::is_object, "an object");
}

}  // namespace c2c::relay::protocol::detail
