// The two-machine flow across real network hosts: the relay and two brokers in three network
// namespaces joined by veth pairs (10.201.1.0/24 relay<->A, 10.201.2.0/24 relay<->B). Needs root
// and iproute2; skipped with the reason otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include "connector_util.hpp"

namespace c2c::test::connector {
namespace {

using namespace std::chrono_literals;

bool sh(const std::string& cmd, std::string* err = nullptr) {
  const auto r = run({"/bin/sh", "-c", cmd});
  if (r.exit_code != 0 && err != nullptr) *err = cmd + ": " + r.err;
  return r.exit_code == 0;
}

// Absolute path of `ip` (children are started with execve, which does not search PATH).
std::string ip_path() {
  const auto r = run({"/bin/sh", "-c", "command -v ip"});
  if (r.exit_code != 0) return "";
  std::string p = r.out;
  while (!p.empty() && (p.back() == '\n' || p.back() == ' ')) p.pop_back();
  return p;
}

// Creates the namespaces and links; removes them (and everything in them) on destruction.
class Topology {
 public:
  Topology() : tag_(std::to_string(::getpid() % 100000)) {}
  ~Topology() {
    for (const auto& ns : created_) sh("ip netns del " + ns + " 2>/dev/null");
  }
  std::string ns(const std::string& role) const { return "c2c-" + role + "-" + tag_; }

  bool build(std::string* err) {
    for (const auto* role : {"relay", "a", "b"}) {
      if (!sh("ip netns add " + ns(role), err)) return false;
      created_.push_back(ns(role));
      if (!sh("ip -n " + ns(role) + " link set lo up", err)) return false;
    }
    int subnet = 1;
    for (const auto* role : {"a", "b"}) {
      const std::string r_if = std::string("vr") + role + tag_;
      const std::string m_if = std::string("vm") + role + tag_;
      const std::string net = "10.201." + std::to_string(subnet++) + ".";
      if (!sh("ip link add " + r_if + " netns " + ns("relay") + " type veth peer name " + m_if +
                  " netns " + ns(role),
              err) ||
          !sh("ip -n " + ns("relay") + " addr add " + net + "1/24 dev " + r_if, err) ||
          !sh("ip -n " + ns(role) + " addr add " + net + "2/24 dev " + m_if, err) ||
          !sh("ip -n " + ns("relay") + " link set " + r_if + " up", err) ||
          !sh("ip -n " + ns(role) + " link set " + m_if + " up", err)) {
        return false;
      }
    }
    return true;
  }

 private:
  std::string tag_;
  std::vector<std::string> created_;
};

TEST(ConnectorNetns, TwoMachinesAcrossNetworkNamespaces) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces (ip netns)";
  const std::string ip = ip_path();
  if (ip.empty()) GTEST_SKIP() << "iproute2 ('ip') is not installed";
  Topology topo;
  std::string err;
  if (!topo.build(&err)) GTEST_SKIP() << "cannot build the veth topology here: " << err;

  // The relay listens on every address of its namespace; each machine reaches it through its
  // own link.
  Child relay({ip, "netns", "exec", topo.ns("relay"), c2c_bin(), "relay", "serve", "--listen",
               "0.0.0.0:0", "--token", "ns-token", "--relay-name", "relay-host"});
  const auto line = relay.wait_for_line(
      [](const std::string& l) { return l.rfind("c2c relay serving on ", 0) == 0; }, 20s);
  ASSERT_TRUE(line) << relay.err();
  const std::string port = port_of(*line);

  Machine a{"machine-a"};
  Machine b{"machine-b"};
  a.prefix = {ip, "netns", "exec", topo.ns("a")};
  b.prefix = {ip, "netns", "exec", topo.ns("b")};
  const std::string url_a = "http://10.201.1.1:" + port;
  const std::string url_b = "http://10.201.2.1:" + port;

  // Loopback inside a machine's namespace does not reach the relay: the traffic is on the veth.
  auto r = a.c2c({"relay", "status", "--relay-url", "http://127.0.0.1:" + port});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "relay UNREACHABLE")) << r.err;

  a.add_session("alice", "ses-a");
  b.add_session("bob", "ses-b");
  r = a.connect_once(url_a, "ns-token");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = b.connect_once(url_b, "ns-token");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  ASSERT_EQ(a.c2c({"send", "bob@machine-b", "across namespaces", "--from", "alice"}).exit_code, 0);
  r = a.connect_once(url_a, "ns-token");
  EXPECT_TRUE(contains(r.out, "fwd=1")) << r.out << r.err;
  r = b.connect_once(url_b, "ns-token");
  EXPECT_TRUE(contains(r.out, "inbound=1")) << r.out << r.err;

  const auto polled = b.c2c({"poll-inbox", "--session-id", "ses-b", "--json"});
  ASSERT_EQ(polled.exit_code, 0) << polled.err;
  const auto msgs = nlohmann::json::parse(polled.out);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["content"], "across namespaces");
  EXPECT_EQ(msgs[0]["from_alias"], "alice@machine-a");

  // A room across the namespaces too.
  ASSERT_EQ(a.c2c({"relay", "rooms", "join", "ns-room", "--alias", "alice", "--relay-url", url_a})
                .exit_code,
            0);
  ASSERT_EQ(b.c2c({"relay", "rooms", "join", "ns-room", "--alias", "bob", "--relay-url", url_b})
                .exit_code,
            0);
  ASSERT_EQ(a.c2c({"relay", "rooms", "send", "ns-room", "room hello", "--alias", "alice",
                   "--relay-url", url_a})
                .exit_code,
            0);
  ASSERT_EQ(b.connect_once(url_b, "ns-token").exit_code, 0);
  bool found = false;
  for (const auto& m : b.inbox("ses-b")) found = found || m.content == "room hello";
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace c2c::test::connector
