// c2c relay connect: sync the local broker with the relay, once or in a loop.
#include <cstdio>
#include <iostream>
#include <memory>

#include "c2c/broker/broker.hpp"
#include "c2c/cli/relay_cli.hpp"
#include "c2c/connector/connector.hpp"
#include "c2c/connector/run_loop.hpp"
#include "c2c/core/clock.hpp"
#include "c2c/core/text.hpp"

namespace c2c::cli::relay_cli {

namespace {

struct ConnectOptions {
  ConnOptions conn;
  bool once = false;
  double interval = 30;
  bool verbose = false;
};

constexpr const char* kTag = "[relay-connector] ";

// Every line carries a UTC timestamp: the connector usually runs for days into a log file.
void say(const std::string& line) {
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

void run_connect(const ConnectOptions& o) {
  if (o.interval < 0.1) fail("--interval must be at least 0.1 seconds", kExitUsage);
  const auto r = resolve(o.conn);
  require_url(r);
  auto identity = load_identity(r, /*create_if_missing=*/true);
  auto client = make_client(r, std::move(identity));

  const std::filesystem::path root = o.conn.broker_root.empty()
                                         ? broker::resolve_root()
                                         : std::filesystem::path(o.conn.broker_root);
  broker::Broker broker(root);
  connector::ConnectorOptions copts;
  copts.node_id = r.node_id;
  connector::Connector conn(broker, client, copts);

  char interval[32];
  std::snprintf(interval, sizeof interval, "%g", o.interval);
  say(std::string(kTag) + "starting — relay=" + r.url + " node=" + r.node_id + " auth=" +
      (client.has_identity() ? "Ed25519-signed" : "token-only") + " interval=" + interval + "s");
  if (o.verbose) say(std::string(kTag) + "broker root: " + root.string());

  if (o.once) {
    auto round = conn.sync_once();
    if (!round) fail("relay connect: " + round.error().message);
    print_round(round.value(), o.verbose, 0);
    if (round->unreachable) fail("relay connect: relay UNREACHABLE at " + r.url);
    if (round->refused)
      fail("relay connect: the relay refused this connector (" + round->last_error + ")");
    if (!round->refused_aliases.empty()) {
      std::string aliases;
      for (const auto& a : round->refused_aliases) aliases += (aliases.empty() ? "" : ", ") + a;
      fail("relay connect: the relay refused alias(es) " + aliases + " (" + round->last_error +
           ")");
    }
    return;
  }

  connector::StopSource stop;
  stop.install_signal_handlers();
  connector::LoopOptions lo;
  lo.interval_seconds = o.interval;
  lo.watch_root = root;
  connector::run_loop(conn, lo, stop,
                      [&](const Result<connector::SyncReport>& round, double delay) {
                        if (!round) {
                          std::cerr << format_rfc3339_utc(SystemClock::instance().now()) << " "
                                    << kTag << "sync failed: " << round.error().message << "\n"
                                    << std::flush;
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
  if (o.verbose && stop.signal_number() != 0)
    say(std::string(kTag) + "received signal, shutting down...");
  say(std::string(kTag) + "shutdown complete");
}

}  // namespace

void register_connect_command(CLI::App& relay) {
  auto o = std::make_shared<ConnectOptions>();
  auto* cmd = relay.add_subcommand("connect", "Sync the local broker with the relay");
  add_conn_options(cmd, o->conn, /*full=*/true, /*json=*/false);
  cmd->add_flag("--once", o->once,
                "One sync round, then exit (non-zero if the relay was "
                "unreachable or refused us)");
  cmd->add_option("--interval", o->interval, "Seconds between rounds in loop mode (default 30)");
  cmd->add_flag("--verbose,-v", o->verbose, "Print every action, not just the round summary");
  cmd->callback([o] { run_connect(*o); });
}

}  // namespace c2c::cli::relay_cli
