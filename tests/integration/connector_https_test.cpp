// HTTPS relay URLs in every client command (docs/decisions.md D12): a relay terminating TLS with a
// self-signed certificate for 127.0.0.1; clients trust it through C2C_RELAY_CA_BUNDLE or
// `relay setup --ca-bundle`, and refuse it otherwise.
#include <gtest/gtest.h>

#include "connector_util.hpp"

namespace c2c::test::connector {
namespace {

using namespace std::chrono_literals;

class HttpsRelay : public ::testing::Test {
 protected:
  TempDir certs{"c2c-tls"};
  std::unique_ptr<Child> relay;
  std::string url;

  void SetUp() override {
    const auto gen =
        run({"/bin/sh", "-c",
             "command -v openssl >/dev/null && openssl req -x509 -newkey ec "
             "-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "
             "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
                 (certs / "key.pem").string() + " -out " + (certs / "cert.pem").string()});
    if (gen.exit_code != 0)
      GTEST_SKIP() << "cannot make a test certificate with openssl: " << gen.err;
    relay = std::make_unique<Child>(std::vector<std::string>{
        c2c_bin(), "relay", "serve", "--listen", "127.0.0.1:0", "--token", "tls-token",
        "--tls-cert", (certs / "cert.pem").string(), "--tls-key", (certs / "key.pem").string()});
    const auto line = relay->wait_for_line(
        [](const std::string& l) { return l.rfind("c2c relay serving on ", 0) == 0; }, 20s);
    ASSERT_TRUE(line) << relay->err();
    url = line->substr(std::string("c2c relay serving on ").size());
    ASSERT_EQ(url.rfind("https://", 0), 0u) << url;
  }
  std::string bundle() const { return (certs / "cert.pem").string(); }
};

TEST_F(HttpsRelay, UntrustedCertificateIsRefusedWithAHint) {
  Machine m{"machine-a"};
  const auto r = m.c2c({"relay", "status", "--relay-url", url});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "relay UNREACHABLE: " + url)) << r.err;
  EXPECT_TRUE(contains(r.err, "certificate")) << r.err;
  EXPECT_TRUE(contains(r.err, "C2C_RELAY_CA_BUNDLE")) << r.err;
}

TEST_F(HttpsRelay, TwoMachinesOverHttps) {
  Machine a{"machine-a"};
  Machine b{"machine-b"};
  // A trusts the CA through its saved config, B through the environment.
  auto r = a.c2c({"relay", "setup", "--url", url, "--ca-bundle", bundle()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Machine* machines[] = {&a, &b};
  a.add_session("alice", "ses-a");
  b.add_session("bob", "ses-b");
  auto connect = [&](Machine& m) {
    auto args = m.connect_args(url, "tls-token");
    args.push_back("--once");
    auto o = m.options();
    if (&m == &b) o.env["C2C_RELAY_CA_BUNDLE"] = bundle();
    return run(m.argv(args), o);
  };
  for (Machine* m : machines) {
    r = connect(*m);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "registered=1")) << r.out;
  }
  ASSERT_EQ(a.c2c({"send", "bob@machine-b", "over tls", "--from", "alice"}).exit_code, 0);
  r = connect(a);
  EXPECT_TRUE(contains(r.out, "fwd=1")) << r.out << r.err;
  r = connect(b);
  EXPECT_TRUE(contains(r.out, "inbound=1")) << r.out << r.err;
  const auto inbox = b.inbox("ses-b");
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].content, "over tls");

  r = a.c2c({"relay", "status", "--token", "tls-token"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "relay: " + url + "\nstatus: OK\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "peers: 2 alive / 2 total")) << r.out;
}

}  // namespace
}  // namespace c2c::test::connector
