#include "c2c/mcp/transport.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>

namespace c2c::mcp {
namespace {

std::vector<std::string> bodies(const std::vector<Frame>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames) out.push_back(f.oversized ? "<oversized>" : f.body);
  return out;
}

std::vector<std::string> decode_all(std::string_view input, size_t max = 1024) {
  FrameDecoder d(max);
  auto frames = d.feed(input);
  auto tail = d.finish();
  frames.insert(frames.end(), tail.begin(), tail.end());
  return bodies(frames);
}

TEST(FrameDecoder, NewlineDelimitedMessagesSkipBlankLinesAndStripCr) {
  EXPECT_EQ(decode_all("{\"a\":1}\n\n  \r\n{\"b\":2}\r\n"),
            (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
}

TEST(FrameDecoder, MessageSplitAcrossReadsIsReassembled) {
  FrameDecoder d;
  EXPECT_TRUE(d.feed("{\"jsonrpc\":").empty());
  EXPECT_TRUE(d.feed("\"2.0\"").empty());
  EXPECT_EQ(bodies(d.feed("}\n{\"x\"")), (std::vector<std::string>{"{\"jsonrpc\":\"2.0\"}"}));
  EXPECT_EQ(bodies(d.feed(":1}\n")), (std::vector<std::string>{"{\"x\":1}"}));
}

TEST(FrameDecoder, ContentLengthFramingReadsExactlyTheBody) {
  const std::string body = "{\"a\":\"line1\\nline2\"}";
  const std::string input =
      "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body + "{\"next\":1}\n";
  EXPECT_EQ(decode_all(input), (std::vector<std::string>{body, "{\"next\":1}"}));
}

TEST(FrameDecoder, ContentLengthHeaderIsCaseInsensitiveAndOtherHeadersAreSkipped) {
  const std::string body = "{\"id\":7}";
  const std::string input = "content-LENGTH:" + std::to_string(body.size()) +
                            "\r\nContent-Type: application/vscode-jsonrpc\r\n\r\n" + body;
  EXPECT_EQ(decode_all(input), (std::vector<std::string>{body}));
}

TEST(FrameDecoder, ContentLengthBodyArrivingByteByByte) {
  const std::string body = "{\"method\":\"ping\"}";
  const std::string input =
      "Content-Length: " + std::to_string(body.size()) + "\n\n" + body + "\n{\"after\":true}\n";
  FrameDecoder d;
  std::vector<Frame> frames;
  for (char c : input) {
    auto f = d.feed(std::string_view(&c, 1));
    frames.insert(frames.end(), f.begin(), f.end());
  }
  EXPECT_EQ(bodies(frames), (std::vector<std::string>{body, "{\"after\":true}"}));
}

TEST(FrameDecoder, BothFramingsInterleaveInOneStream) {
  const std::string a = "{\"a\":1}";
  const std::string input = "{\"first\":1}\nContent-Length: " + std::to_string(a.size()) +
                            "\r\n\r\n" + a + "\n{\"last\":1}\n";
  EXPECT_EQ(decode_all(input), (std::vector<std::string>{"{\"first\":1}", a, "{\"last\":1}"}));
}

TEST(FrameDecoder, MalformedContentLengthIsPassedOnAsAMessage) {
  // The server answers it with a parse error instead of waiting forever for a body.
  EXPECT_EQ(decode_all("Content-Length: lots\n{\"ok\":1}\n"),
            (std::vector<std::string>{"Content-Length: lots", "{\"ok\":1}"}));
}

TEST(FrameDecoder, ZeroLengthBodyIsAnEmptyMessage) {
  EXPECT_EQ(decode_all("Content-Length: 0\r\n\r\n{\"n\":1}\n"),
            (std::vector<std::string>{"", "{\"n\":1}"}));
}

TEST(FrameDecoder, OversizedLineIsDroppedAndDecodingResumesAfterIt) {
  const std::string big(100, 'x');
  EXPECT_EQ(decode_all(big + "\n{\"ok\":1}\n", 32),
            (std::vector<std::string>{"<oversized>", "{\"ok\":1}"}));
}

TEST(FrameDecoder, OversizedLineSpanningManyReadsIsReportedOnce) {
  FrameDecoder d(16);
  std::vector<Frame> frames;
  for (int i = 0; i < 10; ++i) {
    auto f = d.feed(std::string(10, 'y'));
    frames.insert(frames.end(), f.begin(), f.end());
  }
  auto f = d.feed("\n{\"ok\":1}\n");
  frames.insert(frames.end(), f.begin(), f.end());
  EXPECT_EQ(bodies(frames), (std::vector<std::string>{"<oversized>", "{\"ok\":1}"}));
}

TEST(FrameDecoder, OversizedContentLengthBodyIsSkippedWithoutBuffering) {
  const std::string body(100, 'z');
  EXPECT_EQ(decode_all("Content-Length: 100\r\n\r\n" + body + "\n{\"ok\":1}\n", 32),
            (std::vector<std::string>{"<oversized>", "{\"ok\":1}"}));
}

// Issue 8.25: a header announcing more than the limit used to make the decoder skip that many
// bytes, swallowing every later message; it resynchronises on the next line now.
TEST(FrameDecoder, OverLimitAnnouncedLengthDoesNotSwallowLaterMessages) {
  EXPECT_EQ(decode_all("Content-Length: 999999999\r\n\r\n{\"short\":1}\n{\"ok\":1}\n"
                       "{\"ok\":2}\n",
                       32),
            (std::vector<std::string>{"<oversized>", "{\"ok\":1}", "{\"ok\":2}"}));
}

// Issue 8.25: a frame whose body is longer than its Content-Length: the tail is one bad
// message and the next frame is found again, whether it follows on a new line or directly.
TEST(FrameDecoder, ShortContentLengthResynchronisesOnTheNextFrame) {
  const std::string next = "{\"next\":1}";
  const std::string frame2 = "Content-Length: " + std::to_string(next.size()) + "\r\n\r\n" + next;
  EXPECT_EQ(decode_all("Content-Length: 5\r\n\r\n{\"a\":\"long body\"}" + frame2 + frame2),
            (std::vector<std::string>{"{\"a\":", "\"long body\"}", next, next}));
  EXPECT_EQ(decode_all("Content-Length: 5\r\n\r\n{\"a\":\"long body\"}\n{\"ok\":1}\n"),
            (std::vector<std::string>{"{\"a\":", "\"long body\"}", "{\"ok\":1}"}));
}

TEST(FrameDecoder, FinishDeliversAnUnterminatedLastLineAndDropsAShortBody) {
  EXPECT_EQ(decode_all("{\"a\":1}\n{\"tail\":2}"),
            (std::vector<std::string>{"{\"a\":1}", "{\"tail\":2}"}));
  EXPECT_EQ(decode_all("Content-Length: 50\r\n\r\n{\"short\""), (std::vector<std::string>{}));
}

TEST(LineWriter, WritesOneNewlineTerminatedLinePerCall) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  LineWriter w(fds[1]);
  EXPECT_TRUE(w.write_line("{\"a\":1}"));
  EXPECT_TRUE(w.write_line("{\"b\":2}"));
  ::close(fds[1]);
  std::string got;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  EXPECT_EQ(got, "{\"a\":1}\n{\"b\":2}\n");
}

TEST(LineWriter, ReportsABrokenPipeInsteadOfDying) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  LineWriter w(fds[1]);
  EXPECT_FALSE(w.write_line("{}"));
  EXPECT_FALSE(w.healthy());
  EXPECT_FALSE(w.write_line("{}"));
  ::close(fds[1]);
}

}  // namespace
}  // namespace c2c::mcp
