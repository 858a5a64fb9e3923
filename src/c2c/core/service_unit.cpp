#include "c2c/core/service_unit.hpp"

#include <cstdio>

namespace c2c {

std::string systemd_quote(std::string_view word) {
  bool quote = word.empty();
  std::string body;
  for (const char c : word) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '%') {
      body += "%%";
    } else if (c == '$') {
      body += "$$";
    } else if (c == '"' || c == '\\') {
      quote = true;
      body += '\\';
      body += c;
    } else if (c == ' ' || c == '\'' || c == ';') {
      quote = true;
      body += c;
    } else if (u < 0x20 || u == 0x7f) {
      quote = true;
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      body += buf;
    } else {
      body += c;
    }
  }
  return quote ? "\"" + body + "\"" : body;
}

std::string render_unit(const ServiceUnit& u) {
  std::string out;
  for (const auto& c : u.comments) out += "# " + c + "\n";
  out += "[Unit]\nDescription=" + u.description + "\n";
  for (const auto& [k, v] : u.unit) out += k + "=" + v + "\n";
  out += "\n[Service]\nExecStart=";
  for (size_t i = 0; i < u.exec.size(); ++i) {
    if (i > 0) out += ' ';
    out += systemd_quote(u.exec[i]);
  }
  for (const auto& w : u.exec_raw) out += " " + w;
  out += "\n";
  for (const auto& [k, v] : u.service) out += k + "=" + v + "\n";
  out += "\n[Install]\nWantedBy=" + u.wanted_by + "\n";
  return out;
}

}  // namespace c2c
