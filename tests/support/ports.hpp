#pragma once
// Loopback ports for tests that start a third-party server (nginx, haproxy) which cannot report
// the port it bound: the test picks one nothing listens on, then waits until it accepts.
#include <cstdint>
#include <string>
#include <vector>

namespace c2c::test {

// A port nothing listens on now (bound to 127.0.0.1:0 and released).
uint16_t free_port();
// A TCP socket connected to 127.0.0.1:port, or -1. With source_host != 1 it is first bound to
// 127.0.0.<source_host> (clients spread over several loopback addresses, e.g. under a per-IP cap).
int connect_loopback(uint16_t port, int source_host = 1);
// True when 127.0.0.1:port accepts a TCP connection.
bool can_connect(uint16_t port);
// The first of `paths` that is an executable file, "" if none.
std::string find_executable(const std::vector<std::string>& paths);

}  // namespace c2c::test
