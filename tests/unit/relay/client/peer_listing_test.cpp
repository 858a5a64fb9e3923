// relay/client/peer_listing.hpp: the admin listing, else (refused, dead leases not needed) a /list
// signed as one of this machine's aliases; what `relay status`, `relay list` and `c2c health`
// show (docs/relay-client.md).
#include "c2c/relay/client/peer_listing.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "c2c/crypto/identity.hpp"

namespace c2c::relay {
namespace {

// Answers requests from a queue and records their targets and Authorization schemes.
struct Scripted {
  std::deque<net::Response> answers;
  std::vector<std::string> targets;
  std::vector<std::string> auth;  // "Bearer", "Ed25519" or ""
};

Transport scripted(Scripted& s) {
  return [&s](const net::ClientRequest& req) -> Result<net::Response> {
    s.targets.push_back(req.target);
    std::string scheme;
    for (const auto& h : req.headers) {
      if (h.name == "Authorization") scheme = h.value.substr(0, h.value.find(' '));
    }
    s.auth.push_back(scheme);
    if (s.answers.empty()) return fail(ErrorCode::kUnavailable, "no answer scripted");
    net::Response r = s.answers.front();
    s.answers.pop_front();
    return r;
  };
}

net::Response answer(int status, const std::string& body) {
  return net::Response{status, "application/json", {}, body};
}

const std::string kTwoPeers =
    R"({"ok":true,"peers":[{"alias":"a","node_id":"n","session_id":"s1","alive":true},)"
    R"({"alias":"b","node_id":"n","session_id":"s2","alive":false}]})";
const std::string kRefused = R"({"ok":false,"error_code":"unauthorized","error":"Bearer"})";

class PeerListingTest : public ::testing::Test {
 protected:
  FakeClock clock{1'776'730'000.0};
  crypto::Identity id = crypto::new_identity("test", clock.now());
  Scripted relay;
  int signer_calls = 0;

  RelayClient client(Scripted& s, bool with_identity, std::string token = "") {
    RelayClientOptions o;
    o.base_url = "http://127.0.0.1:7331";
    o.token = std::move(token);
    if (with_identity) o.identity = id;
    o.clock = &clock;
    return RelayClient(std::move(o), scripted(s));
  }
  std::function<ListSigner()> signer(std::string alias, std::optional<RelayClient> c = {}) {
    return [this, alias = std::move(alias), c = std::move(c)] {
      ++signer_calls;
      return ListSigner{c, alias};
    };
  }
};

TEST_F(PeerListingTest, TheAdminListingShowsDeadLeasesToo) {
  relay.answers.push_back(answer(200, kTwoPeers));
  auto c = client(relay, false, "admin-token");
  RelayReply refusal;
  auto peers = list_peers_as_allowed(c, true, signer("me"), &refusal);
  ASSERT_TRUE(peers.has_value()) << peers.error().message;
  EXPECT_TRUE(peers->includes_dead);
  EXPECT_EQ(peers->peers.size(), 2u);
  EXPECT_EQ(count_alive(*peers), 1u);
  EXPECT_EQ(signer_calls, 0);
  ASSERT_EQ(relay.targets.size(), 1u);
  EXPECT_EQ(relay.targets[0], "/list?include_dead=1");
  EXPECT_EQ(relay.auth[0], "Bearer");
}

TEST_F(PeerListingTest, ARefusedAdminListingFallsBackToAListSignedAsThisMachinesAlias) {
  relay.answers.push_back(answer(401, kRefused));
  relay.answers.push_back(answer(200, kTwoPeers));
  auto c = client(relay, true);
  RelayReply refusal;
  auto peers = list_peers_as_allowed(c, false, signer("me"), &refusal);
  ASSERT_TRUE(peers.has_value()) << peers.error().message;
  EXPECT_FALSE(peers->includes_dead);
  EXPECT_EQ(count_alive(*peers), 2u);  // a signed /list shows live peers only
  EXPECT_EQ(signer_calls, 1);
  ASSERT_EQ(relay.targets.size(), 2u);
  EXPECT_EQ(relay.targets[1], "/list");
  EXPECT_EQ(relay.auth[1], "Ed25519");
  EXPECT_EQ(refusal.http_status, 0);
}

TEST_F(PeerListingTest, TheSignersOwnClientSignsWhenTheCallersHasNoIdentity) {
  relay.answers.push_back(answer(403, kRefused));
  Scripted signing;
  signing.answers.push_back(answer(200, kTwoPeers));
  auto c = client(relay, false);
  RelayReply refusal;
  auto peers = list_peers_as_allowed(c, false, signer("me", client(signing, true)), &refusal);
  ASSERT_TRUE(peers.has_value()) << peers.error().message;
  EXPECT_EQ(relay.targets.size(), 1u);
  ASSERT_EQ(signing.targets.size(), 1u);
  EXPECT_EQ(signing.auth[0], "Ed25519");
}

TEST_F(PeerListingTest, RefusalsAreUnauthorizedWithTheRefusingReply) {
  // Dead leases wanted: no fallback.
  relay.answers.push_back(answer(401, kRefused));
  auto c = client(relay, true);
  RelayReply refusal;
  auto peers = list_peers_as_allowed(c, true, signer("me"), &refusal);
  ASSERT_FALSE(peers.has_value());
  EXPECT_EQ(peers.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(refusal.http_status, 401);
  EXPECT_EQ(signer_calls, 0);
  // An identity but no alias to sign as: nothing more is sent.
  relay.answers.push_back(answer(401, kRefused));
  peers = list_peers_as_allowed(c, false, signer(""), &refusal);
  ASSERT_FALSE(peers.has_value());
  EXPECT_EQ(peers.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(peers.error().message.find("needs the admin token"), std::string::npos);
  EXPECT_EQ(relay.targets.size(), 2u);
  // The signed /list refused too.
  relay.answers.push_back(answer(401, kRefused));
  relay.answers.push_back(answer(401, R"({"ok":false,"error_code":"unauthorized","error":"x"})"));
  refusal = RelayReply{};
  peers = list_peers_as_allowed(c, false, signer("me"), &refusal);
  ASSERT_FALSE(peers.has_value());
  EXPECT_EQ(peers.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(refusal.http_status, 401);
  EXPECT_EQ(refusal.error_text(), "x");
}

TEST_F(PeerListingTest, AnUnreachableRelayIsItsError) {
  auto c = client(relay, true);  // nothing scripted: kUnavailable
  RelayReply refusal;
  auto peers = list_peers_as_allowed(c, false, signer("me"), &refusal);
  ASSERT_FALSE(peers.has_value());
  EXPECT_EQ(peers.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace c2c::relay
