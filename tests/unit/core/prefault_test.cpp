// prefault_executable() maps the executable's code in one call (docs/performance.md, "Start-up"):
// afterwards every page of the executable's code mapping is resident in this process.
#include "c2c/core/prefault.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace c2c {
namespace {

struct Mapping {
  size_t size_kb = 0;
  size_t rss_kb = 0;
};

// The executable's code mapping (r-xp of /proc/self/exe) as /proc/self/smaps reports it.
Mapping code_mapping() {
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  std::ifstream smaps("/proc/self/smaps");
  Mapping m;
  bool in_code = false;
  std::string line;
  while (std::getline(smaps, line)) {
    std::istringstream fields(line);
    std::string first, perms;
    fields >> first >> perms;
    if (first.find('-') != std::string::npos && perms.size() == 4) {  // a mapping's header line
      in_code = perms == "r-xp" && line.size() >= exe.size() &&
                line.compare(line.size() - exe.size(), exe.size(), exe) == 0;
      continue;
    }
    if (!in_code) continue;
    size_t kb = 0;
    fields.str(line.substr(line.find(':') + 1));
    fields.clear();
    fields >> kb;
    if (first == "Size:") m.size_kb += kb;
    if (first == "Rss:") m.rss_kb += kb;
  }
  return m;
}

TEST(Prefault, MapsTheWholeExecutableCodeAndTheHeapStart) {
  const PrefaultReport report = prefault_executable();
  if (report.read_only_bytes == 0) {
    GTEST_SKIP() << "madvise(MADV_POPULATE_READ) is not supported by this kernel (Linux < 5.14)";
  }
  const Mapping code = code_mapping();
  ASSERT_GT(code.size_kb, 0U) << "no r-xp mapping of /proc/self/exe in /proc/self/smaps";
  EXPECT_EQ(code.rss_kb, code.size_kb) << "the executable's code is not all resident";
  EXPECT_GE(report.read_only_bytes, code.size_kb * 1024);
  EXPECT_GT(report.writable_bytes, 0U) << "neither .bss nor the heap's first pages were mapped";
}

}  // namespace
}  // namespace c2c
