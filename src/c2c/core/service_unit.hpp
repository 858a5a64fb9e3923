#pragma once
// systemd unit files written or printed by `c2c relay connect --install-service` (a user unit)
// and `c2c relay serve --print-service` (a system unit); docs/relay-client.md and
// docs/relay-server.md show them.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace c2c {

// One word of an ExecStart= line: double-quoted when it holds a space, a quote, a backslash or
// a control character; '%' becomes "%%" (no specifier expansion) and '$' becomes "$$" (no
// environment expansion).
std::string systemd_quote(std::string_view word);

struct ServiceUnit {
  std::string description;
  std::vector<std::pair<std::string, std::string>> unit;  // extra [Unit] lines
  std::vector<std::string> exec;                          // ExecStart= words, quoted here
  std::vector<std::string>
      exec_raw;  // words after those, as written (e.g. ${CREDENTIALS_DIRECTORY})
  std::vector<std::pair<std::string, std::string>> service;  // [Service] lines after ExecStart=
  std::string wanted_by;                                     // [Install] WantedBy=
  std::vector<std::string> comments;                         // "# ..." lines at the top
};

std::string render_unit(const ServiceUnit& unit);

}  // namespace c2c
