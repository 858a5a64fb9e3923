#pragma once
// Limits shared by the local broker and the relay, so a message the broker accepts is one the
// relay accepts too (docs/cli.md "Limits").

#include <cstddef>

namespace c2c {

// Largest message body, in bytes, a send accepts (CLI, MCP, connector, relay default).
inline constexpr size_t kMaxContentBytes = 256 * 1024;

}  // namespace c2c
