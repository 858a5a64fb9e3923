// GET /: a small HTML status page for operators. Shows what /health and /list_rooms show
// publicly anyway; never tokens, keys, node or session ids.
#include <algorithm>

#include "c2c/core/version.hpp"
#include "c2c/relay/server/router.hpp"

namespace c2c::relay::server {

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

}  // namespace

net::Response Router::status_page(const net::Request&, const Caller&) {
  const Gauges g = service_.gauges();
  // Anonymous, like /list_rooms without a signature: invite-only rooms are not shown.
  auto rooms = service_.list_rooms({}, {}).rooms;
  std::sort(rooms.begin(), rooms.end(),
            [](const auto& a, const auto& b) { return a.room_id < b.room_id; });
  std::string html;
  html += "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>c2c relay</title></head>\n";
  html += "<body>\n<h1>c2c relay</h1>\n<table>\n";
  html += "<tr><th align=left>version</th><td>" + html_escape(kVersion) + " (" +
          html_escape(kGitHash) + ")</td></tr>\n";
  html += "<tr><th align=left>auth mode</th><td>" + std::string(auth_.auth_mode()) + "</td></tr>\n";
  html += "<tr><th align=left>storage</th><td>" + html_escape(store_.kind()) + "</td></tr>\n";
  html +=
      "<tr><th align=left>live peers</th><td>" + std::to_string(g.leases_alive) + "</td></tr>\n";
  html += "<tr><th align=left>queued messages</th><td>" + std::to_string(g.queued_messages) +
          "</td></tr>\n";
  html += "<tr><th align=left>rooms</th><td>" + std::to_string(rooms.size()) + "</td></tr>\n";
  html += "</table>\n<h2>Rooms</h2>\n<ul>\n";
  for (const auto& r : rooms) {
    html += "<li>" + html_escape(r.room_id) + " (" + html_escape(r.visibility) + ", " +
            std::to_string(r.members.size()) + " members)</li>\n";
  }
  html +=
      "</ul>\n<p>API: GET /health, POST /register, POST /send, POST /poll_inbox, ... "
      "(see docs/relay-server.md)</p>\n</body></html>\n";
  net::Response resp;
  resp.content_type = "text/html; charset=utf-8";
  resp.body = std::move(html);
  return resp;
}

}  // namespace c2c::relay::server
