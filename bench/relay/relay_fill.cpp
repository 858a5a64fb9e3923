// c2c_relay_fill: prepares and fills a running relay over HTTP for the relay benchmarks
// (docs/performance/relay.md).
//
//   c2c_relay_fill identity --out FILE                 write a fresh identity.json (0600)
//   c2c_relay_fill register --url U --alias A [--identity FILE] [--node N --session S]
//                                                      register one alias (signed if --identity)
//   c2c_relay_fill fill --url U --leases 10000 --messages 1000000 [--content-bytes 100]
//                       [--connections 8] [--pid P]    N leases, then M messages spread over them;
//                                                      prints the relay's RSS when --pid is given
//   c2c_relay_fill cross --send-url U1 --stream-url U2 [--samples 500]
//                                                      cross-relay delivery latency: a /send to
//                                                      relay 1 until the /stream long-poll waiting
//                                                      on relay 2 answers with it (p50/p99)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"
#include "c2c/crypto/identity.hpp"
#include "c2c/net/http_client.hpp"

namespace {

using Json = nlohmann::json;

double now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

c2c::net::HttpClient client(const std::string& url) {
  auto c = c2c::net::HttpClient::create(url);
  if (!c) throw std::runtime_error(c.error().message);
  return std::move(c).value();
}

// POSTs and returns the parsed body; throws on transport errors or ok:false.
Json post(c2c::net::HttpClient& http, const std::string& path, const Json& body) {
  c2c::net::ClientRequest req{"POST", path, {}, body.dump()};
  auto r = http.request(req);
  if (!r) throw std::runtime_error(path + ": " + r.error().message);
  Json j = Json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.value("ok", false)) {
    throw std::runtime_error(path + " -> " + std::to_string(r->status) + " " + r->body);
  }
  return j;
}

int cmd_identity(const std::string& out) {
  auto id = c2c::crypto::new_identity("bench", now());
  auto r = c2c::crypto::save_identity(out, id);
  if (!r) throw std::runtime_error(r.error().message);
  std::cout << id.public_key_b64u() << "\n";
  return 0;
}

int cmd_register(const std::string& url, const std::string& alias, const std::string& identity,
                 const std::string& node, const std::string& session) {
  auto http = client(url);
  Json body = {{"node_id", node}, {"session_id", session}, {"alias", alias}};
  if (!identity.empty()) {
    auto id = c2c::crypto::load_identity(identity);
    if (!id) throw std::runtime_error(id.error().message);
    const std::string ts = c2c::format_rfc3339_utc(now());
    const std::string nonce = c2c::crypto::random_nonce();
    const std::string pk = id->public_key_b64u();
    body["identity_pk"] = pk;
    body["timestamp"] = ts;
    body["nonce"] = nonce;
    body["signature"] = c2c::crypto::sign_b64u(
        id->keys, c2c::crypto::canonical_blob(c2c::crypto::kCtxRegister,
                                              {alias, c2c::casefold(url), pk, ts, nonce}));
  }
  post(http, "/register", body);
  std::cout << "registered " << alias << (identity.empty() ? "" : " (signed)") << "\n";
  return 0;
}

int cmd_fill(const std::string& url, int leases, long messages, int content_bytes, int connections,
             int pid) {
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<long> next{0};
  std::atomic<bool> failed{false};
  auto run = [&](auto&& job, long total) {
    next = 0;
    std::vector<std::thread> threads;
    for (int c = 0; c < connections; ++c) {
      threads.emplace_back([&] {
        try {
          auto http = client(url);
          for (long i = next++; i < total && !failed; i = next++) job(http, i);
        } catch (const std::exception& e) {
          if (!failed.exchange(true)) std::cerr << "error: " << e.what() << "\n";
        }
      });
    }
    for (auto& t : threads) t.join();
  };
  run(
      [&](c2c::net::HttpClient& http, long i) {
        const std::string n = std::to_string(i);
        post(http, "/register",
             {{"node_id", "node-" + n},
              {"session_id", "s-" + n},
              {"alias", "peer-" + n},
              {"ttl", 86400}});
      },
      leases);
  if (failed) return 1;
  const auto t1 = std::chrono::steady_clock::now();
  const std::string content(static_cast<size_t>(content_bytes), 'x');
  run(
      [&](c2c::net::HttpClient& http, long i) {
        post(http, "/send",
             {{"from_alias", "bench"},
              {"to_alias", "peer-" + std::to_string(i % leases)},
              {"content", content}});
      },
      messages);
  if (failed) return 1;
  const auto t2 = std::chrono::steady_clock::now();
  const double reg_s = std::chrono::duration<double>(t1 - t0).count();
  const double send_s = std::chrono::duration<double>(t2 - t1).count();
  std::printf("leases: %d in %.1f s; messages: %ld x %d bytes in %.1f s (%.0f req/s)\n", leases,
              reg_s, messages, content_bytes, send_s, messages / send_s);
  if (pid > 0) {
    const long kib = rss_kib(pid);
    std::printf("relay pid %d VmRSS: %ld KiB (%.1f MiB)\n", pid, kib, kib / 1024.0);
  }
  return 0;
}

// Sends one message at a time through relay 1 while relay 2's stream for the recipient's node
// waits, and times send -> frame. Relays in dev mode; both must share one database.
int cmd_cross(const std::string& send_url, const std::string& stream_url, int samples) {
  auto sender = client(send_url);
  post(sender, "/register", {{"node_id", "cross-b"}, {"session_id", "sb"}, {"alias", "crossbob"}});
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(samples));
  auto streamer = client(stream_url);
  uint64_t acked = 0;
  for (int i = 0; i < samples; ++i) {
    Json body = {{"node_id", "cross-b"}, {"wait", 10}};
    if (acked > 0) body["acks"] = Json::array({{{"session_id", "sb"}, {"seq", acked}}});
    // Drain what is pending first (the ack above), so the timed frame waits for the send.
    Json first =
        post(streamer, "/stream",
             {{"node_id", "cross-b"}, {"wait", 0}, {"acks", body.value("acks", Json::array())}});
    for (const auto& m : first["messages"]) acked = std::max(acked, m["seq"].get<uint64_t>());
    if (!first["messages"].empty()) {
      post(streamer, "/stream",
           {{"node_id", "cross-b"},
            {"wait", 0},
            {"acks", Json::array({{{"session_id", "sb"}, {"seq", acked}}})}});
    }
    auto waiting = std::async(std::launch::async, [&] {
      return post(streamer, "/stream", {{"node_id", "cross-b"}, {"wait", 10}});
    });
    // Give the long-poll time to be parked on relay 2 before the send (it is timed from the send).
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto t0 = std::chrono::steady_clock::now();
    post(sender, "/send",
         {{"from_alias", "crossalice"}, {"to_alias", "crossbob"}, {"content", "x"}});
    Json frame = waiting.get();
    const auto t1 = std::chrono::steady_clock::now();
    if (frame["messages"].empty()) throw std::runtime_error("a frame came back empty");
    for (const auto& m : frame["messages"]) acked = std::max(acked, m["seq"].get<uint64_t>());
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[static_cast<size_t>(p * (ms.size() - 1))]; };
  std::printf(
      "cross-relay delivery (send on relay 1 -> stream frame on relay 2), %d samples: "
      "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      samples, pct(0.5), pct(0.9), pct(0.99), ms.back());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"c2c_relay_fill: prepare and fill a relay for benchmarks"};
  app.require_subcommand(1);
  std::string url, alias, identity, out, node = "bench-node", session = "bench-session";
  int leases = 10'000, content_bytes = 100, connections = 8, pid = 0;
  long messages = 1'000'000;

  auto* id_cmd = app.add_subcommand("identity", "Write a fresh identity.json");
  id_cmd->add_option("--out", out)->required();
  auto* reg = app.add_subcommand("register", "Register one alias");
  reg->add_option("--url", url)->required();
  reg->add_option("--alias", alias)->required();
  reg->add_option("--identity", identity, "identity.json: sign the registration");
  reg->add_option("--node", node);
  reg->add_option("--session", session);
  auto* fill = app.add_subcommand("fill", "Register N leases and queue M messages");
  fill->add_option("--url", url)->required();
  fill->add_option("--leases", leases)->capture_default_str();
  fill->add_option("--messages", messages)->capture_default_str();
  fill->add_option("--content-bytes", content_bytes)->capture_default_str();
  fill->add_option("--connections", connections)->capture_default_str();
  fill->add_option("--pid", pid, "Relay pid whose VmRSS to print");
  std::string send_url, stream_url;
  int samples = 500;
  auto* cross = app.add_subcommand("cross", "Cross-relay delivery latency (send 1 -> stream 2)");
  cross->add_option("--send-url", send_url)->required();
  cross->add_option("--stream-url", stream_url)->required();
  cross->add_option("--samples", samples)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    if (*id_cmd) return cmd_identity(out);
    if (*cross) return cmd_cross(send_url, stream_url, samples);
    if (*reg) return cmd_register(url, alias, identity, node, session);
    return cmd_fill(url, leases, messages, content_bytes, connections, pid);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
