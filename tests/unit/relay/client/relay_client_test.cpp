// RelayClient auth: every peer route signed as the acting alias (checked with crypto's verifier),
// Bearer only on admin routes, body proofs on register and room operations.
#include "c2c/relay/client/relay_client.hpp"

#include <gtest/gtest.h>

#include "c2c/crypto/canonical.hpp"
#include "c2c/crypto/identity.hpp"
#include "c2c/crypto/request_auth.hpp"

namespace c2c::relay {
namespace {

struct Captured {
  std::vector<net::ClientRequest> requests;
  net::Response next{200, "application/json", {}, R"({"ok":true})"};
};

Transport capture(Captured& c) {
  return [&c](const net::ClientRequest& req) -> Result<net::Response> {
    c.requests.push_back(req);
    return c.next;
  };
}

const std::string* header(const net::ClientRequest& r, std::string_view name) {
  for (const auto& h : r.headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

class RelayClientTest : public ::testing::Test {
 protected:
  FakeClock clock{1'776'730'000.0};
  crypto::Identity id = crypto::new_identity("test", clock.now());
  Captured cap;

  RelayClient client(bool with_identity, std::string token = "admin-secret",
                     std::string url = "http://127.0.0.1:7331") {
    RelayClientOptions o;
    o.base_url = std::move(url);
    o.token = std::move(token);
    if (with_identity) o.identity = id;
    o.clock = &clock;
    return RelayClient(std::move(o), capture(cap));
  }

  // Verifies the Ed25519 request header of the last request against our public key.
  void expect_signed_as(const std::string& alias, const std::string& path) {
    ASSERT_FALSE(cap.requests.empty());
    const auto& req = cap.requests.back();
    const std::string* auth = header(req, "Authorization");
    ASSERT_NE(auth, nullptr) << path << " was not signed";
    ASSERT_TRUE(auth->rfind("Ed25519 ", 0) == 0) << *auth;
    auto h = crypto::parse_ed25519_header(*auth);
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(h->alias, alias);
    EXPECT_EQ(h->ts, "1776730000.000000");
    EXPECT_TRUE(
        crypto::verify_request(id.keys.public_key, h.value(), req.method, path, "", req.body))
        << "signature over " << req.method << " " << path << " does not verify";
    // The signature covers the exact body: changing one byte breaks it.
    EXPECT_FALSE(crypto::verify_request(id.keys.public_key, h.value(), req.method, path, "",
                                        req.body + " "));
  }
};

TEST_F(RelayClientTest, PeerRoutesAreSignedAndNeverCarryTheBearerToken) {
  auto c = client(true);
  ASSERT_TRUE(c.heartbeat("node-a", "ses-a", "alice"));
  expect_signed_as("alice", "/heartbeat");
  ASSERT_TRUE(c.send({"m-1", "alice", "bob@node-b", "hello"}));
  expect_signed_as("alice", "/send");
  const auto body = nlohmann::json::parse(cap.requests.back().body);
  EXPECT_EQ(body["message_id"], "m-1");
  EXPECT_EQ(body["to_alias"], "bob@node-b");
  ASSERT_TRUE(c.peek_inbox("node-a", "ses-a", "alice"));
  expect_signed_as("alice", "/peek_inbox");
  ASSERT_TRUE(c.poll_inbox("node-a", "ses-a", "alice", std::vector<std::string>{"m-1", "m-2"}));
  expect_signed_as("alice", "/poll_inbox");
  EXPECT_EQ(nlohmann::json::parse(cap.requests.back().body)["message_ids"],
            nlohmann::json::array({"m-1", "m-2"}));
  ASSERT_TRUE(c.list_peers("alice"));
  expect_signed_as("alice", "/list");
  EXPECT_TRUE(cap.requests.back().body.empty()) << "a signed GET must not send a body";
  for (const auto& r : cap.requests) {
    const std::string* auth = header(r, "Authorization");
    ASSERT_NE(auth, nullptr);
    EXPECT_EQ(auth->find("Bearer"), std::string::npos) << r.target;
  }
}

TEST_F(RelayClientTest, WithoutIdentityPeerRoutesGoUnsignedNotWithBearer) {
  auto c = client(false);
  ASSERT_TRUE(c.heartbeat("n", "s", "alice"));
  ASSERT_TRUE(c.send({"", "alice", "bob", "x"}));
  for (const auto& r : cap.requests) EXPECT_EQ(header(r, "Authorization"), nullptr) << r.target;
}

TEST_F(RelayClientTest, AdminRoutesCarryBearerOnly) {
  auto c = client(true);
  ASSERT_TRUE(c.gc());
  ASSERT_TRUE(c.dead_letter());
  ASSERT_TRUE(c.list_all_peers());
  EXPECT_EQ(cap.requests.back().target, "/list?include_dead=1");
  for (const auto& r : cap.requests) {
    const std::string* auth = header(r, "Authorization");
    ASSERT_NE(auth, nullptr) << r.target;
    EXPECT_EQ(*auth, "Bearer admin-secret");
  }
  // No token: no header at all (a dev-mode relay allows it).
  cap.requests.clear();
  auto anon = client(true, "");
  ASSERT_TRUE(anon.gc());
  EXPECT_EQ(header(cap.requests.back(), "Authorization"), nullptr);
}

TEST_F(RelayClientTest, OpenRoutesCarryNoCredentials) {
  auto c = client(true);
  ASSERT_TRUE(c.health());
  ASSERT_TRUE(c.list_rooms());
  ASSERT_TRUE(c.room_history("lounge", 20));
  for (const auto& r : cap.requests) EXPECT_EQ(header(r, "Authorization"), nullptr) << r.target;
  EXPECT_EQ(nlohmann::json::parse(cap.requests.back().body)["limit"], 20);
}

TEST_F(RelayClientTest, RegisterProofVerifiesAgainstTheRelayOrigin) {
  auto c = client(true, "t", "http://Relay.Example:7331/");
  ASSERT_TRUE(c.register_session({"node-a", "ses-a", "alice", "claude", 300}));
  const auto& req = cap.requests.back();
  EXPECT_EQ(header(req, "Authorization"), nullptr);
  const auto b = nlohmann::json::parse(req.body);
  EXPECT_EQ(b["node_id"], "node-a");
  EXPECT_EQ(b["client_type"], "claude");
  EXPECT_EQ(b["identity_pk"], id.public_key_b64u());
  EXPECT_EQ(b["timestamp"], "2026-04-21T00:06:40Z");
  EXPECT_EQ(b["proof_version"], 2);
  // Version 2 binds node, session and ttl (docs/relay-server.md, "Register proof").
  const std::string blob = crypto::register_blob_v2(
      "alice", "http://relay.example:7331", b["identity_pk"].get<std::string>(),
      b["timestamp"].get<std::string>(), b["nonce"].get<std::string>(), "node-a", "ses-a", 300);
  EXPECT_TRUE(crypto::verify_b64u(id.keys.public_key, blob, b["signature"].get<std::string>()));
  EXPECT_EQ(cap.requests.size(), 1u);
}

TEST_F(RelayClientTest, RegisterFallsBackToAVersion1ProofForAnOlderRelay) {
  auto c = client(true, "t", "http://relay.example:7331");
  // An older relay checks the version-1 bytes and refuses the version-2 signature.
  cap.next = {
      401, "application/json", {}, R"({"ok":false,"error_code":"signature_invalid","error":"no"})"};
  ASSERT_TRUE(c.register_session({"node-a", "ses-a", "alice", "claude", 300}));
  ASSERT_EQ(cap.requests.size(), 2u);
  const auto b = nlohmann::json::parse(cap.requests.back().body);
  EXPECT_FALSE(b.contains("proof_version"));
  const std::string blob = crypto::register_blob_v1(
      "alice", "http://relay.example:7331", b["identity_pk"].get<std::string>(),
      b["timestamp"].get<std::string>(), b["nonce"].get<std::string>());
  EXPECT_TRUE(crypto::verify_b64u(id.keys.public_key, blob, b["signature"].get<std::string>()));
  EXPECT_NE(b["nonce"], nlohmann::json::parse(cap.requests.front().body)["nonce"]);
  // Any other refusal is final.
  cap.requests.clear();
  cap.next = {
      200, "application/json", {}, R"({"ok":false,"error_code":"alias_conflict","error":"held"})"};
  ASSERT_TRUE(c.register_session({"node-a", "ses-a", "alice", "claude", 300}));
  EXPECT_EQ(cap.requests.size(), 1u);
}

TEST_F(RelayClientTest, RoomReadsNamingAMemberAreSignedAsIt) {
  auto c = client(true);
  ASSERT_TRUE(c.room_history("vip", 5, "bob"));
  expect_signed_as("bob", "/room_history");
  EXPECT_EQ(nlohmann::json::parse(cap.requests.back().body)["alias"], "bob");
  ASSERT_TRUE(c.list_rooms("bob"));
  const auto& req = cap.requests.back();
  EXPECT_EQ(req.target, "/list_rooms?alias=bob");
  auto h = crypto::parse_ed25519_header(*header(req, "Authorization"));
  ASSERT_TRUE(h);
  EXPECT_TRUE(
      crypto::verify_request(id.keys.public_key, h.value(), "GET", "/list_rooms", "alias=bob", ""))
      << "the query is signed in its canonical form";
}

TEST_F(RelayClientTest, RoomOperationsCarryVerifiableProofs) {
  auto c = client(true);
  ASSERT_TRUE(c.join_room("lounge", "alice"));
  auto b = nlohmann::json::parse(cap.requests.back().body);
  std::string blob = crypto::canonical_blob(
      crypto::kCtxRoomJoin, {"lounge", "alice", b["identity_pk"].get<std::string>(),
                             b["ts"].get<std::string>(), b["nonce"].get<std::string>()});
  EXPECT_TRUE(crypto::verify_b64u(id.keys.public_key, blob, b["sig"].get<std::string>()));

  ASSERT_TRUE(c.leave_room("lounge", "alice"));
  b = nlohmann::json::parse(cap.requests.back().body);
  blob = crypto::canonical_blob(crypto::kCtxRoomLeave,
                                {"lounge", "alice", b["identity_pk"].get<std::string>(),
                                 b["ts"].get<std::string>(), b["nonce"].get<std::string>()});
  EXPECT_TRUE(crypto::verify_b64u(id.keys.public_key, blob, b["sig"].get<std::string>()));

  ASSERT_TRUE(c.send_room("lounge", "alice", "hello room"));
  b = nlohmann::json::parse(cap.requests.back().body);
  const auto& env = b["envelope"];
  EXPECT_EQ(env["ct"], "aGVsbG8gcm9vbQ");
  EXPECT_EQ(env["enc"], "none");
  blob = crypto::canonical_blob(crypto::kCtxRoomSend,
                                {"lounge", "alice", env["sender_pk"].get<std::string>(), "none",
                                 "cFDxZtxgjp1-Q138024v3ahD5fr-UPeu2VVvuTSD4jw",
                                 env["ts"].get<std::string>(), env["nonce"].get<std::string>()});
  EXPECT_TRUE(crypto::verify_b64u(id.keys.public_key, blob, env["sig"].get<std::string>()));
}

TEST_F(RelayClientTest, UrlPrefixIsPartOfTheSignedPath) {
  auto c = client(true, "", "https://proxy.example/relay");
  ASSERT_TRUE(c.heartbeat("n", "s", "alice"));
  EXPECT_EQ(cap.requests.back().target, "/heartbeat");  // the HttpClient adds the prefix
  expect_signed_as("alice", "/relay/heartbeat");
}

TEST_F(RelayClientTest, RepliesAndFailures) {
  auto c = client(false);
  cap.next = {
      401,
      "application/json",
      {},
      R"j({"ok":false,"error_code":"unauthorized","error":"peer route requires Ed25519 auth"})j"};
  auto r = c.heartbeat("n", "s", "a");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok());
  EXPECT_TRUE(r->auth_refused());
  EXPECT_EQ(r->describe(), "unauthorized: peer route requires Ed25519 auth");

  cap.next = {502, "text/html", {}, "<html>bad gateway</html>"};
  r = c.health();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(r.error().message.find("HTTP 502"), std::string::npos);

  RelayClientOptions o;
  o.base_url = "http://127.0.0.1:1";
  RelayClient down(o, [](const net::ClientRequest&) -> Result<net::Response> {
    return fail(ErrorCode::kUnavailable, "connection refused");
  });
  r = down.health();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("connection refused"), std::string::npos);
}

TEST_F(RelayClientTest, ParseMessagesSkipsMalformedItems) {
  RelayReply r;
  r.body = nlohmann::json::parse(R"({"ok":true,"messages":[
    {"message_id":"m1","from_alias":"a","to_alias":"b","content":"x","ts":1.5},
    {"message_id":"m2","from_alias":"a","content":"room msg","room_id":"lounge","ts":2},
    {"from_alias":"a","content":"no id"},
    {"message_id":"m4","from_alias":"a"},
    "junk"]})");
  size_t skipped = 0;
  const auto msgs = parse_messages(r, &skipped);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(skipped, 3u);
  EXPECT_EQ(msgs[0].message_id, "m1");
  EXPECT_DOUBLE_EQ(msgs[0].ts, 1.5);
  EXPECT_EQ(msgs[1].room_id, "lounge");
}

}  // namespace
}  // namespace c2c::relay
