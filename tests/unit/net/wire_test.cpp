#include "c2c/net/detail/wire.hpp"

#include <gtest/gtest.h>

namespace c2c::net::detail {
namespace {

TEST(WireTest, HeadHasFramingServerAndExtraHeaders) {
  Response r;
  r.status = 429;
  r.headers.push_back({"Retry-After", "3"});
  r.body = "{}";
  std::string head = serialize_head(r, HeadOptions{11, true, true});
  EXPECT_EQ(head,
            "HTTP/1.1 429 Too Many Requests\r\nServer: c2c\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\nRetry-After: 3\r\n\r\n");
}

TEST(WireTest, ConnectionHeaderFollowsVersionAndKeepAlive) {
  Response r;
  EXPECT_NE(serialize_head(r, HeadOptions{11, false, true}).find("Connection: close\r\n"),
            std::string::npos);
  EXPECT_EQ(serialize_head(r, HeadOptions{11, true, true}).find("Connection:"), std::string::npos);
  std::string v10 = serialize_head(r, HeadOptions{10, true, true});
  EXPECT_EQ(v10.rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
  EXPECT_NE(v10.find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(WireTest, HeaderInjectionIsNeutralised) {
  Response r;
  r.headers.push_back({"X-Evil", "a\r\nSet-Cookie: x=1"});
  r.headers.push_back({"Content-Length", "999"});  // the server owns framing
  std::string head = serialize_head(r, HeadOptions{});
  EXPECT_NE(head.find("X-Evil: aSet-Cookie: x=1\r\n"), std::string::npos);
  EXPECT_EQ(head.find("\r\nSet-Cookie"), std::string::npos);
  EXPECT_EQ(head.find("999"), std::string::npos);
}

TEST(WireTest, ErrorBodyIsEscapedJson) {
  Response r = error_response(413, "payload_too_large", "body \"x\" exceeds\n 10 bytes");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(
      r.body,
      R"({"ok":false,"error_code":"payload_too_large","error":"body \"x\" exceeds\n 10 bytes"})");
}

TEST(WireTest, HeaderLookupIsCaseInsensitive) {
  Request req;
  req.headers.push_back({"Content-Type", "application/json"});
  ASSERT_NE(req.header("content-type"), nullptr);
  EXPECT_EQ(*req.header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(req.header("Content-Length"), nullptr);
}

}  // namespace
}  // namespace c2c::net::detail
