// Fuzzes the MCP server's JSON-RPC dispatch (mcp::Server::handle_line) over a real broker
// directory, reset before every input so each input replays the same way.
//
// Input: up to 16 lines; each is one framed message, as `c2c mcp` reads them from stdin.
// Oracles: handle_line never throws; every line it returns is a JSON-RPC 2.0 response (an object
// with "jsonrpc":"2.0", an "id" and exactly one of "result"/"error"), or an array of them for a
// batch; every response to a request with an id echoes that id.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/mcp/server.hpp"
#include "c2c/mcp/session.hpp"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path& work_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("c2c-fuzz-mcp-" + std::to_string(::getpid()));
    fs::create_directories(d);
    // Tools must not touch the developer's real config or state.
    ::setenv("HOME", d.c_str(), 1);
    ::setenv("XDG_CONFIG_HOME", (d / "config").c_str(), 1);
    ::setenv("XDG_STATE_HOME", (d / "state").c_str(), 1);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(work_dir(), ec);
    });
    return d;
  }();
  return dir;
}

void check_response(const Json& r) {
  if (!r.is_object()) __builtin_trap();
  if (r.value("jsonrpc", std::string()) != "2.0") __builtin_trap();
  if (!r.contains("id")) __builtin_trap();
  if (r.contains("result") == r.contains("error")) __builtin_trap();
  if (r.contains("error")) {
    const Json& e = r["error"];
    if (!e.is_object() || !e.contains("code") || !e["code"].is_number_integer() ||
        !e.contains("message") || !e["message"].is_string()) {
      __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const fs::path root = work_dir() / "broker";
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::create_directories(root);

  c2c::broker::Broker broker(root);
  c2c::mcp::SessionConfig config;
  config.env_session_id = "fuzz-session";
  config.channel_delivery = false;
  c2c::mcp::SessionState session(config.env_session_id);
  c2c::mcp::Server server(broker, config, session);
  // Blocking tools (wait_for_message) run cancelled at once, so an input cannot stall the
  // fuzzer for their timeout; their answers are dropped, as for a cancelled request.
  server.set_async_runner([&server](c2c::mcp::Server::Job job) {
    server.cancel_all();
    (void)job();
  });
  // Initialized first, so the fuzzed lines reach the tools (tools/* before initialize are refused).
  (void)server.handle_line(R"({"jsonrpc":"2.0","id":0,"method":"initialize"})");

  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (int i = 0; i < 16 && !in.empty(); ++i) {
    const size_t nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    std::vector<std::string> out;
    try {
      out = server.handle_line(line);
    } catch (...) {
      __builtin_trap();  // documented: never throws, whatever the input
    }
    const Json request = Json::parse(line, nullptr, false);
    for (const auto& text : out) {
      const Json r = Json::parse(text, nullptr, false);
      if (r.is_discarded()) __builtin_trap();
      if (r.is_array()) {
        if (r.empty()) __builtin_trap();  // an all-notification batch gets no response at all
        for (const auto& item : r) check_response(item);
        continue;
      }
      check_response(r);
      if (request.is_object() && request.contains("id") && request.contains("method") &&
          r["id"] != request["id"] && !r["id"].is_null()) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
