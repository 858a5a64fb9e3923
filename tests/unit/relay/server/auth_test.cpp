// Auth through the router: the worked examples of docs/protocol.md §3.6 verify end to end, the
// route gate (§2), request-header verification (§3.4), body proofs (§3.5) and the docs/decisions.md
// D3 fixes.
#include "support/relay_harness.hpp"

namespace c2c::relay::testing {
namespace {

using server::RateLimitMode;

constexpr const char* kAlicePk = "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg";

HarnessOptions prod() {
  HarnessOptions o;
  o.token = "secret";
  return o;
}

// Registers alice with the register example of docs/protocol.md §3.6 (seed 00..1f, proof at
// 00:05:30Z).
void register_worked_example(Harness& h) {
  Json body = {
      {"node_id", "node-a"},
      {"session_id", "sess-a"},
      {"alias", "alice"},
      {"identity_pk", kAlicePk},
      {"timestamp", "2026-04-21T00:05:30Z"},
      {"nonce", "AAECAwQFBgcICQoLDA0ODw"},
      {"signature",
       "gFzhxgypzebdV6LSBqeuJ1dyQXLKj2gO3XQPzgqopo0FPsBtSF40zutU9rC4NpX67TpeDdH2ybLxYcrg_B4"
       "qBw"}};
  auto r = h.post("/register", body);
  ASSERT_EQ(r.status, 200) << r.raw.body;
  ASSERT_TRUE(r.ok()) << r.raw.body;
  EXPECT_EQ(r.body["lease"]["identity_pk"], kAlicePk);
  ASSERT_TRUE(r.body.contains("receipt"));
  const Json& receipt = r.body["receipt"];
  EXPECT_EQ(receipt["client_identity_pk"], kAlicePk);
  // The receipt verifies under the relay's key.
  auto relay_pk = crypto::b64u_decode_fixed<32>(receipt["relay_identity_pk"].get<std::string>());
  ASSERT_TRUE(relay_pk);
  const std::string blob = crypto::canonical_blob(
      crypto::kCtxRegisterReceipt,
      {"alice", kAlicePk, receipt["relay_identity_pk"].get<std::string>(),
       receipt["ts"].get<std::string>(), receipt["nonce"].get<std::string>()});
  EXPECT_TRUE(crypto::verify_b64u(*relay_pk, blob, receipt["sig"].get<std::string>()));
}

TEST(RelayAuth, WorkedExamplesVerifyThroughTheRouter) {
  Harness h(prod());
  EXPECT_EQ(pk_of(key(0)), kAlicePk);
  register_worked_example(h);
  ASSERT_TRUE(h.register_alias("bob", "node-b", "sess-b", nullptr).ok());

  const std::string send_body = R"({"from_alias":"alice","to_alias":"bob","content":"hi"})";
  auto sent =
      h.call("POST", "/send", send_body,
             {{"Authorization",
               "Ed25519 "
               "alias=alice,ts=1776730000.000000,nonce=EBESExQVFhcYGRobHB0eHw,sig=I_EPxz59ZiJZVcMM7"
               "EznKy5HF9y8rKmWBxCfKN8xDtXQJZluX7T6PwUSJexKoMXoabarxZfi5CwE_A7Tf1w4AQ"}});
  EXPECT_EQ(sent.status, 200) << sent.raw.body;
  EXPECT_TRUE(sent.ok()) << sent.raw.body;

  auto listed =
      h.call("GET", "/list", "",
             {{"Authorization",
               "Ed25519 "
               "alias=alice,ts=1776730000.000000,nonce=ICEiIyQlJicoKSorLC0uLw,sig=TYQT1wCyl3WrFAdUz"
               "rQyJvWVjYB1JWVTeStbxO06WNqIP7UW2xW5rOgw82hxLAzr2AqcvSXpGFuG30TMXk9yAA"}});
  EXPECT_EQ(listed.status, 200) << listed.raw.body;
  EXPECT_EQ(listed.body["peers"].size(), 2u);

  // Room envelope example: bob is a member so the message is recorded.
  ASSERT_TRUE(h.post("/join_room", {{"alias", "bob"}, {"room_id", "swarm-lounge"}}).ok());
  Json envelope = {
      {"ct", "aGVsbG8gcm9vbQ"},
      {"enc", "none"},
      {"sender_pk", kAlicePk},
      {"ts", "2026-04-21T00:05:30Z"},
      {"nonce", "QEFCQ0RFRkdISUpLTE1OTw"},
      {"sig",
       "GYtmvBc5F8fZYlw5w_lIOXdWXZoHrwaKPe-QkzSr_fx-45wP3Y1VfNP84u-lSwYSRz6A4v62JHGUXH4"
       "284roAA"}};
  auto room = h.post("/send_room", {{"from_alias", "alice"},
                                    {"room_id", "swarm-lounge"},
                                    {"content", "hello room"},
                                    {"envelope", envelope}});
  ASSERT_TRUE(room.ok()) << room.raw.body;
  EXPECT_EQ(room.body["delivered"], Json::array({"bob"}));
  auto hist = h.post("/room_history", {{"room_id", "swarm-lounge"}});
  ASSERT_TRUE(hist.ok());
  const Json& last = hist.body["history"].back();
  EXPECT_EQ(last["content"], "hello room");
  EXPECT_EQ(last["envelope"], envelope);
}

TEST(RelayAuth, UnauthRoutesIgnoreCredentials) {
  Harness h(prod());
  for (const char* header : {"Bearer wrong", "Ed25519 alias=x,ts=1,nonce=n,sig=s", "Basic abc"}) {
    EXPECT_EQ(h.call("GET", "/health", "", {{"Authorization", header}}).status, 200) << header;
    EXPECT_EQ(h.call("GET", "/list_rooms", "", {{"Authorization", header}}).status, 200);
    EXPECT_EQ(h.call("GET", "/", "", {{"Authorization", header}}).status, 200);
    EXPECT_EQ(
        h.call("POST", "/room_history", R"({"room_id":"r"})", {{"Authorization", header}}).status,
        200);
  }
}

TEST(RelayAuth, PeerRouteRejectsBearerAndMissingAuthInProd) {
  Harness h(prod());
  auto bearer = h.call("GET", "/list", "", {{"Authorization", "Bearer secret"}});
  EXPECT_EQ(bearer.status, 401);
  EXPECT_EQ(bearer.code(), "unauthorized");
  const std::string text = bearer.body["error"];
  EXPECT_NE(text.find("Ed25519"), std::string::npos);
  EXPECT_NE(text.find("admin-only"), std::string::npos);
  auto none = h.call("GET", "/list");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body["error"], "peer route requires Ed25519 auth");
  // Unknown paths are peer-class: auth runs first.
  EXPECT_EQ(h.call("GET", "/nope").status, 401);
}

TEST(RelayAuth, DevModeAllowsPeerRoutesWithoutOrWithBearer) {
  Harness h;
  EXPECT_EQ(h.call("GET", "/list").status, 200);
  EXPECT_EQ(h.call("GET", "/list", "", {{"Authorization", "Bearer anything"}}).status, 200);
  EXPECT_EQ(h.call("GET", "/dead_letter").status, 200);  // admin allowed in dev
  auto unknown = h.call("GET", "/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.code(), "not_found");
  EXPECT_EQ(unknown.body["error"], "unknown endpoint: /nope");
  // Wrong method on a known path is an unknown endpoint too.
  EXPECT_EQ(h.call("GET", "/send").status, 404);
  // A bad Ed25519 header is refused even in dev mode.
  auto bad =
      h.call("GET", "/list", "", {{"Authorization", "Ed25519 alias=ghost,ts=1,nonce=n,sig=s"}});
  EXPECT_EQ(bad.status, 401);
}

TEST(RelayAuth, AdminRoutesNeedTheExactBearer) {
  Harness h(prod());
  EXPECT_EQ(h.call("POST", "/gc", "", {{"Authorization", "Bearer secret"}}).status, 200);
  EXPECT_EQ(h.call("GET", "/dead_letter", "", {{"Authorization", "Bearer secret"}}).status, 200);
  EXPECT_EQ(h.call("GET", "/list?include_dead=1", "", {{"Authorization", "Bearer secret"}}).status,
            200);
  for (const char* bad : {"Bearer wrong", "Bearer secret ", "bearer secret", "Bearer  secret",
                          "Bearer secre", "Bearersecret"}) {
    auto r = h.call("POST", "/gc", "", {{"Authorization", bad}});
    EXPECT_EQ(r.status, 401) << bad;
    EXPECT_EQ(r.body["error"], "admin route requires Bearer token") << bad;
  }
  EXPECT_EQ(h.call("POST", "/gc").status, 401);
  EXPECT_EQ(h.call("GET", "/list?include_dead=yes").status, 401);
  EXPECT_EQ(h.call("GET", "/metrics").status, 401);
  auto metrics = h.call("GET", "/metrics", "", {{"Authorization", "Bearer secret"}});
  EXPECT_EQ(metrics.status, 200);
}

TEST(RelayAuth, AdminRouteRejectsAVerifiedEd25519Header) {
  Harness h(prod());
  auto k = key(1);
  ASSERT_TRUE(h.register_alias("alice", "n", "s", &k).ok());
  auto r = h.call("POST", "/gc", "", {{"Authorization", h.sign(k, "alice", "POST", "/gc", "")}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.code(), "unauthorized");
  EXPECT_NE(r.body["error"].get<std::string>().find("Bearer"), std::string::npos);
}

TEST(RelayAuth, SelfAuthRoutesPassTheGateWithoutHeaders) {
  Harness h(prod());
  EXPECT_TRUE(h.register_alias("alice", "n", "s").ok());
  EXPECT_TRUE(h.post("/join_room", {{"alias", "alice"}, {"room_id", "r"}}).ok());
  EXPECT_TRUE(
      h.post("/send_room", {{"from_alias", "alice"}, {"room_id", "r"}, {"content", "x"}}).ok());
  EXPECT_TRUE(h.post("/set_room_visibility",
                     {{"alias", "alice"}, {"room_id", "r"}, {"visibility", "public"}})
                  .ok());
  EXPECT_TRUE(h.post("/leave_room", {{"alias", "alice"}, {"room_id", "r"}}).ok());
}

TEST(RelayAuth, HeaderVerificationFailures) {
  Harness h(prod());
  auto k = key(1);
  ASSERT_TRUE(h.register_alias("alice", "n", "s", &k).ok());
  const std::string body = Json{{"from_alias", "alice"}, {"content", "x"}}.dump();
  auto call = [&](const std::string& header) {
    return h.call("POST", "/send_all", body, {{"Authorization", header}});
  };
  // Missing field.
  auto missing = call("Ed25519 alias=alice,ts=1776730000.0,nonce=abc");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.body["error"], "malformed Ed25519 auth: missing sig");
  // Non-finite and non-numeric ts.
  for (const char* ts : {"nan", "inf", "-inf", "soon"}) {
    auto r = call(std::string("Ed25519 alias=alice,ts=") + ts + ",nonce=abc,sig=xyz");
    EXPECT_EQ(r.status, 401) << ts;
    EXPECT_EQ(r.body["error"], "ts must be unix seconds") << ts;
  }
  // No binding for the alias.
  auto ghost = key(9);
  auto unbound = call(h.sign(ghost, "ghost", "POST", "/send_all", body));
  EXPECT_EQ(unbound.status, 401);
  EXPECT_EQ(unbound.body["error"], "alias \"ghost\" has no identity binding");
  // Short signature.
  auto hdr = crypto::parse_ed25519_header(h.sign(k, "alice", "POST", "/send_all", body)).value();
  hdr.sig = crypto::b64u_encode(std::string(63, 'x'));
  auto short_sig = call(crypto::format_ed25519_header(hdr));
  EXPECT_EQ(short_sig.status, 401);
  EXPECT_EQ(short_sig.code(), "signature_invalid");
  // Signed by another key.
  auto wrong_key = call(h.sign(key(2), "alice", "POST", "/send_all", body));
  EXPECT_EQ(wrong_key.status, 401);
  EXPECT_EQ(wrong_key.code(), "signature_invalid");
  // Body tampered after signing.
  auto tampered =
      h.call("POST", "/send_all", Json{{"from_alias", "alice"}, {"content", "y"}}.dump(),
             {{"Authorization", h.sign(k, "alice", "POST", "/send_all", body)}});
  EXPECT_EQ(tampered.code(), "signature_invalid");
}

TEST(RelayAuth, TimeWindowIsPlusFiveMinusThirty) {
  Harness h(prod());
  auto k = key(1);
  ASSERT_TRUE(h.register_alias("alice", "n", "s", &k).ok());
  auto at = [&](double offset) {
    const std::string header =
        crypto::sign_request(k, "alice", "GET", "/list", "", "", h.clock.now() + offset);
    return h.call("GET", "/list", "", {{"Authorization", header}});
  };
  EXPECT_EQ(at(4.5).status, 200);
  EXPECT_EQ(at(-29.5).status, 200);
  auto future = at(5.5);
  EXPECT_EQ(future.status, 401);
  EXPECT_EQ(future.code(), "timestamp_out_of_window");
  EXPECT_EQ(at(-30.5).code(), "timestamp_out_of_window");
}

TEST(RelayAuth, QueryIsSignedInCanonicalOrder) {
  Harness h(prod());
  auto k = key(1);
  ASSERT_TRUE(h.register_alias("alice", "n", "s", &k).ok());
  EXPECT_EQ(crypto::canonical_query("zulu=1&alpha=2"), "alpha=2&zulu=1");
  // The client signs the sorted query; the relay rebuilds it from the raw one it received.
  const std::string header =
      crypto::sign_request(k, "alice", "GET", "/list", "alpha=2&zulu=1", "", h.clock.now());
  EXPECT_EQ(h.call("GET", "/list?zulu=1&alpha=2", "", {{"Authorization", header}}).status, 200);
  // A signature over no query does not cover a request that has one.
  const std::string bare = crypto::sign_request(k, "alice", "GET", "/list", "", "", h.clock.now());
  EXPECT_EQ(h.call("GET", "/list?zulu=1", "", {{"Authorization", bare}}).code(),
            "signature_invalid");
}

TEST(RelayAuth, ReplayedNonceIsRejectedButForgeriesDoNotBurnIt) {
  Harness h(prod());
  auto k = key(1);
  ASSERT_TRUE(h.register_alias("alice", "n", "s", &k).ok());
  const std::string header = h.sign(k, "alice", "GET", "/list", "");
  // A forgery reusing the nonce: fails on the signature, and must not consume the nonce.
  auto forged = crypto::parse_ed25519_header(header).value();
  forged.sig =
      crypto::parse_ed25519_header(h.sign(key(2), "alice", "GET", "/list", "")).value().sig;
  auto f = h.call("GET", "/list", "", {{"Authorization", crypto::format_ed25519_header(forged)}});
  EXPECT_EQ(f.code(), "signature_invalid");
  EXPECT_EQ(h.call("GET", "/list", "", {{"Authorization", header}}).status, 200);
  auto replay = h.call("GET", "/list", "", {{"Authorization", header}});
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(replay.code(), "nonce_replay");
}

TEST(RelayAuth, InboxReadsNeedTheOwnersSignatureInProd) {
  Harness h(prod());
  auto ka = key(1), kb = key(2);
  ASSERT_TRUE(h.register_alias("alice", "na", "sa", &ka).ok());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb", &kb).ok());
  for (const char* path : {"/poll_inbox", "/peek_inbox"}) {
    EXPECT_EQ(h.post(path, session("na", "sa")).status, 401) << path;
    auto other = h.signed_post(kb, "bob", path, session("na", "sa"));
    EXPECT_EQ(other.status, 403) << path;
    EXPECT_EQ(other.code(), "signature_invalid");
    auto owner = h.signed_post(ka, "alice", path, session("na", "sa"));
    EXPECT_EQ(owner.status, 200) << path << owner.raw.body;
  }
}

TEST(RelayAuth, SignerMustMatchSenderAndSessionOwner) {
  Harness h;
  auto ka = key(1), kb = key(2);
  ASSERT_TRUE(h.register_alias("alice", "na", "sa", &ka).ok());
  ASSERT_TRUE(h.register_alias("bob", "nb", "sb", &kb).ok());
  auto spoof = h.signed_post(kb, "bob", "/send",
                             {{"from_alias", "alice"}, {"to_alias", "bob"}, {"content", "x"}});
  EXPECT_EQ(spoof.status, 403);
  EXPECT_EQ(spoof.body["error"],
            "verified signer \"bob\" does not match body from_alias \"alice\"");
  auto hb = h.signed_post(kb, "bob", "/heartbeat", session("na", "sa"));
  EXPECT_EQ(hb.status, 403);
  auto hb_unknown = h.signed_post(kb, "bob", "/heartbeat", session("zz", "zz"));
  EXPECT_EQ(hb_unknown.status, 403);
  EXPECT_TRUE(h.signed_post(ka, "alice", "/heartbeat", session("na", "sa")).ok());
}

TEST(RelayAuth, UnsignedRegisterCannotTakeOverABoundAliasInProd) {
  Harness h(prod());
  auto k = key(1);
  ASSERT_TRUE(h.register_alias("alice", "n", "s", &k).ok());
  h.clock.advance(400);  // lease expired: only the key protects the alias now
  auto takeover = h.register_alias("alice", "evil", "s2");
  EXPECT_FALSE(takeover.ok());
  EXPECT_EQ(takeover.code(), "alias_identity_mismatch");
  EXPECT_EQ(h.store->get_lease("alice")->node_id, "n");
  EXPECT_TRUE(h.register_alias("alice", "n2", "s2", &k).ok());
}

TEST(RelayAuth, DevModeUnsignedReRegisterInheritsTheBinding) {
  Harness h;
  auto k = key(1);
  ASSERT_TRUE(h.register_alias("alice", "n", "s", &k).ok());
  auto r = h.register_alias("alice", "n", "s2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.body["lease"]["identity_pk"], pk_of(k));
}

TEST(RelayAuth, RegisterProofFailures) {
  Harness h;
  auto k = key(1);
  Json partial = h.register_body("alice", "n", "s", &k);
  partial.erase("nonce");
  auto p = h.post("/register", partial);
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(p.code(), "missing_proof_field");

  Json bad_pk = h.register_body("alice", "n", "s", &k);
  bad_pk["identity_pk"] = "!!";
  EXPECT_EQ(h.post("/register", bad_pk).code(), "bad_request");

  Json short_sig = h.register_body("alice", "n", "s", &k);
  short_sig["signature"] = crypto::b64u_encode(std::string(10, 'x'));
  auto ss = h.post("/register", short_sig);
  EXPECT_EQ(ss.status, 400);
  EXPECT_EQ(ss.code(), "signature_invalid");

  Json bad_ts = h.register_body("alice", "n", "s", &k);
  bad_ts["timestamp"] = "yesterday";
  EXPECT_EQ(h.post("/register", bad_ts).body["error"], "timestamp must be RFC3339 UTC");

  Json stamped = h.register_body("alice", "n", "s", &k);  // timestamp = kT0
  h.clock.set(kT0 - 31);                                  // the proof is 31 s in the future
  auto fut = h.post("/register", stamped);
  EXPECT_EQ(fut.status, 400);
  EXPECT_EQ(fut.code(), "timestamp_out_of_window");
  h.clock.set(kT0 + 121);  // 121 s in the past
  EXPECT_EQ(h.post("/register", stamped).code(), "timestamp_out_of_window");
  h.clock.set(kT0 + 119);
  EXPECT_TRUE(h.post("/register", stamped).ok()) << "a failed window check does not burn the nonce";
  h.clock.set(kT0);

  // A proof for another relay's URL, whatever the Host header says (issue 8.5).
  Json other_url = {{"node_id", "n"}, {"session_id", "s"}, {"alias", "alice"}};
  test::add_register_proof(other_url, k, "alice", "http://evil:1", h.clock.now());
  auto wrong_host = h.call("POST", "/register", other_url.dump(), {{"Host", "evil:1"}});
  // The harness adds its own Host after ours; the first Host header wins in lookups.
  EXPECT_EQ(wrong_host.status, 401);
  EXPECT_EQ(wrong_host.code(), "signature_invalid");

  Json good = h.register_body("alice", "n", "s", &k);
  EXPECT_TRUE(h.post("/register", good).ok());
  auto replay = h.post("/register", good);
  EXPECT_EQ(replay.status, 400);
  EXPECT_EQ(replay.code(), "nonce_replay");
}

TEST(RelayAuth, RegisterProofUrlsAreOriginsWithAndWithoutTheDefaultPort) {
  auto urls = server::register_proof_urls({"HTTPS://Relay.Example.com/c2c/"});
  ASSERT_TRUE(urls.has_value());
  EXPECT_EQ(*urls, (std::vector<std::string>{"https://relay.example.com",
                                             "https://relay.example.com:443"}));
  urls = server::register_proof_urls({"http://host:80", "http://[::1]:7331"});
  ASSERT_TRUE(urls.has_value());
  EXPECT_EQ(*urls,
            (std::vector<std::string>{"http://host:80", "http://host", "http://[::1]:7331"}));
  EXPECT_FALSE(server::register_proof_urls({"relay.example.com:7331"}).has_value());
  EXPECT_FALSE(server::register_proof_urls({"ftp://relay"}).has_value());
  EXPECT_FALSE(server::register_proof_urls({"http://"}).has_value());
}

TEST(RelayAuth, DifferentKeyCannotRebindAndBindingStays) {
  Harness h;
  auto k1 = key(1), k2 = key(2);
  EXPECT_FALSE(h.store->get_binding("alice"));
  ASSERT_TRUE(h.register_alias("alice", "n", "s").ok());
  EXPECT_FALSE(h.store->get_binding("alice")) << "unsigned register leaves no binding";
  ASSERT_TRUE(h.register_alias("alice", "n", "s", &k1).ok()) << "legacy-then-signed binds";
  EXPECT_EQ(h.store->get_binding("alice"), pk_of(k1));
  EXPECT_TRUE(h.register_alias("alice", "n", "s", &k1).ok()) << "same key again is fine";
  auto r = h.register_alias("alice", "n", "s", &k2);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.code(), "alias_identity_mismatch");
  EXPECT_EQ(h.store->get_binding("alice"), pk_of(k1));
}

TEST(RelayAuth, AllowlistPinsIdentities) {
  HarnessOptions o;
  auto pinned = key(1);
  o.config.allowlist = {{"alice", pk_of(pinned)}};
  Harness h(o);
  auto other = key(2);
  EXPECT_TRUE(h.register_alias("bob", "n", "s").ok()) << "unlisted aliases are first-come";
  EXPECT_EQ(h.register_alias("alice", "n", "s2").code(), "alias_not_allowed");
  EXPECT_EQ(h.register_alias("alice", "n", "s2", &other).code(), "alias_not_allowed");
  EXPECT_TRUE(h.register_alias("alice", "n", "s2", &pinned).ok());
}

TEST(RelayAuth, UnbindLetsANewKeyClaim) {
  Harness h;
  auto k1 = key(1), k2 = key(2);
  ASSERT_TRUE(h.register_alias("alice", "n", "s", &k1).ok());
  auto unbind = h.post("/admin/unbind", {{"alias", "alice"}});
  ASSERT_TRUE(unbind.ok());
  EXPECT_EQ(unbind.body["removed"], true);
  EXPECT_EQ(h.post("/admin/unbind", {{"alias", "nobody"}}).body["removed"], false);
  EXPECT_TRUE(h.register_alias("alice", "n", "s", &k2).ok());
  EXPECT_EQ(h.store->get_binding("alice"), pk_of(k2));
  EXPECT_EQ(h.post("/admin/unbind", Json::object()).status, 400);
}

TEST(RelayAuth, PubkeyLookup) {
  Harness h;
  auto k = key(1);
  ASSERT_TRUE(h.register_alias("alice", "n", "s", &k).ok());
  auto r = h.call("GET", "/pubkey/alice");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.body["ed25519_pubkey"], pk_of(k));
  auto unknown = h.call("GET", "/pubkey/bob");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body["error"], "unknown alias: bob");
  auto invalid = h.call("GET", "/pubkey/.bad");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(invalid.body["error"], "invalid alias format: .bad");
}

}  // namespace
}  // namespace c2c::relay::testing
