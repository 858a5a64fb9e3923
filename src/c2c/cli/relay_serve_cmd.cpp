// `c2c relay serve`: the composition root of the relay server.
// flags -> Store -> Authenticator + RelayService -> Router -> net::HttpServer (+ GC loop).
// Data (the startup lines tests and operators read) goes to stdout; the banner, config echo,
// warnings and --verbose request logs go to stderr.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "c2c/cli/cli_common.hpp"
#include "c2c/core/clock.hpp"
#include "c2c/core/limits.hpp"
#include "c2c/core/secret_file.hpp"
#include "c2c/core/text.hpp"
#include "c2c/core/version.hpp"
#include "c2c/crypto/crypto.hpp"
#include "c2c/net/http_server.hpp"
#include "c2c/net/local_addresses.hpp"
#include "c2c/relay/protocol/routes.hpp"
#include "c2c/relay/server/auth.hpp"
#include "c2c/relay/server/gc_loop.hpp"
#include "c2c/relay/server/persist.hpp"
#include "c2c/relay/server/rate_limiter.hpp"
#include "c2c/relay/server/relay_service.hpp"
#include "c2c/relay/server/router.hpp"
#include "c2c/relay/server/stream_hub.hpp"
#include "c2c/relay/store/store.hpp"

namespace c2c::cli {

namespace {

namespace fs = std::filesystem;
namespace rs = c2c::relay::server;

struct ServeOptions {
  std::string listen = "127.0.0.1:7331";
  std::string token;
  bool token_given = false;  // --token was on the command line, even as ""
  std::string token_file;
  std::string storage = "memory";
  std::string db_path;
  std::string db_url;
  std::string persist_dir;
  double gc_interval = 0;
  int threads = 0;
  std::string relay_name;
  std::string allowed_identities;
  std::string tls_cert;
  std::string tls_key;
  bool verbose = false;
  size_t max_body_bytes = 1 << 20;
  size_t max_content_bytes = kMaxContentBytes;
  size_t max_connections = net::ServerLimits{}.max_connections;
  size_t max_connections_per_ip = net::ServerLimits{}.max_connections_per_ip;
  std::string rate_limit = "auto";
  bool require_signed_room_ops = false;
  std::vector<std::string> public_urls;
  bool no_stream = false;
  double stream_max_wait = 300;
  double stream_keepalive = 25;
};

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};

ListenAddress parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    exit_with_error("--listen must be HOST:PORT (e.g. 127.0.0.1:7331), got \"" + text + "\"",
                    kExitUsage);
  }
  ListenAddress a;
  a.host = text.substr(0, colon);
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') {
    a.host = a.host.substr(1, a.host.size() - 2);
  }
  const std::string port = text.substr(colon + 1);
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
    exit_with_error("--listen port must be 0-65535, got \"" + port + "\"", kExitUsage);
  }
  a.port = static_cast<uint16_t>(p);
  return a;
}

std::string url_host(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

// Token precedence: --token > --token-file > $C2C_RELAY_TOKEN. None of them = dev mode.
// A token that is given but empty (`--token "$TOKEN"` with $TOKEN unset in a new shell) is
// refused: it would otherwise start an open relay silently (docs/security.md).
std::string resolve_token(const ServeOptions& o) {
  if (o.token_given) {
    if (blank(o.token)) {
      exit_with_error(
          "--token is empty (is the variable you passed unset?): give the token, or omit "
          "--token to run in dev mode without auth",
          kExitUsage);
    }
    std::cerr << "warning: --token is visible to other users in the process list; prefer "
                 "--token-file FILE or the C2C_RELAY_TOKEN environment variable\n";
    return o.token;
  }
  if (!o.token_file.empty()) {
    // A token file others can read is refused, as an identity key is (docs/quickstart.md: chmod
    // 600).
    auto text = read_secret_file(o.token_file);
    if (!text)
      exit_with_error("cannot read --token-file " + o.token_file + ": " + text.error().message);
    std::string line = text->substr(0, text->find('\n'));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (blank(line))
      exit_with_error("--token-file " + o.token_file + " is empty (the token is its first line)");
    return line;
  }
  if (const char* env = std::getenv("C2C_RELAY_TOKEN")) {
    if (blank(env)) {
      exit_with_error(
          "C2C_RELAY_TOKEN is set but empty: set the token, or unset C2C_RELAY_TOKEN to run "
          "in dev mode without auth");
    }
    return env;
  }
  return {};
}

std::map<std::string, std::string> load_allowlist(const std::string& path) {
  std::map<std::string, std::string> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  if (!in) exit_with_error("cannot read --allowed-identities " + path);
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object()) {
    exit_with_error("--allowed-identities " + path +
                    " must hold a JSON object {\"alias\": \"<pk b64u>\"}");
  }
  for (const auto& [alias, pk] : j.items()) {
    if (!pk.is_string() || !crypto::b64u_decode_fixed<32>(pk.get<std::string>())) {
      exit_with_error("--allowed-identities: the key of alias \"" + alias +
                      "\" is not a base64url Ed25519 public key");
    }
    out[alias] = pk.get<std::string>();
  }
  return out;
}

rs::RateLimitMode parse_rate_limit(const std::string& mode) {
  if (mode == "off") return rs::RateLimitMode::kOff;
  if (mode == "on") return rs::RateLimitMode::kOn;
  if (mode == "auto") return rs::RateLimitMode::kNonLoopback;
  exit_with_error("--rate-limit must be on, off or auto (auto: loopback clients are exempt)",
                  kExitUsage);
}

// ---------- parsing and validation: options -> what to run ----------

// The validated options, with the environment's fallbacks applied and the values derived from
// them. Everything that can refuse the command does so here, before anything is opened.
struct ServePlan {
  ServeOptions o;
  ListenAddress listen;
  std::string token;
  std::string relay_name;
  std::string db_path;  // sqlite only

  bool sqlite() const { return o.storage == "sqlite"; }
  bool postgres() const { return o.storage == "postgres"; }
  bool memory() const { return o.storage == "memory"; }
};

void check_options(const ServeOptions& o) {
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    exit_with_error("--tls-cert and --tls-key must be given together", kExitUsage);
  }
  if (o.storage != "memory" && o.storage != "sqlite" && o.storage != "postgres") {
    exit_with_error("--storage must be memory, sqlite or postgres, got \"" + o.storage + "\"",
                    kExitUsage);
  }
  if (!o.db_url.empty() && o.storage != "postgres") {
    exit_with_error("--db-url is for --storage postgres", kExitUsage);
  }
}

// C2C_RELAY_DB_URL, C2C_RELAY_PERSIST_DIR and C2C_REQUIRE_SIGNED_ROOM_OPS=1 fill what the flags
// left unset; the checks between them keep the order their errors had.
void apply_env_and_check(ServeOptions& o) {
  if (o.db_url.empty()) {
    if (const char* env = std::getenv("C2C_RELAY_DB_URL"); env && *env) o.db_url = env;
  }
  if (o.storage == "postgres" && o.db_url.empty()) {
    exit_with_error(
        "--storage postgres needs --db-url postgresql://USER@HOST/DB (or C2C_RELAY_DB_URL)",
        kExitUsage);
  }
  if (o.gc_interval < 0) exit_with_error("--gc-interval must be >= 0 seconds", kExitUsage);
  if (o.max_connections == 0) exit_with_error("--max-connections must be at least 1", kExitUsage);
  if (auto urls = rs::register_proof_urls(o.public_urls); !urls) {
    exit_with_error("--public-url: " + urls.error().message, kExitUsage);
  }
  if (o.persist_dir.empty()) {
    if (const char* env = std::getenv("C2C_RELAY_PERSIST_DIR"); env && *env) o.persist_dir = env;
  }
  if (const char* env = std::getenv("C2C_REQUIRE_SIGNED_ROOM_OPS");
      env && std::string(env) == "1") {
    o.require_signed_room_ops = true;
  }
}

// Directories c2c creates for its data are private (0700): they hold the relay key and every
// queued message. The error names the directory that could not be created.
void make_data_dirs(const ServePlan& p) {
  if (!p.o.persist_dir.empty()) {
    if (auto r = make_private_dirs(p.o.persist_dir); !r) {
      exit_with_error("--persist-dir " + p.o.persist_dir + ": " + r.error().message);
    }
  }
  if (p.sqlite()) {
    if (auto r = make_private_dirs(fs::path(p.db_path).parent_path()); !r) {
      exit_with_error("--db-path " + p.db_path + ": " + r.error().message);
    }
  }
}

ServePlan plan_serve(ServeOptions o) {
  ServePlan p;
  p.listen = parse_listen(o.listen);
  check_options(o);
  apply_env_and_check(o);
  p.token = resolve_token(o);
  p.relay_name = o.relay_name.empty() ? p.listen.host : o.relay_name;
  p.o = std::move(o);
  if (p.sqlite()) {
    p.db_path = !p.o.db_path.empty()       ? p.o.db_path
                : !p.o.persist_dir.empty() ? (fs::path(p.o.persist_dir) / "c2c_relay.db").string()
                                           : "./c2c_relay.db";
  }
  make_data_dirs(p);
  return p;
}

// ---------- assembly: plan -> running server ----------

void print_banner(const ServePlan& p) {
  const char* build = std::getenv("BUILD_DATE");
  std::cerr << "   .-.       .-.\n"
            << "   |c| <-2-> |c|     relay-server v" << kVersion << "\n"
            << "   '-'       '-'     build=" << (build && *build ? build : "dev")
            << "  git=" << kGitHash << "\n"
            << "  listen=" << url_host(p.listen.host) << ":" << p.listen.port << "\n"
            << "  relay-name=" << p.relay_name << "\n";
  if (p.o.persist_dir.empty()) std::cerr << "  persist_dir: none\n";
}

std::string store_url(const ServePlan& p) {
  if (p.sqlite()) return "sqlite:" + p.db_path;
  if (!p.postgres()) return "memory:";
  const std::string& url = p.o.db_url;
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) return url;
  return "postgres:" + url;  // a libpq key=value string
}

// The relay key file lives with its data: the persist dir, else the SQLite database's
// directory. The store's copy, once there is one, is the one used (persist.hpp).
crypto::Identity load_relay_identity(const ServePlan& p, relay::Store& store, Clock& clock) {
  std::optional<fs::path> identity_dir;
  if (!p.o.persist_dir.empty()) {
    identity_dir = fs::path(p.o.persist_dir);
  } else if (p.sqlite()) {
    identity_dir = fs::absolute(p.db_path).parent_path();
  }
  rs::RelayIdentity id = unwrap(rs::load_relay_identity(store, identity_dir, clock.now()));
  std::cerr << rs::describe_relay_identity(id);
  return std::move(id.identity);
}

// Memory storage with a persist dir keeps room history in files; loads what is there.
std::unique_ptr<rs::HistoryArchive> open_history_archive(const ServePlan& p, relay::Store& store) {
  if (!p.memory() || p.o.persist_dir.empty()) return nullptr;
  auto archive = std::make_unique<rs::HistoryArchive>(p.o.persist_dir);
  const auto stats = unwrap(archive->load_into(store));
  std::cerr << "  room history: " << stats.rooms << " rooms, " << stats.entries << " entries loaded"
            << (stats.skipped ? " (" + std::to_string(stats.skipped) + " unreadable lines skipped)"
                              : std::string())
            << "\n";
  return archive;
}

rs::ServiceConfig service_config(const ServePlan& p) {
  rs::ServiceConfig config;
  config.relay_name = p.relay_name;
  config.max_content_bytes = p.o.max_content_bytes;
  config.allowlist = load_allowlist(p.o.allowed_identities);
  config.require_signed_room_ops = p.o.require_signed_room_ops;
  if (!config.allowlist.empty()) {
    std::cerr << "  allowlist: " << config.allowlist.size() << " pinned identities\n";
  }
  return config;
}

// Room history to the archive (when there is one), audit lines to stdout.
void connect_sinks(rs::RelayService& service, rs::HistoryArchive* archive, std::mutex& out_mu) {
  if (archive != nullptr) {
    service.set_history_sink([archive](const std::string& room, const relay::StoredMessage& e) {
      if (auto r = archive->append(room, e); !r) {
        std::cerr << "warning: room history not persisted: " << r.error().message << "\n";
      }
    });
  }
  service.set_audit_sink([&out_mu](const std::string& line) {
    std::lock_guard lock(out_mu);
    std::cout << line << "\n" << std::flush;
  });
}

// The receive stream's hub, unless --no-stream.
std::unique_ptr<rs::StreamHub> attach_stream_hub(const ServePlan& p, rs::Router& router,
                                                 relay::Store& store) {
  if (p.o.no_stream) return nullptr;
  auto hub = std::make_unique<rs::StreamHub>();
  router.set_stream_hub(hub.get(), p.o.stream_max_wait, p.o.stream_keepalive);
  // Messages accepted by another relay on the same database wake this relay's streams too.
  store.listen_wake([h = hub.get()](const std::vector<std::string>& nodes) {
    if (nodes.empty()) {
      h->notify_all();
    } else {
      h->notify(nodes);
    }
  });
  return hub;
}

net::ServerOptions server_options(const ServePlan& p, rs::StreamHub* hub) {
  net::ServerOptions so;
  so.host = p.listen.host;
  so.port = p.listen.port;
  so.threads = p.o.threads;
  if (so.threads == 0 && p.postgres()) {
    // A request waits for the database on its I/O thread (a commit is a WAL flush away), so
    // more threads keep more transactions in flight, and their commits share flushes.
    so.threads =
        static_cast<int>(std::max(8u, 4 * std::max(1u, std::thread::hardware_concurrency())));
  }
  so.limits.max_body_bytes = p.o.max_body_bytes;
  so.limits.max_connections = p.o.max_connections;
  so.limits.max_connections_per_ip = p.o.max_connections_per_ip;
  if (hub != nullptr && p.o.stream_keepalive > 0) {
    so.limits.pad_interval =
        std::chrono::milliseconds(static_cast<int64_t>(p.o.stream_keepalive * 1000));
    so.limits.padded_paths = {std::string(relay::protocol::route::kStream)};
  }
  so.stop_on_signals = true;
  if (hub != nullptr) so.on_stop = [hub] { hub->shutdown(); };
  if (!p.o.tls_cert.empty()) so.tls = net::TlsFiles{p.o.tls_cert, p.o.tls_key};
  return so;
}

// The router, logging each request and its status to stderr with --verbose.
net::Handler request_handler(rs::Router& router, bool verbose) {
  if (!verbose) {
    return [&router](net::Request req, net::Responder respond) {
      router.handle(std::move(req), std::move(respond));
    };
  }
  return [&router](net::Request req, net::Responder respond) {
    std::string line = req.remote_ip + " " + req.method + " " + req.target;
    router.handle(std::move(req),
                  [line = std::move(line), respond = std::move(respond)](net::Response resp) {
                    std::fprintf(stderr, "%s -> %d\n", line.c_str(), resp.status);
                    respond(std::move(resp));
                  });
  };
}

void report_connection_gauges(rs::Router& router, net::HttpServer& server) {
  router.set_connection_gauges([&server] {
    const net::ServerStats s = server.stats();
    return rs::ConnectionGauges{s.open_connections,  s.accepted_connections, s.rejected_connections,
                                s.busy_connections,  s.rejected_per_ip,      s.evicted_idle,
                                s.abandoned_requests};
  });
}

// Register proofs must name one of these (never a URL rebuilt from request headers).
void set_public_urls(const ServePlan& p, rs::RelayService& service, uint16_t port, bool tls) {
  const auto public_urls =
      !p.o.public_urls.empty()
          ? p.o.public_urls
          : rs::default_public_urls(p.listen.host, port, tls, net::local_interface_addresses(),
                                    net::host_name());
  service.set_register_urls(unwrap(rs::register_proof_urls(public_urls)));
  std::string list;
  for (const auto& u : public_urls) list += (list.empty() ? "" : " ") + u;
  std::cerr << "  public-url=" << list
            << (p.o.public_urls.empty() ? " (from --listen; set --public-url behind a proxy)" : "")
            << "\n";
}

std::unique_ptr<rs::GcLoop> start_gc_loop(const ServePlan& p, rs::RelayService& service,
                                          relay::Store& store, rs::Router& router) {
  if (p.o.gc_interval <= 0) return nullptr;
  return std::make_unique<rs::GcLoop>(p.o.gc_interval, [&service, &store, &router] {
    auto r = service.gc();
    router.record_gc(r);
    if (!r) {
      std::cerr << "warning: gc failed: " << r.error().error.message << "\n";
      return;
    }
    if (auto c = store.wait_durable(); !c)
      std::cerr << "warning: gc commit failed: " << c.error().message << "\n";
    router.wake_streams();  // room notices GC queued (members whose leases expired)
  });
}

// The startup lines operators script against (docs/decisions.md D6), on stdout.
void print_startup_lines(const ServePlan& p, uint16_t port, bool tls, bool stream) {
  std::cout << "c2c relay serving on " << (tls ? "https" : "http") << "://"
            << url_host(p.listen.host) << ":" << port << "\n"
            << "storage: " << p.o.storage << "\n";
  if (p.sqlite()) std::cout << "db: " << p.db_path << "\n";
  if (p.postgres()) std::cout << "db: " << relay::redact_db_url(p.o.db_url) << "\n";
  if (!p.o.persist_dir.empty()) std::cout << "persist_dir: " << p.o.persist_dir << "\n";
  std::cout << (p.token.empty() ? "auth: DISABLED (no token set — do not expose publicly)"
                                : "auth: Bearer token required")
            << "\n";
  if (p.o.gc_interval > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", p.o.gc_interval);
    std::cout << "gc: running every " << buf << "s\n";
  } else {
    std::cout << "gc: disabled\n";
  }
  // After the lines operators script against (docs/quickstart.md), not between them.
  std::cout << (stream ? "stream: on (POST /stream)" : "stream: off (--no-stream)") << "\n";
  std::cout << std::flush;
}

void run_serve(ServeOptions options) {
  const ServePlan p = plan_serve(std::move(options));
  print_banner(p);

  auto store = unwrap(relay::open_store(store_url(p)));
  SystemClock& clock = SystemClock::instance();
  crypto::Identity identity = load_relay_identity(p, *store, clock);
  std::unique_ptr<rs::HistoryArchive> archive = open_history_archive(p, *store);
  const rs::ServiceConfig config = service_config(p);

  rs::Authenticator auth(*store, clock, p.token);
  rs::RelayService service(*store, auth, clock, config, identity);
  std::mutex out_mu;  // stdout lines from several threads stay whole
  connect_sinks(service, archive.get(), out_mu);
  rs::RateLimiter limiter(parse_rate_limit(p.o.rate_limit));
  rs::Router router(service, auth, *store, limiter, clock);
  router.set_persist_dir(p.o.persist_dir);

  // Declared after the router it calls into, so it stops (answering its waiters) first.
  std::unique_ptr<rs::StreamHub> hub = attach_stream_hub(p, router, *store);
  const net::ServerOptions so = server_options(p, hub.get());
  net::HttpServer server(so, request_handler(router, p.o.verbose));
  report_connection_gauges(router, server);
  const uint16_t port = unwrap(server.listen());
  set_public_urls(p, service, port, so.tls.has_value());
  std::unique_ptr<rs::GcLoop> gc_loop = start_gc_loop(p, service, *store, router);
  {
    std::lock_guard lock(out_mu);
    print_startup_lines(p, port, so.tls.has_value(), hub != nullptr);
  }

  server.run();                 // returns after SIGINT/SIGTERM once in-flight requests finished
  store->listen_wake(nullptr);  // stops the listener before the hub it calls goes away
  if (gc_loop) gc_loop->stop();
  if (auto r = store->wait_durable(); !r)
    exit_with_error("final commit failed: " + r.error().message);
  std::cerr << "c2c relay: stopped\n";
}

}  // namespace

void register_relay_serve(CLI::App& relay) {
  auto opts = std::make_shared<ServeOptions>();
  auto* cmd = relay.add_subcommand("serve", "Run the relay server");
  cmd->add_option("--listen", opts->listen, "HOST:PORT to listen on (port 0 picks a free port)")
      ->capture_default_str();
  auto* token =
      cmd->add_option("--token", opts->token,
                      "Bearer token for admin routes; enables prod mode (visible in ps: prefer "
                      "--token-file or C2C_RELAY_TOKEN)");
  cmd->add_option("--token-file", opts->token_file, "File whose first line is the token");
  cmd->add_option("--storage", opts->storage,
                  "memory, sqlite or postgres (several relays sharing one PostgreSQL database)")
      ->capture_default_str();
  cmd->add_option("--db-url", opts->db_url,
                  "PostgreSQL URL for --storage postgres, e.g. postgresql://c2c@dbhost/c2c "
                  "(env C2C_RELAY_DB_URL; a password in it is never printed)");
  cmd->add_option("--db-path", opts->db_path,
                  "SQLite database (default <persist-dir>/c2c_relay.db or ./c2c_relay.db)");
  cmd->add_option("--persist-dir", opts->persist_dir,
                  "Directory for the relay identity file (sqlite/postgres: the database's copy, "
                  "stored by the first relay, is the one used) and (memory storage) room "
                  "history; env C2C_RELAY_PERSIST_DIR");
  cmd->add_option("--gc-interval", opts->gc_interval,
                  "Expire dead leases every N seconds (0 or omitted: disabled)");
  cmd->add_option("--threads", opts->threads, "I/O threads (default: number of cores)");
  cmd->add_option("--relay-name", opts->relay_name,
                  "Host name this relay answers to in alias@host (default: the listen host)");
  cmd->add_option(
      "--allowed-identities", opts->allowed_identities,
      "JSON file {alias: identity_pk}: pinned aliases must register signed by that key");
  cmd->add_option("--tls-cert", opts->tls_cert, "PEM certificate chain (with --tls-key)");
  cmd->add_option("--tls-key", opts->tls_key, "PEM private key (with --tls-cert)");
  cmd->add_flag("--verbose,-v", opts->verbose, "Log every request to stderr");
  cmd->add_option("--max-body-bytes", opts->max_body_bytes,
                  "Largest request body (larger: 413 payload_too_large)")
      ->capture_default_str();
  cmd->add_option("--max-content-bytes", opts->max_content_bytes,
                  "Largest message content (larger: 400 bad_request)")
      ->capture_default_str();
  cmd->add_option(
         "--max-connections", opts->max_connections,
         "Open connections at most; at the cap the one idle longest is closed for a new one")
      ->capture_default_str();
  cmd->add_option("--max-connections-per-ip", opts->max_connections_per_ip,
                  "Open connections one client IP may hold (0: no per-IP cap; raise it behind a "
                  "reverse proxy, where every client has the proxy's IP)")
      ->capture_default_str();
  cmd->add_option("--rate-limit", opts->rate_limit,
                  "Per-IP rate limits: on, off, or auto (on except for loopback clients)")
      ->capture_default_str();
  cmd->add_option(
      "--public-url", opts->public_urls,
      "URL clients use to reach this relay (repeatable), e.g. https://relay.example.com; "
      "signed registrations must name one. Default: derived from --listen and TLS");
  cmd->add_flag("--no-stream", opts->no_stream,
                "Do not offer the receive stream (POST /stream answers 404, as on relays that "
                "predate it; connectors fall back to polling)");
  cmd->add_option("--stream-max-wait", opts->stream_max_wait,
                  "Longest a receive-stream long-poll may wait, in seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--stream-keepalive", opts->stream_keepalive,
                  "Seconds between the spaces written to a waiting receive-stream long-poll, so "
                  "a reverse proxy's read timeout (nginx: 60 s) does not cut it; connectors "
                  "then wait up to 300 s per long-poll. 0 = none (connectors wait 50 s)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_flag("--require-signed-room-ops", opts->require_signed_room_ops,
                "Refuse unsigned join/leave/visibility (env C2C_REQUIRE_SIGNED_ROOM_OPS=1)");
  auto print_service = std::make_shared<bool>(false);
  cmd->add_flag("--print-service", *print_service,
                "Print a systemd system unit running the relay with these flags, then exit");
  cmd->callback([opts, token, print_service, cmd] {
    if (*print_service) {
      print_serve_service(*cmd);
      return;
    }
    opts->token_given = token->count() > 0;
    run_serve(*opts);
  });
}

}  // namespace c2c::cli
