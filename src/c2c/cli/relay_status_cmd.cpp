// c2c relay status | list | gc, and the relay line of `c2c health`.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

#include "c2c/cli/relay_cli.hpp"
#include "c2c/connector/run_loop.hpp"
#include "c2c/core/clock.hpp"
#include "c2c/relay/client/peer_listing.hpp"

namespace c2c::cli {

namespace relay_cli {

namespace {

namespace protocol = relay::protocol;

using relay::PeerList;

// The peers, the best way our credentials allow (relay::list_peers_as_allowed); the fallback
// signs /list with this machine's identity as its default alias, else its first local alias.
Result<PeerList> fetch_peers(relay::RelayClient& client, const relay::Resolved& r,
                             const std::string& broker_root, bool need_dead,
                             relay::RelayReply* refusal) {
  auto signer = [&]() {
    relay::ListSigner s;
    std::optional<crypto::Identity> identity;
    if (!client.has_identity()) identity = load_identity(r, /*create_if_missing=*/false);
    s.alias = default_alias(r, broker_root).value_or("");
    if (s.alias.empty()) {
      auto aliases = local_aliases(broker_root);
      if (!aliases.empty()) s.alias = aliases.front();
    }
    if (!client.has_identity()) s.client = make_client(r, std::move(identity));
    return s;
  };
  return relay::list_peers_as_allowed(client, need_dead, signer, refusal);
}

// ---------- status ----------

void run_status(const ConnOptions& o) {
  const auto r = resolve(o);
  require_url(r);
  auto client = make_client(r, load_identity(r, false));
  const auto health = expect_ok("status", r.url, client.health(), o.json);
  const auto h = protocol::HealthResponse::from_json(health.body).value_or({});

  relay::RelayReply refusal;
  const auto peers = fetch_peers(client, r, o.broker_root, false, &refusal);
  if (!peers && peers.error().code == ErrorCode::kUnavailable) {
    fail_unreachable(r.url, peers.error(), o.json);
  }
  if (o.json) {
    nlohmann::json j = {{"ok", true},           {"url", r.url},          {"status", "OK"},
                        {"node_id", r.node_id}, {"relay_alive", true},   {"auth_mode", h.auth_mode},
                        {"version", h.version}, {"git_hash", h.git_hash}};
    if (peers) {
      j["alive_peers"] = count_alive(peers.value());
      j["total_peers"] = peers->includes_dead ? nlohmann::json(peers->peers.size()) : nullptr;
    } else {
      j["peers_error"] = peers.error().message;
    }
    print_json(j);
    return;
  }
  std::cout << "relay: " << r.url << "\n";
  std::cout << "status: OK\n";
  std::cout << "node_id: " << r.node_id << "\n";
  if (peers && peers->includes_dead) {
    std::cout << "peers: " << count_alive(peers.value()) << " alive / " << peers->peers.size()
              << " total\n";
  } else if (peers) {
    std::cout << "peers: " << count_alive(peers.value()) << " alive\n";
  } else {
    std::cout << "peers: unknown (" << peers.error().message << ")\n";
    const auto hint = hint_for(refusal);
    if (!hint.empty()) std::cerr << "  " << hint << "\n";
  }
}

// ---------- list ----------

struct ListOptions {
  ConnOptions conn;
  bool dead = false;
};

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

void run_list(const ListOptions& o) {
  const auto r = resolve(o.conn);
  require_url(r);
  auto client = make_client(r, load_identity(r, false));
  relay::RelayReply refusal;
  auto peers = fetch_peers(client, r, o.conn.broker_root, o.dead, &refusal);
  if (!peers && peers.error().code == ErrorCode::kUnavailable) {
    fail_unreachable(r.url, peers.error(), o.conn.json);
  }
  if (!peers && refusal.http_status != 0) fail_reply("list", refusal, o.conn.json);
  if (!peers) exit_with_error("list: " + peers.error().message);

  std::vector<protocol::LeaseInfo> shown;
  for (const auto& p : peers->peers) {
    if (o.dead || p.alive) shown.push_back(p);
  }
  std::sort(shown.begin(), shown.end(),
            [](const auto& a, const auto& b) { return a.alias < b.alias; });
  if (o.conn.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& p : shown) arr.push_back(p.to_json());
    print_json({{"ok", true}, {"url", r.url}, {"peers", arr}});
    return;
  }
  if (shown.empty()) {
    std::cout << "relay " << r.url << ": " << (o.dead ? "no peers" : "no alive peers") << "\n";
    return;
  }
  const double now = SystemClock::instance().now();
  std::cout << "relay " << r.url << " — " << shown.size() << " peer(s):\n";
  for (const auto& p : shown) {
    const long ago = std::max(0L, static_cast<long>(now - p.last_seen));
    std::cout << "  " << (p.alive ? "●" : "○") << " " << pad(p.alias, 24) << " "
              << pad(p.client_type, 12) << " node=" << p.node_id << "  last_seen=" << ago
              << "s ago\n";
  }
}

// ---------- gc ----------

struct GcOptions {
  ConnOptions conn;
  bool once = false;
  double interval = 0;
  bool verbose = false;
};

// One GC call; returns false when it failed (the loop keeps going, --once exits 1).
bool gc_round(relay::RelayClient& client, const relay::Resolved& r, const GcOptions& o, bool loop) {
  auto reply = client.gc();
  const std::string stamp = loop ? "[" + local_hms(SystemClock::instance().now()) + "] " : "";
  if (!reply || !reply->ok()) {
    if (!loop) {
      if (!reply) fail_unreachable(r.url, reply.error(), o.conn.json);
      fail_reply("relay gc", reply.value(), o.conn.json);
    }
    std::cerr << stamp
              << "relay gc: " << (reply ? reply->describe() : "relay unreachable at " + r.url)
              << "\n";
    return false;
  }
  if (o.conn.json) {
    std::cout << reply->body.dump() << "\n" << std::flush;
    return true;
  }
  const auto g = protocol::GcResponse::from_json(reply->body).value_or({});
  std::cout << stamp << "relay gc: expired_leases=" << g.expired.size()
            << " pruned_inboxes=" << g.pruned << "\n";
  if (o.verbose) {
    for (const auto& a : g.expired) std::cout << "  expired: " << a << "\n";
  }
  std::cout << std::flush;
  return true;
}

void run_gc(const GcOptions& o) {
  if (!o.once && o.interval <= 0) {
    exit_with_error("relay gc: pass --once for one collection or --interval SECONDS to repeat",
                    kExitUsage);
  }
  const auto r = resolve(o.conn);
  require_url(r);
  auto client = make_client(r, std::nullopt);
  if (o.once) {
    if (o.conn.json) {
      // Pretty form for the one-shot JSON.
      auto reply = expect_ok("relay gc", r.url, client.gc(), true);
      print_json(reply.body);
      return;
    }
    gc_round(client, r, o, false);
    return;
  }
  std::cerr << "c2c relay gc: starting (interval=" << o.interval << "s, url=" << r.url << ")\n";
  connector::StopSource stop;
  stop.install_signal_handlers();
  while (!stop.stop_requested()) {
    gc_round(client, r, o, true);
    if (stop.wait_for(o.interval)) break;
  }
}

}  // namespace

void register_status_commands(CLI::App& relay) {
  auto so = std::make_shared<ConnOptions>();
  auto* status = relay.add_subcommand("status", "Check the relay: reachable, node id, peers");
  add_conn_options(status, *so, /*full=*/true, /*json=*/true);
  status->callback([so] { run_status(*so); });

  auto lo = std::make_shared<ListOptions>();
  auto* list = relay.add_subcommand("list", "List peers registered on the relay");
  add_conn_options(list, lo->conn, /*full=*/true, /*json=*/true);
  list->add_flag("--dead", lo->dead, "Include expired sessions (admin token)");
  list->callback([lo] { run_list(*lo); });

  auto go = std::make_shared<GcOptions>();
  auto* gc = relay.add_subcommand("gc", "Expire dead leases and prune orphan inboxes (admin)");
  add_conn_options(gc, go->conn, /*full=*/false, /*json=*/true);
  auto* once = gc->add_flag("--once", go->once, "One collection, then exit");
  auto* interval =
      gc->add_option("--interval", go->interval, "Collect every SECONDS until stopped");
  once->excludes(interval);
  gc->add_flag("--verbose,-v", go->verbose, "List the expired aliases");
  gc->callback([go] { run_gc(*go); });
}

}  // namespace relay_cli

RelayHealth probe_relay_health() {
  using namespace relay_cli;
  relay::Resolved r;
  try {
    r = resolve(ConnOptions{});
  } catch (const CliError& e) {
    return {"red", std::string("✗ Relay: configuration error — ") + e.what()};
  }
  if (r.url.empty()) {
    return {"none", "○ Relay: not configured (local-only; run 'c2c relay setup' to enable)"};
  }
  std::optional<crypto::Identity> identity;
  try {
    identity = load_identity(r, false);
  } catch (const CliError&) {
    // A broken identity only costs the signed peer count; the health line still reports.
  }
  auto client = make_client(r, std::move(identity), ClientTimeouts{5'000, 5'000});
  auto health = client.health();
  if (!health) {
    return {"red", "✗ Relay: " + r.url + " UNREACHABLE (" + health.error().message +
                       ") — run 'c2c relay status' to diagnose"};
  }
  if (!health->ok()) {
    return {"red", "✗ Relay: " + r.url + " answered with an error (" + health->describe() + ")"};
  }
  relay::RelayReply refusal;
  std::optional<PeerList> peers;
  try {
    auto p = fetch_peers(client, r, "", false, &refusal);
    if (p) peers = std::move(p).value();
  } catch (const CliError&) {
  }
  if (!peers) return {"green", "✓ Relay: " + r.url + " (reachable; peer count needs credentials)"};
  const size_t alive = count_alive(*peers);
  return {"green", "✓ Relay: " + r.url + " (" + std::to_string(alive) + " alive peer" +
                       (alive == 1 ? "" : "s") + ")"};
}

}  // namespace c2c::cli
