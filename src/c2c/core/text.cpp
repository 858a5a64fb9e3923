#include "c2c/core/text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace c2c {

std::string casefold(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

namespace {
bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
}  // namespace

bool is_valid_alias(std::string_view alias) {
  if (alias.empty() || alias.size() > 64 || alias.front() == '.') return false;
  for (char c : alias) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

bool is_reserved_alias(std::string_view alias) {
  return iequals(alias, "c2c") || iequals(alias, "c2c-system");
}

bool is_valid_room_id(std::string_view room_id) {
  if (room_id.empty() || room_id.size() > 64) return false;
  for (char c : room_id) {
    if (!is_alnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

bool is_safe_file_component(std::string_view s) {
  if (s.empty() || s.size() > 128 || s == "." || s == "..") return false;
  for (char c : s) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-' && c != ':') return false;
  }
  return true;
}

namespace {
// strftime of the whole second at or before `epoch_seconds`, in UTC.
std::string format_utc(double epoch_seconds, const char* format) {
  const std::time_t t = static_cast<std::time_t>(std::floor(epoch_seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}
}  // namespace

std::string format_rfc3339_utc(double epoch_seconds) {
  return format_utc(epoch_seconds, "%Y-%m-%dT%H:%M:%SZ");
}

std::string format_hhmm_utc(double epoch_seconds) {
  return format_utc(epoch_seconds, "%H:%M");
}

std::string format_date_hhmm_utc(double epoch_seconds) {
  return format_utc(epoch_seconds, "%Y-%m-%d %H:%M");
}

namespace {
bool take_int(std::string_view s, size_t& pos, size_t digits, int& out) {
  if (pos + digits > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < digits; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += digits;
  out = v;
  return true;
}
bool take_char(std::string_view s, size_t& pos, char want) {
  if (pos >= s.size()) return false;
  const char c = s[pos];
  if (c != want && !(want == 'T' && (c == 't' || c == ' '))) return false;
  ++pos;
  return true;
}
}  // namespace

std::optional<double> parse_rfc3339(std::string_view s) {
  size_t p = 0;
  int year, mon, day, hour, min, sec;
  if (!take_int(s, p, 4, year) || !take_char(s, p, '-') || !take_int(s, p, 2, mon) ||
      !take_char(s, p, '-') || !take_int(s, p, 2, day) || !take_char(s, p, 'T') ||
      !take_int(s, p, 2, hour) || !take_char(s, p, ':') || !take_int(s, p, 2, min) ||
      !take_char(s, p, ':') || !take_int(s, p, 2, sec)) {
    return std::nullopt;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return std::nullopt;
  }
  double frac = 0.0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    double scale = 0.1;
    const size_t start = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      frac += (s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return std::nullopt;
  }
  int offset = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    const int sign = s[p] == '+' ? 1 : -1;
    ++p;
    int oh, om;
    if (!take_int(s, p, 2, oh) || !take_char(s, p, ':') || !take_int(s, p, 2, om)) {
      return std::nullopt;
    }
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const std::time_t t = timegm(&tm);
  return static_cast<double>(t) - offset + frac;
}

std::optional<double> parse_finite_double(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto* begin = s.data();
  const auto* end = s.data() + s.size();
  if (*begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the current run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

}  // namespace c2c
