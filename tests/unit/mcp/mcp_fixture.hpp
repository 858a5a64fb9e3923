#pragma once
// In-process MCP agents for unit tests: each Agent is one Server (as one `c2c mcp` process
// would be) on a shared broker directory, driven through handle_line like a client would.

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "c2c/broker/broker.hpp"
#include "c2c/mcp/server.hpp"
#include "c2c/mcp/session.hpp"
#include "support/temp_dir.hpp"

namespace c2c::mcp::test {

using nlohmann::json;

struct ToolOut {
  std::string text;
  bool is_error = false;
  json parsed() const { return json::parse(text); }
};

inline SessionConfig config_with(std::optional<std::string> sid, std::string alias = "") {
  SessionConfig c;
  c.env_session_id = std::move(sid);
  c.auto_register_alias = std::move(alias);
  return c;
}

class Agent {
 public:
  // Answers an initialize request first, as every client does (tools/* are refused before);
  // notifications/initialized is left to the test (it starts push).
  Agent(const std::filesystem::path& root, SessionConfig config)
      : broker_(root), session_(config.env_session_id), server_(broker_, config, session_) {
    EXPECT_EQ(server_.handle_line(R"({"jsonrpc":"2.0","id":"init","method":"initialize"})").size(),
              1u);
  }
  Agent(const std::filesystem::path& root, std::optional<std::string> sid)
      : Agent(root, config_with(std::move(sid))) {}

  // Sends one request and returns its single response line, parsed.
  json rpc(const json& request) {
    const auto out = server_.handle_line(request.dump());
    EXPECT_EQ(out.size(), 1u) << request.dump();
    return out.empty() ? json() : json::parse(out.front());
  }
  json request(const std::string& method, json params = json::object()) {
    return rpc({{"jsonrpc", "2.0"}, {"id", ++next_id_}, {"method", method}, {"params", params}});
  }
  ToolOut call(const std::string& name, json args = json::object()) {
    const json r = request("tools/call", {{"name", name}, {"arguments", args}});
    EXPECT_TRUE(r.contains("result")) << r.dump();
    if (!r.contains("result")) return {r.dump(), true};
    const json& res = r["result"];
    EXPECT_EQ(res["content"].size(), 1u);
    EXPECT_EQ(res["content"][0]["type"], "text");
    return {res["content"][0]["text"].get<std::string>(), res["isError"].get<bool>()};
  }
  // Calls a tool that must succeed and returns its JSON payload.
  json ok(const std::string& name, json args = json::object()) {
    const ToolOut out = call(name, args);
    EXPECT_FALSE(out.is_error) << name << ": " << out.text;
    if (out.is_error) return json();
    return out.parsed();
  }
  // Calls a tool that must fail and returns its message.
  std::string err(const std::string& name, json args = json::object()) {
    const ToolOut out = call(name, args);
    EXPECT_TRUE(out.is_error) << name << " unexpectedly succeeded: " << out.text;
    return out.text;
  }
  void register_as(const std::string& alias) {
    const ToolOut out = call("register", {{"alias", alias}});
    ASSERT_FALSE(out.is_error) << out.text;
    ASSERT_EQ(out.text, "registered " + alias);
  }
  // Initializes like a client; `channel` declares the claude/channel capability.
  json initialize(bool channel, const std::string& version = "2025-06-18") {
    json caps = json::object();
    if (channel) caps["experimental"] = {{"claude/channel", json::object()}};
    json r = request("initialize", {{"protocolVersion", version},
                                    {"capabilities", caps},
                                    {"clientInfo", {{"name", "test"}, {"version", "1"}}}});
    EXPECT_TRUE(
        server_.handle_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})").empty());
    return r;
  }

  broker::Broker& broker() { return broker_; }
  Server& server() { return server_; }
  SessionState& session() { return session_; }

 private:
  broker::Broker broker_;
  SessionState session_;
  Server server_;
  int next_id_ = 0;
};

// Reads newline-terminated lines from an fd with a deadline.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char tmp[4096];
      const ssize_t n = ::read(fd_, tmp, sizeof tmp);
      if (n <= 0) return std::nullopt;
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buf_;
};

// A pid that no process has (beyond the kernel's pid_max): registrations with it are dead.
inline constexpr long long kDeadPid = 999'999'999;

}  // namespace c2c::mcp::test
