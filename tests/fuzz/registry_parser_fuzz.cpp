// Differential fuzzing of the broker's hand-written registry reader (broker/registry_parser.cpp)
// against nlohmann-json: the input is a registry.json text. The reference below reads the same
// text with nlohmann::json::parse and maps the DOM to Registration rows by the rules the hand
// reader promises (docs/protocol.md §6):
//  - a blank text is an empty registry; otherwise the text must be one JSON array of objects;
//  - session_id and alias are required strings;
//  - pid / pid_start_time: an integer, or an integral number within +-9e15 (1.0, 1e3), else the
//    row is an error; registered_at / confirmed_at: any number; client_type / role: a string;
//  - a known key holding null is absent; a known key of another type and every unknown key are
//    kept verbatim in `extra`; a row with a repeated key is an error.
// Oracles: parse_registry succeeds exactly when the reference does, with equal rows;
// parse_registration agrees with the reference on each row's object text; when parse_registry
// succeeds, index_registry finds the same rows (session id, alias, and an extent that parses back
// to the same row).
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/broker/codec.hpp"

namespace {

namespace codec = c2c::broker::codec;
using c2c::broker::Registration;
using nlohmann::json;

bool blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

std::optional<long long> integral(const json& v) {
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<long long>();
  if (v.is_number_unsigned()) {
    const auto u = v.get<unsigned long long>();
    if (u > static_cast<unsigned long long>(INT64_MAX)) return std::nullopt;
    return static_cast<long long>(u);
  }
  const double d = v.get<double>();
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) return std::nullopt;
  return static_cast<long long>(d);
}

// One row by the reference rules; nullopt when the row is an error.
std::optional<Registration> reference_row(const json& row) {
  if (!row.is_object()) return std::nullopt;
  Registration reg;
  bool have_sid = false, have_alias = false;
  for (const auto& [k, v] : row.items()) {
    if (k == "session_id" || k == "alias") {
      if (!v.is_string()) return std::nullopt;
      (k == "alias" ? reg.alias : reg.session_id) = v.get<std::string>();
      (k == "alias" ? have_alias : have_sid) = true;
    } else if ((k == "client_type" || k == "role") && v.is_string()) {
      (k == "role" ? reg.role : reg.client_type) = v.get<std::string>();
    } else if ((k == "pid" || k == "pid_start_time") && v.is_number()) {
      const auto n = integral(v);
      if (!n) return std::nullopt;
      (k == "pid" ? reg.pid : reg.pid_start_time) = *n;
    } else if ((k == "registered_at" || k == "confirmed_at") && v.is_number()) {
      (k == "registered_at" ? reg.registered_at : reg.confirmed_at) = v.get<double>();
    } else if (v.is_null() && (k == "pid" || k == "pid_start_time" || k == "registered_at" ||
                               k == "confirmed_at" || k == "client_type" || k == "role")) {
      // a known key holding null is absent
    } else {
      reg.extra[k] = v;
    }
  }
  if (!have_sid || !have_alias) return std::nullopt;
  return reg;
}

// The text as JSON, or nullopt. Where nlohmann is laxer than the registry's rules, the
// reference refuses too: nlohmann reads a NUL byte as the end of its input (JSON has no place for
// a raw NUL), skips a leading UTF-8 BOM (JSON texts carry none; Python's json refuses it), and
// keeps the last of a row's repeated keys (the registry refuses a row with a repeated key).
// `row_depth`: how many containers enclose a row's members (2 in a registry, 1 for one row).
std::optional<json> parse_json(std::string_view text, size_t row_depth) {
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") return std::nullopt;
  std::vector<std::set<std::string>> open;  // keys met in each enclosing container
  bool repeated = false;
  const json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        open.emplace_back();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key:
        if (open.size() == row_depth && !open.back().insert(parsed.get<std::string>()).second) {
          repeated = true;
        }
        break;
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    auto doc = json::parse(text.begin(), text.end(), cb);
    if (repeated) return std::nullopt;
    return doc;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::optional<std::vector<Registration>> reference(std::string_view text) {
  if (blank(text)) return std::vector<Registration>{};
  const auto doc = parse_json(text, 2);
  if (!doc || !doc->is_array()) return std::nullopt;
  std::vector<Registration> out;
  for (const auto& row : *doc) {
    auto reg = reference_row(row);
    if (!reg) return std::nullopt;
    out.push_back(std::move(*reg));
  }
  return out;
}

bool same(const Registration& a, const Registration& b) {
  return a.session_id == b.session_id && a.alias == b.alias && a.pid == b.pid &&
         a.pid_start_time == b.pid_start_time && a.registered_at == b.registered_at &&
         a.confirmed_at == b.confirmed_at && a.client_type == b.client_type && a.role == b.role &&
         a.extra == b.extra;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto want = reference(text);
  const auto got = codec::parse_registry(text);
  if (got.has_value() != want.has_value()) __builtin_trap();
  if (got) {
    if (got->size() != want->size()) __builtin_trap();
    for (size_t i = 0; i < got->size(); ++i) {
      if (!same((*got)[i], (*want)[i])) __builtin_trap();
    }
  }

  // A single row: the same text read as one object.
  if (!blank(text)) {
    const auto doc = parse_json(text, 1);
    const auto want_one = doc ? reference_row(*doc) : std::nullopt;
    const auto got_one = codec::parse_registration(text);
    if (got_one.has_value() != want_one.has_value()) __builtin_trap();
    if (got_one && !same(*got_one, *want_one)) __builtin_trap();
  }

  // The index (what a send uses) agrees with the full reader on every accepted registry.
  if (got) {
    codec::RegistryIndex idx;
    idx.raw = std::string(text);
    if (!codec::index_registry(idx)) __builtin_trap();
    if (idx.rows.size() != got->size()) __builtin_trap();
    for (size_t i = 0; i < got->size(); ++i) {
      const auto& row = idx.rows[i];
      if (row.session_id != (*got)[i].session_id || row.alias != (*got)[i].alias) __builtin_trap();
      const auto one = codec::parse_registration(
          std::string_view(idx.raw).substr(row.begin, row.end - row.begin));
      if (!one || !same(*one, (*got)[i])) __builtin_trap();
    }
  }
  return 0;
}
