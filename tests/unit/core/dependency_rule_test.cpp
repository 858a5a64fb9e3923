// Enforces the module boundaries of ARCHITECTURE.md by reading the sources:
// only net/ includes Boost, only crypto/ includes libsodium, only clients/ includes toml++,
// only cli/ includes CLI11, only the relay store's sqlite_* files include sqlite3.h and only its
// pg_* files libpq, the relay store knows no JSON, the relay service/router include no Boost,
// and no module includes one above it.
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

// The module a path relative to src/c2c belongs to ("core", "relay/store", ...).
std::string module_of(const fs::path& rel) {
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

// The third-party libraries confined to one module (or one engine's files in it). `rel` is the
// path under src/c2c ("relay/store/sqlite_db.hpp"). Returns why the include breaks a rule, or "".
std::string library_rule_violation(const fs::path& rel, const std::string& target) {
  const std::string mod = module_of(rel);
  const std::string name = rel.filename().string();
  const auto starts = [](const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
  };
  if (starts(target, "boost/") && mod != "net") return "only net/ may include Boost";
  if ((target == "sodium.h" || starts(target, "sodium/")) && mod != "crypto") {
    return "only crypto/ may include libsodium";
  }
  if (starts(target, "nlohmann/") && mod == "relay/store") return "the relay store knows no JSON";
  if (starts(target, "toml++/") && mod != "clients") return "only clients/ may include toml++";
  if (starts(target, "CLI/") && mod != "cli") return "only cli/ includes CLI11";
  // Each storage engine stays in its own files behind the Store interface (relay/store/store.hpp):
  // SQLite in sqlite_*, PostgreSQL in pg_*; the rest of the store (memory, batches) uses neither.
  if (target == "sqlite3.h" && !(mod == "relay/store" && starts(name, "sqlite_"))) {
    return "only relay/store/sqlite_* may include sqlite3.h";
  }
  if ((target == "libpq-fe.h" || starts(target, "postgresql/")) &&
      !(mod == "relay/store" && starts(name, "pg_"))) {
    return "only relay/store/pg_* may include libpq";
  }
  return "";
}

// The rule itself, on made-up files: each library is refused one step outside its place.
TEST(DependencyRuleTest, LibraryRulesConfineEachLibrary) {
  struct Case {
    const char* file;
    const char* include;
    bool allowed;
  };
  const Case cases[] = {
      {"relay/store/sqlite_db.hpp", "sqlite3.h", true},
      {"relay/store/sqlite_store.cpp", "sqlite3.h", true},
      {"relay/store/memory_store.cpp", "sqlite3.h", false},
      {"relay/store/pg_store.cpp", "sqlite3.h", false},
      {"relay/server/sqlite_stats.cpp", "sqlite3.h", false},
      {"cli/relay_serve_cmd.cpp", "sqlite3.h", false},
      {"relay/store/pg_conn.cpp", "libpq-fe.h", true},
      {"relay/store/pg_store.hpp", "postgresql/libpq-fe.h", true},
      {"relay/store/sqlite_store.cpp", "libpq-fe.h", false},
      {"relay/store/store.hpp", "libpq-fe.h", false},
      {"relay/server/pg_health.cpp", "libpq-fe.h", false},
      {"cli/cli_common.hpp", "CLI/CLI.hpp", true},
      {"connector/config.cpp", "CLI/CLI.hpp", false},
      {"relay/server/router.cpp", "CLI/App.hpp", false},
      {"net/http_server.cpp", "boost/beast.hpp", true},
      {"relay/server/router.cpp", "boost/asio.hpp", false},
      {"crypto/identity.cpp", "sodium.h", true},
      {"broker/files.cpp", "sodium.h", false},
      {"relay/store/sqlite_store.cpp", "nlohmann/json.hpp", false},
      {"clients/toml_edit.cpp", "toml++/toml.hpp", true},
      {"cli/doctor_cmd.cpp", "toml++/toml.hpp", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(library_rule_violation(c.file, c.include).empty(), c.allowed)
        << c.file << " including " << c.include;
  }
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
    const fs::path rel = fs::relative(inc.file, root);
    const std::string mod = module_of(rel);
    const std::string dep = module_of_include(inc.target);
    ++checked;
    const std::string why = library_rule_violation(rel, inc.target);
    EXPECT_TRUE(why.empty()) << inc.file << " includes " << inc.target << ": " << why;
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
