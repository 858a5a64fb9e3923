#include "c2c/mcp/transport.hpp"

#include <charconv>

#include "c2c/core/fd_io.hpp"
#include "c2c/core/text.hpp"

namespace c2c::mcp {

namespace {

constexpr std::string_view kContentLength = "content-length:";

std::string_view strip_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool is_content_length_line(std::string_view line) {
  return line.size() >= kContentLength.size() &&
         iequals(line.substr(0, kContentLength.size()), kContentLength);
}

// Where a Content-Length header starts inside a line, if anywhere.
size_t find_content_length(std::string_view line) {
  for (size_t i = 0; i + kContentLength.size() <= line.size(); ++i) {
    if (iequals(line.substr(i, kContentLength.size()), kContentLength)) return i;
  }
  return std::string_view::npos;
}

}  // namespace

void FrameDecoder::take_line(std::string_view line, std::vector<Frame>& out) {
  line = strip_cr(line);
  if (trim(line).empty()) return;  // blank lines between messages are allowed
  if (is_content_length_line(line)) {
    const std::string_view digits = trim(line.substr(kContentLength.size()));
    size_t n = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec == std::errc() && ptr == digits.data() + digits.size()) {
      body_needed_ = n;
      state_ = State::kHeaders;
      return;
    }
    // A malformed header is passed on as a message: the server answers it with a parse error.
  }
  out.push_back(Frame{std::string(line), false});
}

void FrameDecoder::take_after_body(std::string_view line, std::vector<Frame>& out) {
  // The rest of the line a Content-Length body ended on. Clients that send frames back to
  // back put the next header right here; a body longer than its announced length leaves its
  // tail here, possibly followed by the next header. The tail becomes its own (unparsable)
  // message and decoding resumes at the header, so one wrong length costs one frame, not the
  // rest of the stream.
  const std::string_view stripped = strip_cr(line);
  if (!is_content_length_line(stripped)) {
    const size_t at = find_content_length(stripped);
    if (at != std::string_view::npos && at > 0) {
      out.push_back(Frame{std::string(stripped.substr(0, at)), false});
      take_line(stripped.substr(at), out);
      return;
    }
  }
  take_line(line, out);
}

std::vector<Frame> FrameDecoder::feed(std::string_view bytes) {
  std::vector<Frame> out;
  while (!bytes.empty()) {
    switch (state_) {
      case State::kLine:
      case State::kAfterBody:
      case State::kHeaders:
      case State::kSkipLine: {
        const size_t nl = bytes.find('\n');
        const std::string_view chunk = bytes.substr(0, nl);
        bytes = nl == std::string_view::npos ? std::string_view{} : bytes.substr(nl + 1);
        if (state_ == State::kSkipLine) {
          if (nl != std::string_view::npos) state_ = State::kLine;
          break;
        }
        if (pending_.size() + chunk.size() > max_) {
          // Hostile or broken input: drop this line instead of buffering it.
          pending_.clear();
          out.push_back(Frame{{}, true});
          state_ = nl == std::string_view::npos ? State::kSkipLine : State::kLine;
          break;
        }
        pending_.append(chunk);
        if (nl == std::string_view::npos) break;  // need more bytes for this line
        std::string line = std::move(pending_);
        pending_.clear();
        if (state_ == State::kLine) {
          take_line(line, out);
        } else if (state_ == State::kAfterBody) {
          state_ = State::kLine;
          take_after_body(line, out);
        } else if (trim(strip_cr(line)).empty()) {
          // End of the header block: the body follows.
          if (body_needed_ > max_) {
            // Skipping the announced length would swallow every message sent after a lying
            // header: answer it once and resynchronise on the next line instead.
            out.push_back(Frame{{}, true});
            state_ = State::kSkipLine;
          } else if (body_needed_ == 0) {
            out.push_back(Frame{{}, false});
            state_ = State::kAfterBody;
          } else {
            state_ = State::kBody;
          }
        }
        // Other header lines (Content-Type, ...) are skipped.
        break;
      }
      case State::kBody: {
        const size_t take = std::min(body_needed_, bytes.size());
        pending_.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
        body_needed_ -= take;
        if (body_needed_ == 0) {
          out.push_back(Frame{std::move(pending_), false});
          pending_.clear();
          state_ = State::kAfterBody;
        }
        break;
      }
    }
  }
  return out;
}

std::vector<Frame> FrameDecoder::finish() {
  std::vector<Frame> out;
  if ((state_ == State::kLine || state_ == State::kAfterBody) && !pending_.empty()) {
    std::string line = std::move(pending_);
    if (state_ == State::kLine) {
      take_line(line, out);
    } else {
      take_after_body(line, out);
    }
  }
  pending_.clear();
  state_ = State::kLine;
  body_needed_ = 0;
  return out;
}

bool LineWriter::write_line(std::string_view json) {
  std::lock_guard lock(mu_);
  if (broken_) return false;
  std::string line;
  line.reserve(json.size() + 1);
  line.append(json);
  line.push_back('\n');
  if (!write_fully(fd_, line)) broken_ = true;
  return !broken_;
}

bool LineWriter::healthy() {
  std::lock_guard lock(mu_);
  return !broken_;
}

}  // namespace c2c::mcp
