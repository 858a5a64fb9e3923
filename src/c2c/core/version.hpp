#pragma once
// Build identity: the version from CMake's project() and the git hash captured at configure
// time, defined in a generated source file (build_info.cpp.in).

namespace c2c {
extern const char* const kVersion;
extern const char* const kGitHash;
}  // namespace c2c
