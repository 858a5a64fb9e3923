// The registry reader. Every send parses registry.json, which can hold thousands of rows, so
// this is a single pass over the bytes (strings found with memchr, no DOM) instead of a
// general JSON parser; only unknown keys (rare) go through nlohmann to be preserved.
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "c2c/broker/codec.hpp"

namespace c2c::broker::codec {

namespace {

// Characters a bare scalar (number, true, false, null) can consist of; any other ends it. (Not a
// list of terminators: nlohmann reads a NUL byte as the end of its input, so "1<NUL>2" handed
// to it as one scalar would pass as 1.)
constexpr auto kInScalar = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (unsigned char c : {'+', '-', '.'}) t[c] = true;
  return t;
}();

class RegistryParser {
 public:
  explicit RegistryParser(std::string_view text)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()) {}

  // One object: the whole text must be exactly one registration.
  Result<Registration> parse_one() {
    Registration reg;
    ws();
    if (!parse_row(reg)) return error(err_);
    ws();
    if (p_ != end_) return error("trailing characters");
    return reg;
  }

  // Same grammar as parse(), but only records each row's extent, session id and alias.
  Result<void> index(RegistryIndex& idx) {
    ws();
    if (p_ == end_) return {};
    idx.rows.reserve(static_cast<size_t>(end_ - p_) / 96 + 1);
    if (*p_ != '[') return error("expected '['");
    ++p_;
    ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      ws();
      if (p_ != end_) return error("trailing characters");
      return {};
    }
    while (true) {
      ws();
      RegistryIndex::Row row;
      row.begin = static_cast<size_t>(p_ - begin_);
      if (!scan_row(row, idx.decoded)) return error(err_);
      row.end = static_cast<size_t>(p_ - begin_);
      idx.rows.push_back(row);
      ws();
      if (p_ == end_) return error("unterminated array");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        ws();
        if (p_ != end_) return error("trailing characters");
        return {};
      }
      return error("expected ',' or ']'");
    }
  }

  Result<std::vector<Registration>> parse() {
    std::vector<Registration> out;
    ws();
    if (p_ == end_) return out;  // missing or blank file = empty registry
    // Real rows are 60-200 bytes: one reservation instead of a dozen regrowths.
    out.reserve(static_cast<size_t>(end_ - p_) / 96 + 1);
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

  Unexpected<> error(const std::string& what) {
    return fail(ErrorCode::kIo,
                "registry.json is not valid: " + what + " at byte " + std::to_string(p_ - begin_));
  }

  // The closing quote of a string starting at `start`, and whether a backslash came first
  // (then the string needs unescaping). Registry strings are short: a plain loop beats
  // two memchr calls. Like any JSON reader (and the broker's other readers), it refuses raw
  // control characters and bytes that are not UTF-8: nullptr with err_ set.
  const char* scan_string(const char* start, bool& escaped) {
    const char* q = start;
    bool high = false;
    while (q < end_ && *q != '"' && *q != '\\') {
      const auto c = static_cast<unsigned char>(*q);
      if (c < 0x20) {
        set_err("control character in a string");
        return nullptr;
      }
      high |= c >= 0x80;
      ++q;
    }
    if (q == end_) {
      set_err("unterminated string");
      return nullptr;
    }
    if (high && !valid_utf8(std::string_view(start, static_cast<size_t>(q - start)))) {
      set_err("a string is not UTF-8");
      return nullptr;
    }
    escaped = *q == '\\';
    return q;
  }

  // Whitespace is rare between tokens of machine-written JSON: test for it cheaply.
  void ws() {
    while (p_ < end_ && static_cast<unsigned char>(*p_) <= ' ' &&
           (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }

  bool set_err(const char* what) {
    err_ = what;
    return false;
  }

  enum class Key {
    kSessionId,
    kAlias,
    kPid,
    kPidStartTime,
    kRegisteredAt,
    kConfirmedAt,
    kClientType,
    kRole,
    kOther
  };

  // Known keys have distinct lengths: one length switch plus one comparison per key.
  static Key classify(std::string_view k) {
    switch (k.size()) {
      case 3:
        return k == "pid" ? Key::kPid : Key::kOther;
      case 4:
        return k == "role" ? Key::kRole : Key::kOther;
      case 5:
        return k == "alias" ? Key::kAlias : Key::kOther;
      case 10:
        return k == "session_id" ? Key::kSessionId : Key::kOther;
      case 11:
        return k == "client_type" ? Key::kClientType : Key::kOther;
      case 12:
        return k == "confirmed_at" ? Key::kConfirmedAt : Key::kOther;
      case 13:
        return k == "registered_at" ? Key::kRegisteredAt : Key::kOther;
      case 14:
        return k == "pid_start_time" ? Key::kPidStartTime : Key::kOther;
      default:
        return Key::kOther;
    }
  }

  // A key as a view into the text when it has no escapes (always, in practice).
  bool parse_key(std::string_view& key, std::string& scratch) {
    if (p_ == end_ || *p_ != '"') return set_err("expected a key");
    const char* start = p_ + 1;
    bool escaped = false;
    const char* q = scan_string(start, escaped);
    if (q == nullptr) return false;
    if (!escaped) {
      key = std::string_view(start, static_cast<size_t>(q - start));
      p_ = q + 1;
      return true;
    }
    if (!parse_escaped(start, scratch)) return false;
    key = scratch;
    return true;
  }

  // A string value as a view into the text, or into `decoded` when it has escapes.
  bool string_view_value(std::string_view& out, std::deque<std::string>& decoded) {
    std::string_view key;
    std::string scratch;
    if (!parse_key(key, scratch)) return false;
    if (key.data() == scratch.data()) {
      decoded.push_back(std::move(scratch));
      key = decoded.back();
    }
    out = key;
    return true;
  }

  // After the two keys an index needs: jump to the end of the row, minding strings and
  // nesting. The rest of the row is validated when (if) the row is materialised.
  bool skip_rest_of_object() {
    int depth = 1;
    while (p_ < end_) {
      const char c = *p_;
      if (c == '"') {
        bool escaped = false;
        const char* q = scan_string(p_ + 1, escaped);
        if (q == nullptr) return false;
        if (escaped) {
          std::string ignored;
          if (!parse_escaped(p_ + 1, ignored)) return false;
        } else {
          p_ = q + 1;
        }
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) {
          if (c != '}') return set_err("expected '}'");
          ++p_;
          return true;
        }
      }
      ++p_;
    }
    return set_err("unterminated object");
  }

  bool scan_row(RegistryIndex::Row& row, std::deque<std::string>& decoded) {
    if (p_ == end_ || *p_ != '{') return set_err("expected a registration object");
    ++p_;
    bool have_sid = false, have_alias = false;
    std::string scratch;
    while (true) {
      ws();
      std::string_view k;
      if (!parse_key(k, scratch)) return false;
      ws();
      if (p_ == end_ || *p_ != ':') return set_err("expected ':'");
      ++p_;
      ws();
      if (p_ == end_) return set_err("unexpected end");
      const Key key = classify(k);
      if (key == Key::kSessionId || key == Key::kAlias) {
        if (*p_ != '"') return set_err("session_id and alias must be strings");
        if (!string_view_value(key == Key::kAlias ? row.alias : row.session_id, decoded)) {
          return false;
        }
        (key == Key::kAlias ? have_alias : have_sid) = true;
        if (have_sid && have_alias) return skip_rest_of_object();
      } else if (!skip_value()) {
        return false;
      }
      if (have_sid && have_alias) return skip_rest_of_object();
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

  bool parse_row(Registration& reg) {
    if (p_ == end_ || *p_ != '{') return set_err("expected a registration object");
    ++p_;
    bool have_sid = false, have_alias = false;
    unsigned seen = 0;  // known keys met so far, one bit per Key
    ws();
    if (p_ < end_ && *p_ == '}') return set_err("registration without session_id/alias");
    std::string scratch;
    while (true) {
      ws();
      std::string_view k;
      if (!parse_key(k, scratch)) return false;
      ws();
      if (p_ == end_ || *p_ != ':') return set_err("expected ':'");
      ++p_;
      ws();
      if (p_ == end_) return set_err("unexpected end");
      const Key key = classify(k);
      // A repeated key is refused: JSON leaves its meaning open (nlohmann and Python keep the last,
      // other readers the first), so a row that says two things is not guessed at.
      if (key != Key::kOther) {
        const unsigned bit = 1u << static_cast<unsigned>(key);
        if (seen & bit) return set_err("repeated key");
        seen |= bit;
      }
      const bool str = *p_ == '"';
      const bool num = is_number_start(*p_);
      if (key == Key::kSessionId || key == Key::kAlias) {
        if (!str) return set_err("session_id and alias must be strings");
        if (!parse_string(key == Key::kAlias ? reg.alias : reg.session_id)) return false;
        (key == Key::kAlias ? have_alias : have_sid) = true;
      } else if ((key == Key::kClientType || key == Key::kRole) && str) {
        if (!parse_string(key == Key::kRole ? reg.role : reg.client_type)) return false;
      } else if ((key == Key::kPid || key == Key::kPidStartTime) && num) {
        long long v = 0;
        if (!parse_int(v)) return false;
        (key == Key::kPid ? reg.pid : reg.pid_start_time) = v;
      } else if ((key == Key::kRegisteredAt || key == Key::kConfirmedAt) && num) {
        double v = 0;
        if (!parse_double(v)) return false;
        (key == Key::kRegisteredAt ? reg.registered_at : reg.confirmed_at) = v;
      } else {
        const std::string name(k);
        if (key == Key::kOther && reg.extra.contains(name)) return set_err("repeated key");
        const char* start = p_;
        if (!skip_value()) return false;
        // null for a known optional key means "absent"; anything else is kept verbatim.
        std::string_view raw(start, static_cast<size_t>(p_ - start));
        if (raw != "null" || key == Key::kOther) {
          try {
            reg.extra[name] = nlohmann::json::parse(raw.begin(), raw.end());
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

  static bool is_number_start(char c) { return c == '-' || (c >= '0' && c <= '9'); }

  const char* number_end() const {
    const char* q = p_;
    while (q < end_ && (is_number_start(*q) || *q == '.' || *q == 'e' || *q == 'E' || *q == '+'))
      ++q;
    return q;
  }

  // JSON's number grammar, stricter than from_chars (which takes "01", "1." and ".5"):
  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  static bool json_number(const char* s, const char* e) {
    const auto digits = [&] {
      const char* d = s;
      while (s < e && *s >= '0' && *s <= '9') ++s;
      return s > d;
    };
    if (s < e && *s == '-') ++s;
    if (s < e && *s == '0') {
      ++s;
    } else if (!digits()) {
      return false;
    }
    if (s < e && *s == '.') {
      ++s;
      if (!digits()) return false;
    }
    if (s < e && (*s == 'e' || *s == 'E')) {
      ++s;
      if (s < e && (*s == '+' || *s == '-')) ++s;
      if (!digits()) return false;
    }
    return s == e;
  }

  bool parse_int(long long& v) {
    const char* q = number_end();
    if (!json_number(p_, q)) return set_err("expected an integer");
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
    if (!json_number(p_, q)) return set_err("expected a number");
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
    bool escaped = false;
    const char* q = scan_string(start, escaped);
    if (q == nullptr) return false;
    if (!escaped) {
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
    bool high = false;
    while (s < end_) {
      const char c = *s++;
      if (c == '"') {
        // Escapes decode to whole UTF-8 sequences, so checking the result checks the raw bytes.
        if (high && !valid_utf8(out)) return set_err("a string is not UTF-8");
        p_ = s;
        return true;
      }
      if (c != '\\') {
        if (static_cast<unsigned char>(c) < 0x20) return set_err("control character in a string");
        high |= static_cast<unsigned char>(c) >= 0x80;
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
    while (p_ < end_ && kInScalar[static_cast<unsigned char>(*p_)]) ++p_;
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

Result<void> index_registry(RegistryIndex& idx) {
  return RegistryParser(idx.raw).index(idx);
}

Result<Registration> parse_registration(std::string_view object_json) {
  return RegistryParser(object_json).parse_one();
}

}  // namespace c2c::broker::codec
