// TLS end to end with a self-signed certificate made by the openssl CLI for this test.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "c2c/net/http_client.hpp"
#include "net_test_support.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace c2c::net {
namespace {

using namespace test;

// c2c::test::run execs a path, not a name looked up in PATH.
std::string find_openssl() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    std::string dir =
        dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / "openssl";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return "/usr/bin/openssl";
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = (dir_ / "cert.pem").string();
    key_ = (dir_ / "key.pem").string();
    make_cert("subjectAltName=DNS:localhost,IP:127.0.0.1", cert_, key_);
  }
  // A self-signed Ed25519 certificate with the given subjectAltName extension.
  void make_cert(const std::string& san, const std::string& cert, const std::string& key) {
    auto r = c2c::test::run({find_openssl(), "req", "-x509", "-newkey", "ed25519", "-nodes",
                             "-days", "1", "-subj", "/CN=c2c-test", "-addext", san, "-keyout", key,
                             "-out", cert});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ServerOptions tls_options() {
    ServerOptions o = TestServer::default_options();
    o.tls = TlsFiles{cert_, key_};
    return o;
  }
  static void hello(Request req, Responder respond) {
    Response r;
    r.body = req.tls ? "secure" : "plain";
    respond(std::move(r));
  }

  c2c::test::TempDir dir_{"c2c-net-tls"};
  std::string cert_, key_;
};

TEST_F(TlsTest, RoundTripWithTrustedBundle) {
  TestServer server(hello, tls_options());
  ASSERT_TRUE(server.ok()) << server.listen_error();
  ClientOptions co;
  co.ca_bundle = cert_;
  auto client = HttpClient::create(server.url(), co);
  ASSERT_TRUE(client.has_value()) << client.error().message;
  for (int i = 0; i < 3; ++i) {
    auto r = client->request(ClientRequest{});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->body, "secure");
  }
  EXPECT_EQ(server.server().stats().accepted_connections, 1u);  // kept alive over TLS

  // The certificate names localhost too.
  auto by_name = HttpClient::create("https://localhost:" + std::to_string(server.port()), co);
  ASSERT_TRUE(by_name.has_value());
  auto r = by_name->request(ClientRequest{});
  ASSERT_TRUE(r.has_value()) << r.error().message;
}

TEST_F(TlsTest, UntrustedCertificateIsRefused) {
  TestServer server(hello, tls_options());
  ASSERT_TRUE(server.ok()) << server.listen_error();
  auto client = HttpClient::create(server.url());  // system trust store only
  ASSERT_TRUE(client.has_value());
  auto r = client->request(ClientRequest{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos)
      << r.error().message;
}

TEST_F(TlsTest, CertificateForAnotherNameIsRefused) {
  std::string other_cert = (dir_ / "other.pem").string();
  std::string other_key = (dir_ / "other.key").string();
  make_cert("subjectAltName=DNS:relay.example", other_cert, other_key);
  ServerOptions o = TestServer::default_options();
  o.tls = TlsFiles{other_cert, other_key};
  TestServer server(hello, o);
  ASSERT_TRUE(server.ok()) << server.listen_error();
  ClientOptions co;
  co.ca_bundle = other_cert;  // trusted, but issued for relay.example, not 127.0.0.1
  auto client = HttpClient::create(server.url(), co);
  ASSERT_TRUE(client.has_value());
  auto r = client->request(ClientRequest{});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("mismatch"), std::string::npos) << r.error().message;
}

TEST_F(TlsTest, PlainHttpToTlsPortGetsNoResponse) {
  TestServer server(hello, tls_options());
  ASSERT_TRUE(server.ok());
  ClientOptions co;
  co.request_timeout = 2s;
  auto client = HttpClient::create("http://127.0.0.1:" + std::to_string(server.port()), co);
  auto r = client->request(ClientRequest{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST_F(TlsTest, ListenFailsClearlyOnMissingFiles) {
  ServerOptions o = TestServer::default_options();
  o.tls = TlsFiles{(dir_ / "missing.pem").string(), key_};
  HttpServer server(o, hello);
  auto r = server.listen();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("cannot load TLS certificate"), std::string::npos);
  EXPECT_NE(r.error().message.find("missing.pem"), std::string::npos);
  EXPECT_NE(r.error().message.find("no such file"), std::string::npos);

  o.tls = TlsFiles{cert_, cert_};  // a certificate is not a private key
  HttpServer wrong(o, hello);
  auto w = wrong.listen();
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().message.find("private key"), std::string::npos) << w.error().message;
}

}  // namespace
}  // namespace c2c::net
