// c2c_http_hello: the smallest c2c HttpServer, answering every request with 200 {"ok":true}.
// The baseline c2c_load is validated against (docs/performance/http.md).

#include <CLI/CLI.hpp>
#include <iostream>

#include "c2c/net/http_client.hpp"
#include "c2c/net/http_server.hpp"

int main(int argc, char** argv) {
  CLI::App app{"c2c_http_hello: HttpServer answering 200 {\"ok\":true}"};
  std::string listen = "127.0.0.1:0";
  int threads = 1;
  app.add_option("--listen", listen, "host:port (port 0 = any free port)")->capture_default_str();
  app.add_option("--threads", threads, "io threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);

  // Reuse the client's URL parser for host:port, IPv6 brackets included (it refuses port 0).
  bool any_port = listen.ends_with(":0");
  auto parsed =
      c2c::net::parse_url("http://" + (any_port ? listen.substr(0, listen.size() - 2) : listen));
  if (!parsed) {
    std::cerr << "c2c_http_hello: " << parsed.error().message << "\n";
    return 2;
  }
  c2c::net::ServerOptions options;
  options.host = parsed->host;
  options.port = any_port ? 0 : parsed->port;
  options.threads = threads;
  options.stop_on_signals = true;
  // The load generator's many connections all come from one loopback address.
  options.limits.max_connections_per_ip = 0;
  c2c::net::HttpServer server(options, [](c2c::net::Request, c2c::net::Responder respond) {
    c2c::net::Response r;
    r.body = R"({"ok":true})";
    respond(std::move(r));
  });
  auto port = server.listen();
  if (!port) {
    std::cerr << "c2c_http_hello: " << port.error().message << "\n";
    return 1;
  }
  bool v6 = options.host.find(':') != std::string::npos;
  std::cout << "c2c_http_hello listening on http://"
            << (v6 ? "[" + options.host + "]" : options.host) << ":" << *port << std::endl;
  server.run();
  return 0;
}
