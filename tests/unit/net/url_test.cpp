#include <gtest/gtest.h>

#include "c2c/net/http_client.hpp"

namespace c2c::net {
namespace {

TEST(ParseUrlTest, HttpWithPortAndPrefix) {
  auto u = parse_url("http://relay.example:7331/c2c/");
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "relay.example");
  EXPECT_EQ(u->port, 7331);
  EXPECT_EQ(u->prefix, "/c2c");
}

TEST(ParseUrlTest, DefaultPortsAndEmptyPrefix) {
  auto h = parse_url("http://127.0.0.1");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->port, 80);
  EXPECT_EQ(h->prefix, "");
  auto s = parse_url("HTTPS://relay.example/");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->scheme, "https");
  EXPECT_EQ(s->port, 443);
  EXPECT_EQ(s->prefix, "");
}

TEST(ParseUrlTest, Ipv6Literal) {
  auto u = parse_url("http://[::1]:8080");
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8080);
  auto d = parse_url("https://[fe80::1]");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->host, "fe80::1");
  EXPECT_EQ(d->port, 443);
}

TEST(ParseUrlTest, RejectsMalformed) {
  for (const char* bad : {"", "relay.example:7331", "ftp://host", "http://", "http://:80",
                          "http://host:", "http://host:0", "http://host:65536", "http://host:12a",
                          "http://[::1", "http://[::1]x", "http://[]:80", "http://user@host",
                          "http://host/path?q=1", "http://ho st"}) {
    auto u = parse_url(bad);
    ASSERT_FALSE(u.has_value()) << bad;
    EXPECT_EQ(u.error().code, ErrorCode::kBadRequest) << bad;
    EXPECT_NE(u.error().message.find("invalid URL"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace c2c::net
