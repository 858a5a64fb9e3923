// c2c relay connect: sync the local broker with the relay, once or in a loop.
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>

#include "c2c/broker/broker.hpp"
#include "c2c/cli/relay_cli.hpp"
#include "c2c/cli/relay_connect_service.hpp"
#include "c2c/connector/connector.hpp"
#include "c2c/connector/run_loop.hpp"
#include "c2c/connector/stream.hpp"
#include "c2c/core/clock.hpp"
#include "c2c/core/text.hpp"

namespace c2c::cli::relay_cli {

namespace {

struct ConnectOptions {
  ConnOptions conn;
  bool once = false;
  double interval = 30;
  bool verbose = false;
  bool interval_given = false;
  ManageOptions manage;
  bool no_stream = false;
  double stream_wait = 50;
  bool stream_wait_given = false;
};

constexpr const char* kTag = "[relay-connector] ";

// The managed loop of this process, when it logs to a file (--daemon).
ManagedLoop* g_daemon = nullptr;
std::mutex g_say_mu;  // the receive stream's thread prints too

// Every line carries a UTC timestamp: the connector usually runs for days into a log file.
// With --daemon the lines go to the daemon's log (millisecond timestamps, size-capped).
void say(const std::string& line) {
  std::lock_guard lock(g_say_mu);
  if (g_daemon != nullptr) {
    g_daemon->say(line);
    return;
  }
  // One line at a time: logs and tests read them live.
  std::cout << format_rfc3339_utc(SystemClock::instance().now()) << " " << line << "\n"
            << std::flush;
}

void print_round(const connector::SyncReport& r, bool verbose, size_t max_error) {
  for (const auto& n : r.notices) say(kTag + n);
  if (verbose) {
    for (const auto& d : r.details) say(kTag + d);
  }
  say(r.summary_line(verbose ? 0 : max_error));
}

// The flags an installed service repeats in its ExecStart= line.
std::vector<std::string> loop_args(const ConnectOptions& o) {
  std::vector<std::string> a;
  if (o.interval_given) {
    char interval[32];
    std::snprintf(interval, sizeof interval, "%g", o.interval);
    a.insert(a.end(), {"--interval", interval});
  }
  if (o.verbose) a.emplace_back("--verbose");
  if (o.no_stream) a.emplace_back("--no-stream");
  if (o.stream_wait_given) {
    char wait[32];
    std::snprintf(wait, sizeof wait, "%g", o.stream_wait);
    a.insert(a.end(), {"--stream-wait", wait});
  }
  return a;
}

void run_connect(const ConnectOptions& o) {
  if (o.interval < 0.1) exit_with_error("--interval must be at least 0.1 seconds", kExitUsage);
  if (o.once && (o.manage.daemon || o.manage.install_service)) {
    exit_with_error(
        "--once runs one round in the foreground; it excludes --daemon and --install-service",
        kExitUsage);
  }
  if (run_manage_command(o.manage, o.conn, loop_args(o))) return;
  const auto r = resolve(o.conn);
  require_url(r);
  auto identity = load_identity(r, /*create_if_missing=*/true);

  const std::filesystem::path root =
      o.once ? (o.conn.broker_root.empty() ? broker::resolve_root()
                                           : std::filesystem::path(o.conn.broker_root))
             : connector_root(o.conn);
  // A loop owns its broker root: a second one is refused, --status and --stop find it. With
  // --daemon the process detaches here; everything below runs in the daemon.
  std::unique_ptr<ManagedLoop> managed;
  if (!o.once) {
    managed = start_managed_loop(o.manage, root, r);
    if (managed->log) g_daemon = managed.get();
  }
  std::optional<relay::RelayClient> client_holder;
  try {
    client_holder.emplace(make_client(r, std::move(identity)));
  } catch (const CliError& e) {
    if (managed) managed->failed(e.what());
    throw;
  }
  auto& client = *client_holder;
  broker::Broker broker(root);
  connector::ConnectorOptions copts;
  copts.node_id = r.node_id;
  // Loop mode: the scheduled rounds heartbeat, the eager ones (mail just queued) forward at once.
  if (!o.once) copts.heartbeat_every = o.interval / 2;
  connector::Connector conn(broker, client, copts);

  char interval[32];
  std::snprintf(interval, sizeof interval, "%g", o.interval);
  say(std::string(kTag) + "starting — relay=" + r.url + " node=" + r.node_id + " auth=" +
      (client.has_identity() ? "Ed25519-signed" : "token-only") + " interval=" + interval + "s");
  if (o.verbose) say(std::string(kTag) + "broker root: " + root.string());
  if (managed) managed->ready();

  if (o.once) {
    auto round = conn.sync_once();
    if (!round) exit_with_error("relay connect: " + round.error().message);
    print_round(round.value(), o.verbose, 0);
    if (round->unreachable) exit_with_error("relay connect: relay UNREACHABLE at " + r.url);
    if (round->refused)
      exit_with_error("relay connect: the relay refused this connector (" + round->last_error +
                      ")");
    if (!round->refused_aliases.empty()) {
      std::string aliases;
      for (const auto& a : round->refused_aliases) aliases += (aliases.empty() ? "" : ", ") + a;
      exit_with_error("relay connect: the relay refused alias(es) " + aliases + " (" +
                      round->last_error + ")");
    }
    return;
  }

  connector::StopSource stop;
  stop.install_signal_handlers();
  // The receive stream has its own client: a long-poll holds its connection for up to a minute.
  std::optional<relay::RelayClient> stream_client;
  std::unique_ptr<connector::StreamLoop> stream;
  if (!o.no_stream) {
    stream_client.emplace(make_client(r, client.identity()));
    connector::StreamOptions so;
    so.wait_seconds = o.stream_wait;
    // An explicit --stream-wait holds with every relay.
    if (o.stream_wait_given) so.kept_alive_wait_seconds = o.stream_wait;
    stream = std::make_unique<connector::StreamLoop>(
        conn, broker, *stream_client, so, [&o](const std::string& line, bool verbose_only) {
          if (!verbose_only || o.verbose) say(kTag + line);
        });
    stream->start();
  }
  connector::LoopOptions lo;
  lo.interval_seconds = o.interval;
  lo.watch_root = root;
  connector::run_loop(conn, lo, stop,
                      [&](const Result<connector::SyncReport>& round, double delay) {
                        if (!round) {
                          if (g_daemon != nullptr) {
                            say(std::string(kTag) + "sync failed: " + round.error().message);
                          } else {
                            std::cerr << format_rfc3339_utc(SystemClock::instance().now()) << " "
                                      << kTag << "sync failed: " << round.error().message << "\n"
                                      << std::flush;
                          }
                        } else {
                          print_round(round.value(), o.verbose, 80);
                        }
                        if (o.verbose && delay > o.interval * 1.0001) {
                          char buf[96];
                          std::snprintf(buf, sizeof buf,
                                        "relay unhealthy; backing off, next round in %.1fs", delay);
                          say(std::string(kTag) + buf);
                        }
                      });
  if (stream) stream->stop();
  if (o.verbose && stop.signal_number() != 0)
    say(std::string(kTag) + "received signal, shutting down...");
  say(std::string(kTag) + "shutdown complete");
  g_daemon = nullptr;
}

}  // namespace

void register_connect_command(CLI::App& relay) {
  auto o = std::make_shared<ConnectOptions>();
  auto* cmd = relay.add_subcommand("connect", "Sync the local broker with the relay");
  add_conn_options(cmd, o->conn, /*full=*/true, /*json=*/true);  // --json: with --status
  cmd->add_flag("--once", o->once,
                "One sync round, then exit (non-zero if the relay was "
                "unreachable or refused us)");
  cmd->add_option("--interval", o->interval, "Seconds between rounds in loop mode (default 30)")
      ->each([o](const std::string&) { o->interval_given = true; });
  cmd->add_flag("--verbose,-v", o->verbose, "Print every action, not just the round summary");
  add_manage_options(cmd, o->manage);
  cmd->add_flag("--no-stream", o->no_stream,
                "Loop mode: poll the relay every --interval instead of holding its receive "
                "stream open");
  cmd->add_option("--stream-wait", o->stream_wait,
                  "Seconds one receive-stream long-poll may wait. Default: 50 (under nginx's "
                  "60 s proxy_read_timeout), or 300 against a relay that keeps waiting "
                  "long-polls alive (relay serve --stream-keepalive)")
      ->check(CLI::Range(0.0, 600.0))
      ->each([o](const std::string&) { o->stream_wait_given = true; });
  cmd->callback([o] { run_connect(*o); });
}

}  // namespace c2c::cli::relay_cli
