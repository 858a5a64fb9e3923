// The registry reader. Every send parses registry.json, which can hold thousands of rows, so
// this is a single pass over the bytes (strings found with memchr, no DOM) instead of a
// general JSON parser; only unknown keys (rare) go through nlohmann to be preserved.
#include <charconv>
#include <cmath>
#include <cstring>

#include "c2c/broker/codec.hpp"

namespace c2c::broker::codec {

namespace {

class RegistryParser {
 public:
  explicit RegistryParser(std::string_view text)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()) {}

  Result<std::vector<Registration>> parse() {
    std::vector<Registration> out;
    ws();
    if (p_ == end_) return out;  // missing or blank file = empty registry
    if (*p_ != '[') return error("expected '['");
    ++p_;
    ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return finish(std::move(out));
    }
    while (true) {
      ws();
      Registration reg;
      if (!parse_row(reg)) return error(err_);
      out.push_back(std::move(reg));
      ws();
      if (p_ == end_) return error("unterminated array");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        return finish(std::move(out));
      }
      return error("expected ',' or ']'");
    }
  }

 private:
  Result<std::vector<Registration>> finish(std::vector<Registration> out) {
    ws();
    if (p_ != end_) return error("trailing characters");
    return out;
  }

  Unexpected error(const std::string& what) {
    return fail(ErrorCode::kIo,
                "registry.json is not valid: " + what + " at byte " + std::to_string(p_ - begin_));
  }

  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool set_err(const char* what) {
    err_ = what;
    return false;
  }

  bool parse_row(Registration& reg) {
    if (p_ == end_ || *p_ != '{') return set_err("expected a registration object");
    ++p_;
    bool have_sid = false, have_alias = false;
    ws();
    if (p_ < end_ && *p_ == '}') return set_err("registration without session_id/alias");
    std::string k;
    while (true) {
      ws();
      if (!parse_string(k)) return false;
      ws();
      if (p_ == end_ || *p_ != ':') return set_err("expected ':'");
      ++p_;
      ws();
      if (p_ == end_) return set_err("unexpected end");
      if (k == "session_id" || k == "alias") {
        std::string& dst = k == "alias" ? reg.alias : reg.session_id;
        if (*p_ != '"') return set_err("session_id and alias must be strings");
        if (!parse_string(dst)) return false;
        (k == "alias" ? have_alias : have_sid) = true;
      } else if ((k == "client_type" || k == "role") && *p_ == '"') {
        if (!parse_string(k == "role" ? reg.role : reg.client_type)) return false;
      } else if ((k == "pid" || k == "pid_start_time") && is_number_start(*p_)) {
        long long v = 0;
        if (!parse_int(v)) return false;
        (k == "pid" ? reg.pid : reg.pid_start_time) = v;
      } else if ((k == "registered_at" || k == "confirmed_at") && is_number_start(*p_)) {
        double v = 0;
        if (!parse_double(v)) return false;
        (k == "registered_at" ? reg.registered_at : reg.confirmed_at) = v;
      } else {
        const char* start = p_;
        if (!skip_value()) return false;
        // null for a known optional key means "absent"; anything else is kept verbatim.
        std::string_view raw(start, static_cast<size_t>(p_ - start));
        if (raw != "null" || !is_known(k)) {
          try {
            reg.extra[k] = nlohmann::json::parse(raw.begin(), raw.end());
          } catch (const nlohmann::json::exception&) {
            return set_err("invalid value");
          }
        }
      }
      ws();
      if (p_ == end_) return set_err("unterminated object");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        break;
      }
      return set_err("expected ',' or '}'");
    }
    if (!have_sid || !have_alias) return set_err("registration without session_id/alias");
    return true;
  }

  static bool is_known(const std::string& k) {
    return k == "pid" || k == "pid_start_time" || k == "registered_at" || k == "confirmed_at" ||
           k == "client_type" || k == "role";
  }

  static bool is_number_start(char c) { return c == '-' || (c >= '0' && c <= '9'); }

  const char* number_end() const {
    const char* q = p_;
    while (q < end_ && (is_number_start(*q) || *q == '.' || *q == 'e' || *q == 'E' || *q == '+'))
      ++q;
    return q;
  }

  bool parse_int(long long& v) {
    const char* q = number_end();
    auto res = std::from_chars(p_, q, v);
    if (res.ec == std::errc() && res.ptr == q) {
      p_ = q;
      return true;
    }
    double d = 0;  // 1.0 or 1e3 written by another tool: accept integral values
    auto dres = std::from_chars(p_, q, d);
    if (dres.ec != std::errc() || dres.ptr != q || !std::isfinite(d) || d != std::floor(d) ||
        std::fabs(d) > 9.0e15) {
      return set_err("expected an integer");
    }
    v = static_cast<long long>(d);
    p_ = q;
    return true;
  }

  bool parse_double(double& v) {
    const char* q = number_end();
    auto res = std::from_chars(p_, q, v);
    if (res.ec != std::errc() || res.ptr != q || !std::isfinite(v)) {
      return set_err("expected a number");
    }
    p_ = q;
    return true;
  }

  // p_ at '"'. Fast path: no backslash before the closing quote.
  bool parse_string(std::string& out) {
    if (p_ == end_ || *p_ != '"') return set_err("expected a string");
    const char* start = p_ + 1;
    const auto* q = static_cast<const char*>(std::memchr(start, '"', end_ - start));
    if (q == nullptr) return set_err("unterminated string");
    if (std::memchr(start, '\\', q - start) == nullptr) {
      out.assign(start, q);
      p_ = q + 1;
      return true;
    }
    return parse_escaped(start, out);
  }

  static int hex_val(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool read_u16(const char*& s, uint32_t& cp) {
    if (end_ - s < 4) return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex_val(s[i]);
      if (h < 0) return false;
      cp = (cp << 4) | static_cast<uint32_t>(h);
    }
    s += 4;
    return true;
  }

  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool parse_escaped(const char* s, std::string& out) {
    out.clear();
    while (s < end_) {
      const char c = *s++;
      if (c == '"') {
        p_ = s;
        return true;
      }
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (s == end_) break;
      const char e = *s++;
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!read_u16(s, cp)) return set_err("bad \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            if (end_ - s < 2 || s[0] != '\\' || s[1] != 'u') return set_err("lone surrogate");
            s += 2;
            if (!read_u16(s, lo) || lo < 0xDC00 || lo > 0xDFFF) return set_err("bad surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return set_err("lone surrogate");
          }
          put_utf8(out, cp);
          break;
        }
        default:
          return set_err("bad escape");
      }
    }
    return set_err("unterminated string");
  }

  // Skips any JSON value (validated later by nlohmann when kept).
  bool skip_value() {
    if (p_ == end_) return set_err("unexpected end");
    const char c = *p_;
    if (c == '"') {
      std::string ignored;
      return parse_string(ignored);
    }
    if (c == '{' || c == '[') {
      int depth = 0;
      while (p_ < end_) {
        const char d = *p_;
        if (d == '"') {
          std::string ignored;
          if (!parse_string(ignored)) return false;
          continue;
        }
        if (d == '{' || d == '[') ++depth;
        if (d == '}' || d == ']') {
          --depth;
          if (depth == 0) {
            ++p_;
            return true;
          }
        }
        ++p_;
      }
      return set_err("unterminated value");
    }
    const char* start = p_;
    while (p_ < end_ && *p_ != ',' && *p_ != '}' && *p_ != ']' && *p_ != ' ' && *p_ != '\n' &&
           *p_ != '\r' && *p_ != '\t') {
      ++p_;
    }
    if (p_ == start) return set_err("expected a value");
    return true;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  std::string err_;
};

}  // namespace

Result<std::vector<Registration>> parse_registry(std::string_view text) {
  return RegistryParser(text).parse();
}

}  // namespace c2c::broker::codec
