// parse_url: the base URLs c2c accepts for relays, http(s)://host[:port][/prefix].

#include <cctype>
#include <string>

#include "c2c/net/http_client.hpp"

namespace c2c::net {
namespace {

Unexpected<> bad_url(std::string_view url, std::string_view why) {
  return fail(ErrorCode::kBadRequest, "invalid URL '" + std::string(url) +
                                          "': " + std::string(why) +
                                          " (expected http(s)://host[:port][/path])");
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '%';
}

bool is_ipv6_char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

}  // namespace

Result<ParsedUrl> parse_url(std::string_view url) {
  ParsedUrl out;
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return bad_url(url, "missing scheme");
  for (char c : url.substr(0, sep)) {
    out.scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (out.scheme != "http" && out.scheme != "https") {
    return bad_url(url, "scheme must be http or https");
  }
  std::string_view rest = url.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return bad_url(url, "a base URL has no query or fragment");
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return bad_url(url, "user info is not supported");
  }

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad_url(url, "unterminated IPv6 literal");
    std::string_view literal = authority.substr(1, close - 1);
    if (literal.empty() || literal.find(':') == std::string_view::npos) {
      return bad_url(url, "bad IPv6 literal");
    }
    for (char c : literal) {
      if (!is_ipv6_char(c)) return bad_url(url, "bad IPv6 literal");
    }
    out.host = std::string(literal);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url(url, "unexpected text after IPv6 literal");
      port_text = after.substr(1);
      if (port_text.empty()) return bad_url(url, "empty port");
    }
  } else {
    auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad_url(url, "empty port");
    }
    for (char c : out.host) {
      if (!is_host_char(c)) return bad_url(url, "bad character in host");
    }
  }
  if (out.host.empty()) return bad_url(url, "missing host");

  if (port_text.empty()) {
    out.port = out.scheme == "https" ? 443 : 80;
  } else {
    if (port_text.size() > 5) return bad_url(url, "bad port");
    unsigned value = 0;
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return bad_url(url, "bad port");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return bad_url(url, "port out of range");
    out.port = static_cast<uint16_t>(value);
  }

  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.prefix = std::string(path);
  return out;
}

}  // namespace c2c::net
