#pragma once
// Internal to relay/protocol: typed reads of JSON object fields that remember the first error,
// so each from_json() reads like a field list.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "c2c/core/error.hpp"
#include "c2c/core/result.hpp"

namespace c2c::relay::protocol::detail {

class Fields {
 public:
  // strict: type mismatches are errors (requests); lenient: they read as absent (responses).
  Fields(const nlohmann::json& j, bool strict);

  // Absent or null -> "". Non-string -> error "<key> must be a string" (strict).
  std::string str(const char* key);
  // Like str() but also bounded by kMaxIdBytes ("<key> is too long (max 256 bytes)").
  std::string id(const char* key);
  // Accepts integers and floats. Absent or null -> nullopt.
  std::optional<double> num(const char* key);
  std::optional<int64_t> integer(const char* key);  // floats are truncated
  std::optional<bool> boolean(const char* key);
  // Absent or null -> nullopt; every element must be a string.
  std::optional<std::vector<std::string>> str_list(const char* key);
  // The raw sub-object, or nullptr when absent/null; non-object -> error (strict).
  const nlohmann::json* object(const char* key);

  // Records an error unless one is already recorded (the first problem is reported).
  void record_error(std::string message);
  bool ok() const { return !error_; }
  const std::optional<Error>& error() const { return error_; }

 private:
  const nlohmann::json* find(const char* key) const;
  // find(key) when the value has the JSON type `is` checks; else null, and in strict mode the
  // error "<key> must be <what>".
  const nlohmann::json* typed(const char* key, bool (nlohmann::json::*is)() const noexcept,
                              const char* what);
  const nlohmann::json& j_;
  bool strict_;
  std::optional<Error> error_;
};

// The value, or the first error the field reads recorded.
template <typename T>
Result<T> finish(const Fields& f, T value) {
  if (!f.ok()) return fail(*f.error());
  return value;
}

// Optional string fields are omitted from the JSON when empty.
inline void put_if(nlohmann::json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}

template <typename T>
nlohmann::json array_of(const std::vector<T>& items) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& i : items) a.push_back(i.to_json());
  return a;
}

inline std::vector<std::string> strings(Fields& f, const char* key) {
  return f.str_list(key).value_or(std::vector<std::string>{});
}

}  // namespace c2c::relay::protocol::detail
