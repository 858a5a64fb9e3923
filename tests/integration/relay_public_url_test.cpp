// Register proofs against a real relay process (issue 8.5): the relay_url a proof names is checked
// against --public-url (or the URLs derived from --listen), never against request headers.
#include "relay_http.hpp"

namespace c2c::relay::itest {
namespace {

Json signed_for(const std::string& origin, const std::string& alias, const crypto::KeyPair& k) {
  Json b = {{"node_id", "node-" + alias}, {"session_id", "s-" + alias}, {"alias", alias}};
  test::add_register_proof(b, k, alias, origin, now());
  return b;
}

TEST(RelayPublicUrl, PublicUrlDecidesWhichRegisterProofsVerify) {
  auto relay = test::start_relay({"--token", "tok", "--public-url", "http://Relay.Example:8080",
                                  "--public-url", "https://relay.example"},
                                 relay_env());
  Http http(relay.url);
  // Signed for the address the client really connected to, which is not a public URL.
  auto local = http.post("/register", signed_for(relay.url, "alice", key(1)));
  EXPECT_EQ(local.status, 401) << local.raw;
  EXPECT_EQ(local.code(), "signature_invalid");
  EXPECT_NE(local.body.value("error", "").find("http://relay.example:8080"), std::string::npos)
      << local.raw;
  // Signed for a public URL: accepted whatever Host says (the proxy's view of the request).
  EXPECT_TRUE(
      http.post("/register", signed_for("http://relay.example:8080", "alice", key(1))).ok());
  EXPECT_TRUE(http.post("/register", signed_for("https://relay.example:443", "bob", key(2))).ok());
  EXPECT_NE(relay.child->err().find("public-url=http://Relay.Example:8080 https://relay.example"),
            std::string::npos)
      << relay.child->err();
  EXPECT_EQ(stop_relay(relay), 0);
}

TEST(RelayPublicUrl, WithoutPublicUrlTheListenAddressDecidesNotTheHostHeader) {
  auto relay = test::start_relay({"--token", "tok"}, relay_env());
  Http http(relay.url);
  EXPECT_TRUE(http.post("/register", signed_for(relay.url, "alice", key(1))).ok());
  // A proof made for another relay (an https one at this host and port), replayed here with a
  // forged scheme header: the scheme is this relay's, not the header's.
  const std::string https_twin = "https://" + relay.url.substr(relay.url.find("://") + 3);
  auto forged = http.post("/register", signed_for(https_twin, "bob", key(2)),
                          {{"X-Forwarded-Proto", "https"}});
  EXPECT_EQ(forged.status, 401) << forged.raw;
  EXPECT_EQ(forged.code(), "signature_invalid");
  EXPECT_EQ(stop_relay(relay), 0);
}

TEST(RelayPublicUrl, ABadPublicUrlIsAUsageError) {
  auto env = relay_env();
  env.timeout = std::chrono::seconds(20);
  auto r = test::run_c2c(
      {"relay", "serve", "--listen", "127.0.0.1:0", "--public-url", "relay.example.com:7331"}, env);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--public-url"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("serving on"), std::string::npos);
}

}  // namespace
}  // namespace c2c::relay::itest
