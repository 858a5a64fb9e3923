// c2c_load's report: throughput, latency percentiles, status and error counts.

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "load.hpp"

namespace c2c::load {
namespace {

struct Summary {
  uint64_t ok = 0;
  uint64_t errors = 0;
  double seconds = 0;
  double rps = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;  // milliseconds
};

Summary summarize(const LoadResult& r) {
  Summary s;
  std::vector<uint32_t> lat = r.totals.latencies_us;
  std::sort(lat.begin(), lat.end());
  s.ok = lat.size();
  for (const auto& [k, v] : r.totals.errors) s.errors += v;
  s.seconds = r.elapsed.count();
  s.rps = s.seconds > 0 ? static_cast<double>(s.ok) / s.seconds : 0;
  if (!lat.empty()) {
    auto pct = [&](double p) {
      size_t i = static_cast<size_t>(p * static_cast<double>(lat.size() - 1) + 0.5);
      return lat[std::min(i, lat.size() - 1)] / 1000.0;
    };
    s.p50 = pct(0.50);
    s.p90 = pct(0.90);
    s.p99 = pct(0.99);
    s.max = lat.back() / 1000.0;
    double sum = 0;
    for (auto v : lat) sum += v;
    s.mean = sum / static_cast<double>(lat.size()) / 1000.0;
  }
  return s;
}

}  // namespace

std::string format_text(const LoadOptions& o, const LoadResult& r) {
  Summary s = summarize(r);
  char buf[512];
  std::string out;
  std::snprintf(buf, sizeof buf, "c2c_load: %s %s, %d connections, %d thread(s)\n",
                o.method.c_str(), o.url.c_str(), o.connections, o.threads);
  out += buf;
  std::snprintf(buf, sizeof buf, "requests: %llu in %.2f s = %.0f req/s, errors: %llu\n",
                static_cast<unsigned long long>(s.ok), s.seconds, s.rps,
                static_cast<unsigned long long>(s.errors));
  out += buf;
  std::snprintf(buf, sizeof buf, "latency ms: p50 %.3f, p90 %.3f, p99 %.3f, max %.3f, mean %.3f\n",
                s.p50, s.p90, s.p99, s.max, s.mean);
  out += buf;
  out += "status:";
  for (const auto& [code, n] : r.totals.status) {
    out += " " + std::to_string(code) + "=" + std::to_string(n);
  }
  out += ", \"ok\":false bodies: " + std::to_string(r.totals.ok_false) + "\n";
  for (const auto& [why, n] : r.totals.errors)
    out += "error: " + why + " x" + std::to_string(n) + "\n";
  if (o.idle_connections > 0) {
    out += "idle connections: " + std::to_string(r.idle_opened) + " opened, " +
           std::to_string(r.idle_closed_by_server) + " closed by the server during the run\n";
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string format_json(const LoadOptions& o, const LoadResult& r) {
  Summary s = summarize(r);
  nlohmann::json j;
  j["url"] = o.url;
  j["method"] = o.method;
  j["connections"] = o.connections;
  j["threads"] = o.threads;
  j["signed"] = o.sign_identity.has_value();
  j["duration_s"] = s.seconds;
  j["requests"] = s.ok;
  j["errors"] = s.errors;
  j["rps"] = s.rps;
  j["latency_ms"] = {
      {"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}, {"max", s.max}, {"mean", s.mean}};
  nlohmann::json status = nlohmann::json::object();
  for (const auto& [code, n] : r.totals.status) status[std::to_string(code)] = n;
  j["status"] = status;
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [why, n] : r.totals.errors) errors[why] = n;
  j["error_reasons"] = errors;
  j["ok_false"] = r.totals.ok_false;
  j["connects"] = r.totals.connects;
  if (o.idle_connections > 0) {
    j["idle_connections"] = {{"requested", o.idle_connections},
                             {"opened", r.idle_opened},
                             {"closed_by_server", r.idle_closed_by_server}};
  }
  return j.dump();
}

}  // namespace c2c::load
