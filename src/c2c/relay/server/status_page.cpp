// GET /: the operator dashboard (src/c2c/relay/server/dashboard.html, compiled in). The first
// paint carries what /health and /list_rooms show publicly anyway (so it reads without
// JavaScript too); the page then refreshes itself from /dashboard/state. Never tokens, keys,
// node or session ids.
#include <algorithm>

#include "c2c/core/version.hpp"
#include "c2c/relay/server/router.hpp"

namespace c2c::relay::server {

extern const char* const kDashboardHtml;

namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

void replace_all(std::string& s, std::string_view key, const std::string& value) {
  for (size_t at = s.find(key); at != std::string::npos; at = s.find(key, at + value.size())) {
    s.replace(at, key.size(), value);
  }
}

}  // namespace

net::Response Router::status_page(const net::Request&, const Caller&) {
  const Gauges g = service_.gauges();
  // Anonymous, like /list_rooms without a signature: invite-only rooms are not shown.
  auto rooms = service_.list_rooms({}, {}).rooms;
  std::sort(rooms.begin(), rooms.end(),
            [](const auto& a, const auto& b) { return a.room_id < b.room_id; });
  std::string list;
  for (const auto& r : rooms) {
    list += "<li>" + html_escape(r.room_id) + " (" + html_escape(r.visibility) + ", " +
            std::to_string(r.members.size()) + " members)</li>";
  }
  std::string html = kDashboardHtml;
  replace_all(html, "{{version}}", html_escape(std::string(kVersion) + " (" + kGitHash + ")"));
  replace_all(html, "{{auth_mode}}", std::string(auth_.auth_mode()));
  replace_all(html, "{{storage}}", html_escape(store_.kind()));
  replace_all(html, "{{peers_alive}}", std::to_string(g.leases_alive));
  replace_all(html, "{{queued}}", std::to_string(g.queued_messages));
  replace_all(html, "{{rooms_count}}", std::to_string(rooms.size()));
  replace_all(html, "{{rooms_list}}", list);
  net::Response resp;
  resp.content_type = "text/html; charset=utf-8";
  resp.body = std::move(html);
  // The page holds an admin token in memory once entered: no framing by other sites, no
  // scripts but its own.
  resp.headers.push_back({"Content-Security-Policy",
                          "default-src 'none'; script-src 'unsafe-inline'; style-src "
                          "'unsafe-inline'; connect-src 'self'; img-src 'self' data:; "
                          "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"});
  resp.headers.push_back({"X-Content-Type-Options", "nosniff"});
  resp.headers.push_back({"Referrer-Policy", "no-referrer"});
  resp.headers.push_back({"Cache-Control", "no-store"});
  return resp;
}

}  // namespace c2c::relay::server
