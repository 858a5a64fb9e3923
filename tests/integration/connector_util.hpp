#pragma once
// Helpers for the connector integration tests: a "machine" is its own HOME (identity, relay
// config) and broker root, driving the real c2c binary.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace c2c::test::connector {

// Environment variables of the developer's shell that would leak into the machines.
inline const std::vector<std::string> kLeakyEnv = {"C2C_RELAY_URL",
                                                   "C2C_RELAY_TOKEN",
                                                   "C2C_RELAY_CONFIG",
                                                   "C2C_RELAY_NODE_ID",
                                                   "C2C_RELAY_IDENTITY_PATH",
                                                   "C2C_MCP_SESSION_ID",
                                                   "C2C_MCP_AUTO_REGISTER_ALIAS",
                                                   "C2C_MCP_BROKER_ROOT",
                                                   "XDG_CONFIG_HOME",
                                                   "XDG_STATE_HOME",
                                                   "CLAUDE_SESSION_ID"};

struct Machine {
  std::string node_id;
  std::unique_ptr<TempDir> dir;
  // Extra argv prefix (e.g. {"ip","netns","exec","ns-a"}) to run c2c inside a namespace.
  std::vector<std::string> prefix;

  explicit Machine(std::string node) : node_id(std::move(node)) {
    dir = std::make_unique<TempDir>("c2c-machine-" + node_id);
    std::filesystem::create_directories(broker_root());
    std::filesystem::create_directories(home());
  }
  std::filesystem::path home() const { return dir->path() / "home"; }
  std::filesystem::path broker_root() const { return dir->path() / "broker"; }

  ProcessOptions options() const {
    ProcessOptions o;
    o.unset_env = kLeakyEnv;
    o.env["HOME"] = home().string();
    o.env["C2C_MCP_BROKER_ROOT"] = broker_root().string();
    o.cwd = dir->str();  // outside any git repo
    o.timeout = std::chrono::seconds(60);
    return o;
  }
  std::vector<std::string> argv(const std::vector<std::string>& args) const {
    std::vector<std::string> v = prefix;
    v.push_back(c2c_bin());
    v.insert(v.end(), args.begin(), args.end());
    return v;
  }
  RunResult c2c(const std::vector<std::string>& args) const { return run(argv(args), options()); }

  // Registers alias/session in this machine's local broker.
  void add_session(const std::string& alias, const std::string& session) const {
    const auto r = c2c({"register", "--alias", alias, "--session-id", session, "--pid", "0"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  std::vector<std::string> connect_args(const std::string& url, const std::string& token) const {
    std::vector<std::string> a = {"relay",     "connect", "--relay-url",   url,
                                  "--node-id", node_id,   "--broker-root", broker_root().string()};
    if (!token.empty()) {
      a.push_back("--token");
      a.push_back(token);
    }
    return a;
  }
  RunResult connect_once(const std::string& url, const std::string& token) const {
    auto a = connect_args(url, token);
    a.push_back("--once");
    return c2c(a);
  }
  std::unique_ptr<Child> connect_loop(const std::string& url, const std::string& token,
                                      const std::string& interval) const {
    auto a = connect_args(url, token);
    a.push_back("--interval");
    a.push_back(interval);
    return std::make_unique<Child>(argv(a), options());
  }

  broker::Broker broker() const { return broker::Broker(broker_root()); }

  // The local inbox of a session (not drained).
  std::vector<broker::Message> inbox(const std::string& session) const {
    auto b = broker();
    auto m = b.peek(session);
    return m ? m.value() : std::vector<broker::Message>{};
  }
};

// Polls `done` every 50 ms until it holds or `timeout` passes.
template <typename Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// "http://127.0.0.1:PORT" -> PORT
inline std::string port_of(const std::string& url) {
  return url.substr(url.rfind(':') + 1);
}

// A `c2c mcp` server of one session on a machine, driven over stdio as an agent's client would.
// With `channel`, the client declares the claude/channel capability, so messages are pushed to
// it as notifications/claude/channel.
class McpSession {
 public:
  McpSession(const Machine& m, const std::string& session, const std::string& alias,
             bool channel = false) {
    auto o = m.options();
    o.env["C2C_MCP_SESSION_ID"] = session;
    o.env["C2C_MCP_AUTO_REGISTER_ALIAS"] = alias;
    o.keep_stdin_open = true;
    child_ = std::make_unique<Child>(m.argv({"mcp"}), o);
    nlohmann::json caps = nlohmann::json::object();
    if (channel) caps["experimental"] = {{"claude/channel", nlohmann::json::object()}};
    call("initialize", {{"protocolVersion", "2024-11-05"},
                        {"capabilities", caps},
                        {"clientInfo", {{"name", "connector-test"}, {"version", "1"}}}});
    child_->write_stdin(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
                        "\n");
  }
  // tools/call; returns the tool result's text content.
  std::string tool(const std::string& name, const nlohmann::json& args) {
    const auto r = call("tools/call", {{"name", name}, {"arguments", args}});
    EXPECT_FALSE(r.value("isError", false)) << r.dump();
    return r["content"][0].value("text", "");
  }
  // The params of the first notification `method` the server sent (nullopt after `timeout`).
  std::optional<nlohmann::json> notification(const std::string& method,
                                             std::chrono::milliseconds timeout) {
    const auto line = child_->wait_for_line(
        [&](const std::string& l) {
          const auto j = nlohmann::json::parse(l, nullptr, false);
          return !j.is_discarded() && j.is_object() && j.value("method", "") == method;
        },
        timeout);
    if (!line) return std::nullopt;
    return nlohmann::json::parse(*line).value("params", nlohmann::json::object());
  }
  std::string err() const { return child_->err(); }
  ~McpSession() { child_->close_stdin(); }

 private:
  nlohmann::json call(const std::string& method, const nlohmann::json& params) {
    const int id = ++next_id_;
    child_->write_stdin(
        nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}
            .dump() +
        "\n");
    const auto line = child_->wait_for_line(
        [id](const std::string& l) {
          const auto j = nlohmann::json::parse(l, nullptr, false);
          return !j.is_discarded() && j.is_object() && j.value("id", -1) == id;
        },
        std::chrono::seconds(20));
    if (!line) {
      ADD_FAILURE() << method << ": no answer; stderr: " << child_->err();
      return nlohmann::json::object();
    }
    return nlohmann::json::parse(*line).value("result", nlohmann::json::object());
  }
  std::unique_ptr<Child> child_;
  int next_id_ = 0;
};

}  // namespace c2c::test::connector
