#include "c2c/net/detail/wire.hpp"

#include "c2c/core/text.hpp"

namespace c2c::net::detail {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

// Appends s without CR or LF: a header must never be able to start another header.
void append_field_text(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string serialize_head(const Response& res, const HeadOptions& options) {
  std::string out;
  out.reserve(160 + res.headers.size() * 48);
  out += options.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  int status = (res.status >= 100 && res.status <= 999) ? res.status : 500;
  out += std::to_string(status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\nServer: c2c\r\n";
  if (!res.content_type.empty()) {
    out += "Content-Type: ";
    append_field_text(out, res.content_type);
    out += "\r\n";
  }
  if (!options.open_ended) {
    out += "Content-Length: ";
    out += std::to_string(res.body.size());
    out += "\r\n";
  }
  // HTTP/1.1 is persistent unless told otherwise; HTTP/1.0 is the reverse.
  if (!options.keep_alive) {
    out += "Connection: close\r\n";
  } else if (options.version == 10) {
    out += "Connection: keep-alive\r\n";
  }
  for (const auto& h : res.headers) {
    // The server owns framing and connection management.
    if (iequals(h.name, "Content-Length") || iequals(h.name, "Connection") ||
        iequals(h.name, "Transfer-Encoding") || iequals(h.name, "Server") || h.name.empty()) {
      continue;
    }
    append_field_text(out, h.name);
    out += ": ";
    append_field_text(out, h.value);
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

Response error_response(int status, std::string_view error_code, std::string_view message) {
  Response res;
  res.status = status;
  res.body = R"({"ok":false,"error_code":)";
  append_json_string(res.body, error_code);
  res.body += R"(,"error":)";
  append_json_string(res.body, message);
  res.body += "}";
  return res;
}

}  // namespace c2c::net::detail
