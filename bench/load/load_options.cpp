// Command line of c2c_load.

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "c2c/net/http_client.hpp"
#include "load.hpp"

namespace c2c::load {

Result<LoadOptions> parse_options(int argc, char** argv) {
  LoadOptions o;
  CLI::App app{"c2c_load: HTTP/1.1 keep-alive load generator (bounded in time and count)"};
  std::string body_file;
  double duration_s = 10;
  int timeout_ms = 5000;
  std::string identity_path;
  app.add_option("url", o.url, "Target, http://host:port/path[?query]")->required();
  app.add_option("-m,--method", o.method, "HTTP method")->capture_default_str();
  app.add_option("-b,--body", o.body, "Request body; {id} becomes a fresh id per request");
  app.add_option("--body-file", body_file, "Read the body (template) from a file");
  app.add_option("--slots", o.slots,
                 "{slot} in the body cycles through 0..N-1, request by request (many senders)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("-H,--header", o.headers, "Extra header 'Name: value' (repeatable)");
  app.add_option("-c,--connections", o.connections, "Keep-alive connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("-t,--threads", o.threads, "Client threads (1 or 2 on a 2-core box)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("-d,--duration", duration_s, "Maximum run time in seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("-n,--requests", o.max_requests, "Maximum number of requests")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000}));
  app.add_option("--timeout-ms", timeout_ms, "Per-request timeout")
      ->capture_default_str()
      ->check(CLI::Range(1, 600'000));
  app.add_option("--idle-connections", o.idle_connections,
                 "Extra connections that send half a request and stall (slowloris)")
      ->check(CLI::Range(0, 100000));
  app.add_option("--sign-identity", identity_path, "identity.json used to sign each request");
  app.add_option("--sign-alias", o.sign_alias, "Alias in the Ed25519 Authorization header");
  app.add_flag("--presign", o.presign,
               "Build and sign all -n requests before the run (needs -n <= 500000; signing "
               "time + run must stay within the relay's 30 s timestamp window)");
  app.add_flag("--json", o.json, "Print the report as one JSON object");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return fail(ErrorCode::kBadRequest, "");
  } catch (const CLI::ParseError& e) {
    return fail(ErrorCode::kBadRequest, e.what());
  }
  o.duration = std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000));
  o.timeout = std::chrono::milliseconds(timeout_ms);

  if (!body_file.empty()) {
    std::ifstream in(body_file, std::ios::binary);
    if (!in) return fail(ErrorCode::kBadRequest, "cannot read --body-file " + body_file);
    std::stringstream ss;
    ss << in.rdbuf();
    o.body = ss.str();
  }
  for (auto& c : o.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& h : o.headers) {
    if (h.find(':') == std::string::npos) {
      return fail(ErrorCode::kBadRequest, "header must be 'Name: value': " + h);
    }
  }

  // The URL: scheme://authority is parsed by c2c's own parser, the rest is the target.
  auto scheme_end = o.url.find("://");
  auto slash =
      scheme_end == std::string::npos ? std::string::npos : o.url.find('/', scheme_end + 3);
  std::string base = o.url.substr(0, slash);
  o.target = slash == std::string::npos ? "/" : o.url.substr(slash);
  auto parsed = net::parse_url(base);
  if (!parsed) return fail(parsed.error());
  if (parsed->scheme != "http") {
    return fail(ErrorCode::kBadRequest, "only http:// targets are supported");
  }
  o.host = parsed->host;
  o.port = parsed->port;
  auto q = o.target.find('?');
  o.path = o.target.substr(0, q);
  o.query = q == std::string::npos ? "" : o.target.substr(q + 1);

  if (o.presign && o.max_requests > 500'000) {
    return fail(ErrorCode::kBadRequest, "--presign needs -n <= 500000");
  }
  if (identity_path.empty() != o.sign_alias.empty()) {
    return fail(ErrorCode::kBadRequest, "--sign-identity and --sign-alias go together");
  }
  if (!identity_path.empty()) {
    auto id = crypto::load_identity(identity_path);
    if (!id) return fail(id.error());
    o.sign_identity = std::move(*id);
  }
  return o;
}

}  // namespace c2c::load
