#pragma once
// Build identity: version from CMake's project(), git hash captured at configure time.

namespace c2c {
inline constexpr const char* kVersion = C2C_VERSION;
inline constexpr const char* kGitHash = C2C_GIT_HASH;
}  // namespace c2c
