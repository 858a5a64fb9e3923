#pragma once
// Framing of JSON-RPC messages on stdio, kept apart from dispatch (clangd's Transport split).
//
// Input accepts both framings, message by message (docs/protocol.md §7): a line starting with
// "Content-Length:" (any case) opens a header block that ends at the first blank line and is
// followed by exactly N body bytes; any other non-blank line is one newline-delimited message.
// Resynchronisation (docs/mcp.md "Protocol"): a header announcing more than the size limit is
// answered once and decoding resumes on the next line; when a body was longer than its header
// said, the rest of its line is one more (unparsable) message and a Content-Length header
// found in that rest starts the next frame.
// Output is always one compact JSON value per line, never Content-Length framed.

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace c2c::mcp {

// One decoded input message, or a framing error the server answers without parsing.
struct Frame {
  std::string body;
  bool oversized = false;  // the message exceeded the size limit and was discarded
};

// Incremental decoder: feed it whatever read(2) returned, take the complete frames out.
// Pure (no I/O), so framing is unit-tested and fuzzed without pipes.
class FrameDecoder {
 public:
  // Largest message accepted; longer lines or Content-Length bodies become an oversized frame
  // instead of growing memory without bound.
  static constexpr size_t kDefaultMaxMessage = 16 * 1024 * 1024;

  explicit FrameDecoder(size_t max_message = kDefaultMaxMessage) : max_(max_message) {}

  // Appends bytes and returns every frame they complete, in order.
  std::vector<Frame> feed(std::string_view bytes);
  // Called at end of input: a final line without '\n' is still a message; a partial
  // Content-Length body is dropped (the original c2c ends the session on a short body).
  std::vector<Frame> finish();

 private:
  // kAfterBody: the rest of the line a Content-Length body ended on.
  enum class State { kLine, kAfterBody, kHeaders, kBody, kSkipLine };
  void take_line(std::string_view line, std::vector<Frame>& out);
  void take_after_body(std::string_view line, std::vector<Frame>& out);

  size_t max_;
  State state_ = State::kLine;
  std::string pending_;     // bytes of the current line or body
  size_t body_needed_ = 0;  // kBody: bytes still to read
};

// Writes newline-terminated messages to a file descriptor. One mutex serialises the request
// loop and the push watcher so lines never interleave; each line is written with write(2)
// directly (no stdio buffer to flush).
class LineWriter {
 public:
  explicit LineWriter(int fd) : fd_(fd) {}
  // false once a write failed (the client went away); later writes are dropped.
  bool write_line(std::string_view json);
  bool healthy();

 private:
  int fd_;
  std::mutex mu_;
  bool broken_ = false;
};

}  // namespace c2c::mcp
