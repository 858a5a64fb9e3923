// Enforces the module boundaries of ARCHITECTURE.md by reading the sources:
// only net/ includes Boost, only crypto/ includes libsodium, only clients/ includes toml++,
// the relay store knows no JSON,
// the relay service/router include no Boost, and no module includes one above it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace fs = std::filesystem;

namespace {

fs::path source_root() {
  return fs::path(c2c::test::source_dir()) / "src" / "c2c";
}

struct Include {
  fs::path file;
  std::string target;
};

std::vector<Include> includes_under(const fs::path& dir) {
  std::vector<Include> out;
  static const std::regex kInclude(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const auto ext = entry.path().extension();
    if (ext != ".cpp" && ext != ".hpp") continue;
    std::ifstream in(entry.path());
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
      if (std::regex_search(line, m, kInclude)) out.push_back({entry.path(), m[1]});
    }
  }
  return out;
}

// The module a path under src/c2c belongs to ("core", "relay/store", ...).
std::string module_of(const fs::path& root, const fs::path& file) {
  const auto rel = fs::relative(file, root);
  auto it = rel.begin();
  std::string first = it->string();
  if (first == "relay" && ++it != rel.end()) return "relay/" + it->string();
  return first;
}

std::string module_of_include(const std::string& target) {
  if (target.rfind("c2c/", 0) != 0) return "";
  const fs::path p(target.substr(4));
  auto it = p.begin();
  std::string first = it->string();
  if (first == "relay" && ++it != p.end()) return "relay/" + it->string();
  return first;
}

TEST(DependencyRuleTest, ModulesIncludeOnlyWhatTheyMayDependOn) {
  const fs::path root = source_root();
  ASSERT_TRUE(fs::exists(root / "core")) << root;

  // Allowed c2c module dependencies (ARCHITECTURE.md "Dependency rule").
  const std::map<std::string, std::set<std::string>> allowed = {
      {"core", {"core"}},
      {"crypto", {"core", "crypto"}},
      {"net", {"core", "net"}},
      {"broker", {"core", "broker", "crypto"}},
      {"mcp", {"core", "broker", "mcp"}},
      {"clients", {"core", "clients"}},
      {"relay/store", {"core", "relay/store"}},
      {"relay/protocol", {"core", "crypto", "relay/protocol"}},
      {"relay/server", {"core", "crypto", "net", "relay/protocol", "relay/store", "relay/server"}},
      {"relay/client", {"core", "crypto", "net", "relay/protocol", "relay/client"}},
      {"connector", {"core", "crypto", "broker", "relay/protocol", "relay/client", "connector"}},
      {"cli",
       {"core", "crypto", "net", "broker", "mcp", "clients", "relay/protocol", "relay/store",
        "relay/server", "relay/client", "connector", "cli"}},
  };

  int checked = 0;
  for (const auto& inc : includes_under(root)) {
    const std::string mod = module_of(root, inc.file);
    const std::string dep = module_of_include(inc.target);
    ++checked;
    const bool boost = inc.target.rfind("boost/", 0) == 0;
    const bool sodium = inc.target == "sodium.h" || inc.target.rfind("sodium/", 0) == 0;
    const bool json = inc.target.rfind("nlohmann/", 0) == 0;
    EXPECT_FALSE(boost && mod != "net")
        << inc.file << " includes " << inc.target << ": only net/ may include Boost";
    EXPECT_FALSE(sodium && mod != "crypto")
        << inc.file << " includes " << inc.target << ": only crypto/ may include libsodium";
    EXPECT_FALSE(json && mod == "relay/store") << inc.file << ": the relay store knows no JSON";
    // Storage engines live behind the Store interface; CLI11 is the CLI's wiring alone.
    const bool sqlite = inc.target == "sqlite3.h";
    const bool libpq = inc.target == "libpq-fe.h" || inc.target.rfind("postgresql/", 0) == 0;
    const bool cli11 = inc.target.rfind("CLI/", 0) == 0;
    EXPECT_FALSE(sqlite && mod != "relay/store") << inc.file << ": only relay/store uses SQLite";
    EXPECT_FALSE(libpq && mod != "relay/store") << inc.file << ": only relay/store uses libpq";
    EXPECT_FALSE(cli11 && mod != "cli") << inc.file << ": only cli/ includes CLI11";
    const bool toml = inc.target.rfind("toml++/", 0) == 0;
    EXPECT_FALSE(toml && mod != "clients") << inc.file << ": only clients/ may include toml++";
    if (!dep.empty()) {
      const auto it = allowed.find(mod);
      ASSERT_NE(it, allowed.end()) << "unknown module " << mod << " (update this test)";
      EXPECT_TRUE(it->second.count(dep)) << inc.file << " (" << mod << ") includes " << inc.target
                                         << " (" << dep << "): not an allowed dependency";
    }
    // relay/server may use net's plain value types only, never the server or client classes.
    if (mod == "relay/server" && dep == "net") {
      EXPECT_EQ(inc.target, "c2c/net/http_types.hpp") << inc.file << " includes " << inc.target;
    }
  }
  EXPECT_GT(checked, 10);
}

}  // namespace
