// Fuzzes the local broker's file readers with arbitrary file contents: the input is split on the
// line "=====" into registry.json, <session>.inbox.json and remote-outbox.jsonl, written into a
// fresh broker root, then read through the public Broker API (registrations(), peek(),
// read_outbox()) exactly as the CLI, the MCP server and the connector read them.
//
// Oracles: nothing throws; when a reader succeeds, what it returns encodes to JSON that reads
// back identically (registry and inbox: what a rewrite would store); read_outbox loses no line:
// every non-blank line of the outbox is either returned as an entry (and still in the outbox) or
// moved to the dead-letter file.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/broker/codec.hpp"

namespace {

namespace fs = std::filesystem;
namespace codec = c2c::broker::codec;

const fs::path& work_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("c2c-fuzz-broker-" + std::to_string(::getpid()));
    fs::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(work_dir(), ec);
    });
    return d;
  }();
  return dir;
}

void write(const fs::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t nonblank_lines(std::string_view text) {
  size_t n = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) ++n;
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  for (int i = 0; i < 3; ++i) {
    const size_t at = i < 2 ? in.find("\n=====\n") : std::string_view::npos;
    parts[i] = in.substr(0, at);
    in = at == std::string_view::npos ? std::string_view() : in.substr(at + 7);
  }

  const fs::path root = work_dir() / "broker";
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::create_directories(root);
  write(root / "registry.json", parts[0]);
  write(root / "fuzz-session.inbox.json", parts[1]);
  write(root / "remote-outbox.jsonl", parts[2]);

  try {
    c2c::broker::Broker broker(root);

    if (auto regs = broker.registrations()) {
      // Whatever was accepted is what a later register writes back: it must encode to JSON that
      // reads back as the same rows (a stable fixed point), or a rewrite would corrupt the file.
      const std::string text = codec::registry_json(*regs);
      auto back = codec::parse_registry(text);
      if (!back || codec::registry_json(*back) != text) __builtin_trap();
      (void)broker.find_alias("alice");
      (void)broker.find_session("fuzz-session");
    }

    auto peeked = broker.peek("fuzz-session");
    if (peeked) {
      auto again = broker.peek("fuzz-session");
      if (!again || again->size() != peeked->size()) __builtin_trap();  // peek never drains
      std::string text = "[";
      for (size_t i = 0; i < peeked->size(); ++i) {
        if (i) text += ",";
        text += codec::message_json((*peeked)[i]);
      }
      text += "]";
      auto back = codec::parse_inbox(text);
      if (!back || back->size() != peeked->size()) __builtin_trap();
      for (size_t i = 0; i < back->size(); ++i) {
        if (codec::message_json((*back)[i]) != codec::message_json((*peeked)[i])) __builtin_trap();
      }
    }

    const size_t lines_before = nonblank_lines(parts[2]);
    auto entries = broker.read_outbox();
    if (entries) {
      const size_t kept = nonblank_lines(read(root / "remote-outbox.jsonl"));
      const size_t dead = nonblank_lines(read(root / "remote-outbox-dlq.jsonl"));
      // Each line is either a valid entry that stays queued or a dead letter: none vanishes.
      if (entries->size() != kept || kept + dead != lines_before) __builtin_trap();
      auto second = broker.read_outbox();  // a second read finds only valid lines
      if (!second || second->size() != entries->size()) __builtin_trap();
    }
  } catch (...) {
    __builtin_trap();
  }
  return 0;
}
