#pragma once
// The worked example of docs/protocol.md §3.6 (seed = bytes 0x00..0x1f), shared by the
// crypto unit tests. Values are copied from the spec, computed independently of c2c.

#include <string>
#include <string_view>

#include "c2c/crypto/crypto.hpp"

namespace c2c::crypto::test {

inline Seed example_seed() {
  Seed s{};
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(i);
  return s;
}

inline constexpr std::string_view kExamplePk = "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg";
inline constexpr std::string_view kExampleFingerprint =
    "SHA256:Vkdap1RjR0wChd9dvyvKtz2mUTWIOem3dIGy6rEHcIw";

// Replaces the spec's visible "␟" with the real unit separator 0x1F.
inline std::string us(std::string_view shown) {
  static constexpr std::string_view kShown = "\xe2\x90\x9f";  // U+241F in UTF-8
  std::string out;
  for (size_t i = 0; i < shown.size();) {
    if (shown.substr(i, kShown.size()) == kShown) {
      out.push_back('\x1f');
      i += kShown.size();
    } else {
      out.push_back(shown[i++]);
    }
  }
  return out;
}

}  // namespace c2c::crypto::test
