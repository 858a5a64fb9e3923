// The register proof binds node, session and ttl, and names this relay: docs/security.md,
// finding 8.5.
#include "support/relay_harness.hpp"

namespace c2c::relay::testing {
namespace {

TEST(RelayRegisterProof, RegisterProofV2BindsNodeSessionAndTtl) {
  Harness h({.token = "tok"});
  const auto k = key(1);
  Json body = h.register_body("bob", "nb", "sb", &k);
  EXPECT_EQ(body["proof_version"], 2);
  for (const auto& [field, value] : std::vector<std::pair<std::string, Json>>{
           {"session_id", "sx"}, {"node_id", "nx"}, {"ttl", 1}}) {
    Json tampered = body;
    tampered[field] = value;
    auto r = h.post("/register", tampered);
    EXPECT_EQ(r.status, 401) << field << ": " << r.raw.body;
    EXPECT_EQ(r.code(), "signature_invalid") << field;
  }
  auto ok = h.post("/register", body);
  EXPECT_TRUE(ok.ok()) << ok.raw.body;
}

TEST(RelayRegisterProof, ACapturedVersion1ProofCannotMoveALease) {
  Harness h({.token = "tok"});
  const auto kb = key(2);
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb", &kb).ok());
  const auto kc = key(3);
  ASSERT_TRUE(h.register_alias("carol", "nc", "sc", &kc).ok());
  ASSERT_TRUE(h.signed_post(kc, "carol", "/send",
                            {{"from_alias", "carol"}, {"to_alias", "bob"}, {"content", "queued"}})
                  .ok());
  // An old client's proof for bob, captured and never delivered, replayed for another session
  // (which would move bob's queued message there) ...
  auto replay = [&](const std::string& node, const std::string& sess) {
    Json b = {{"alias", "bob"}, {"node_id", node}, {"session_id", sess}};
    test::add_register_proof_v1(b, kb, "bob", kRelayUrl, h.clock.now());
    return h.post("/register", b);
  };
  auto moved = replay("nb", "attacker-session");
  EXPECT_EQ(moved.status, 401) << moved.raw.body;
  EXPECT_EQ(moved.code(), "signature_invalid");
  EXPECT_EQ(moved.body["existing_lease"]["session_id"], "sb");
  // ... or, once bob's lease expired, for another node (a takeover of the alias).
  h.clock.advance(400);
  auto taken = replay("nx", "sx");
  EXPECT_EQ(taken.status, 401) << taken.raw.body;
  EXPECT_EQ(taken.code(), "signature_invalid");
  EXPECT_EQ(h.store->get_lease("bob")->session_id, "sb");
  EXPECT_EQ(h.store->peek({"nb", "sb"}).size(), 1u) << "the queued message did not move";
  // Version 1 still registers a fresh alias, and refreshes its own session without changing
  // what it does not sign (ttl).
  Json fresh = {{"alias", "dave"}, {"node_id", "nd"}, {"session_id", "sd"}};
  test::add_register_proof_v1(fresh, key(4), "dave", kRelayUrl, h.clock.now());
  EXPECT_TRUE(h.post("/register", fresh).ok());
  Json refresh = {{"alias", "bob"}, {"node_id", "nb"}, {"session_id", "sb"}, {"ttl", 1}};
  test::add_register_proof_v1(refresh, kb, "bob", kRelayUrl, h.clock.now());
  auto refreshed = h.post("/register", refresh);
  ASSERT_TRUE(refreshed.ok()) << refreshed.raw.body;
  EXPECT_EQ(refreshed.body["lease"]["ttl"], 300);
}

TEST(RelayRegisterProof, ARegisterProofForAnotherRelayIsRefusedWhateverTheHeadersSay) {
  Harness h({.token = "tok"});
  const auto k = key(1);
  Json body = {{"alias", "bob"}, {"node_id", "nb"}, {"session_id", "sb"}};
  test::add_register_proof(body, k, "bob", "https://relay-x.example", h.clock.now());
  auto r = h.call("POST", "/register", body.dump(),
                  {{"Host", "relay-x.example"}, {"X-Forwarded-Proto", "https"}});
  EXPECT_EQ(r.status, 401) << r.raw.body;
  EXPECT_EQ(r.code(), "signature_invalid");
  EXPECT_FALSE(h.store->get_lease("bob").has_value());
}

TEST(RelayRegisterProof, DefaultPublicUrlsComeFromTheListenAddress) {
  EXPECT_EQ(server::default_public_urls("10.0.0.5", 7331, false, {"10.0.0.5", "192.168.1.2"}, "h"),
            (std::vector<std::string>{"http://10.0.0.5:7331"}));
  EXPECT_EQ(server::default_public_urls("127.0.0.1", 8443, true, {}, "h"),
            (std::vector<std::string>{"https://127.0.0.1:8443", "https://localhost:8443",
                                      "https://[::1]:8443"}));
  EXPECT_EQ(server::default_public_urls("0.0.0.0", 7333, false, {"172.17.0.1", "fd00::5"}, "Box"),
            (std::vector<std::string>{"http://172.17.0.1:7333", "http://[fd00::5]:7333",
                                      "http://box:7333", "http://localhost:7333",
                                      "http://127.0.0.1:7333", "http://[::1]:7333"}));
}

}  // namespace
}  // namespace c2c::relay::testing
