// The repository explains itself: no comment or document cites a document that is not in the
// repository, and every citation of a repository document points at something that exists
// (the file, a decision `docs/decisions.md Dn`, a section `docs/protocol.md §N`).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.hpp"

namespace fs = std::filesystem;

namespace {

fs::path repo() {
  return fs::path(c2c::test::source_dir());
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every text file a newcomer reads: sources, tests, benchmarks, scripts, build files, docs.
std::vector<fs::path> texts() {
  static const std::set<std::string> kExtensions = {".cpp",   ".hpp",  ".h",   ".in",  ".sh",
                                                    ".cmake", ".txt",  ".md",  ".mjs", ".js",
                                                    ".py",    ".json", ".conf"};
  std::vector<fs::path> out;
  for (const char* top : {"src", "tests", "bench", "scripts", "cmake", "docs", ".ci"}) {
    const fs::path dir = repo() / top;
    if (!fs::exists(dir)) continue;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
         ++it) {
      const auto name = it->path().filename().string();
      if (it->is_directory() && (name == "node_modules" || name == "corpus" ||
                                 name == "regressions" || name.rfind("build", 0) == 0)) {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file()) continue;
      if (kExtensions.count(it->path().extension().string()) || name == "run") {
        out.push_back(it->path());
      }
    }
  }
  for (const char* top : {"README.md", "ARCHITECTURE.md", "CMakeLists.txt"}) {
    out.push_back(repo() / top);
  }
  return out;
}

struct Hit {
  std::string where;
  std::string text;
};

// Every match contains one of `hints`: lines without any skip the (slow) regex.
template <typename F>
std::vector<Hit> scan(std::initializer_list<std::string_view> hints, const std::regex& re,
                      F&& keep) {
  std::vector<Hit> hits;
  for (const auto& file : texts()) {
    if (file.filename() == "doc_citations_test.cpp") continue;  // it names the patterns
    std::istringstream in(read_all(file));
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (std::none_of(hints.begin(), hints.end(),
                       [&](std::string_view h) { return line.find(h) != std::string::npos; })) {
        continue;
      }
      for (std::sregex_iterator m(line.begin(), line.end(), re), end; m != end; ++m) {
        if (keep(*m)) {
          hits.push_back({fs::relative(file, repo()).string() + ":" + std::to_string(n), m->str()});
        }
      }
    }
  }
  return hits;
}

std::string describe(const std::vector<Hit>& hits) {
  std::string s;
  for (const auto& h : hits) s += "  " + h.where + ": " + h.text + "\n";
  return s;
}

TEST(DocCitations, NothingCitesADocumentOutsideTheRepository) {
  // The design notes and research documents the project was started from are not part of the
  // repository: whatever a comment needs from them belongs in docs/.
  static const std::regex kOutside(
      R"(DESIGN(\.md)? ?D[0-9]+|DESIGN\.md|reference §|spec §|[Rr]eference (relay-protocol|broker-mcp|connector-cli)|(relay-protocol|broker-mcp|connector-cli|client-configs|style-anchors)\.md|shared/(seed|reference)|relay-quickstart\.txt)");
  const auto hits = scan({"DESIGN", "§", "eference", ".md", "shared/", ".txt"}, kOutside,
                         [](const std::smatch&) { return true; });
  EXPECT_TRUE(hits.empty()) << "citations of documents outside the repository:\n" << describe(hits);
}

TEST(DocCitations, CitedRepositoryDocumentsExist) {
  static const std::regex kDocPath(R"(docs/[A-Za-z0-9_./-]+\.md)");
  const auto missing =
      scan({"docs/"}, kDocPath, [](const std::smatch& m) { return !fs::exists(repo() / m.str()); });
  EXPECT_TRUE(missing.empty()) << "citations of docs that do not exist:\n" << describe(missing);
}

TEST(DocCitations, CitedDecisionsAndSectionsExist) {
  const std::string decisions = read_all(repo() / "docs" / "decisions.md");
  const std::string protocol = read_all(repo() / "docs" / "protocol.md");
  ASSERT_FALSE(decisions.empty());
  ASSERT_FALSE(protocol.empty());
  // "decisions.md D3", "decisions.md D9/D10", "decisions.md D1, D7, D10"
  static const std::regex kDecision(R"(decisions\.md,? (D[0-9]+(?:(?:/|, | and |-)D[0-9]+)*))");
  const auto bad_decisions = scan({"decisions.md"}, kDecision, [&](const std::smatch& m) {
    static const std::regex kOne(R"(D[0-9]+)");
    const std::string list = m[1].str();
    for (std::sregex_iterator d(list.begin(), list.end(), kOne), end; d != end; ++d) {
      if (decisions.find("| " + d->str() + " |") == std::string::npos) return true;
    }
    return false;
  });
  EXPECT_TRUE(bad_decisions.empty()) << "decisions cited but not in docs/decisions.md:\n"
                                     << describe(bad_decisions);
  static const std::regex kSection(R"(protocol\.md (§[0-9]+(\.[0-9]+)?))");
  const auto bad_sections = scan({"protocol.md"}, kSection, [&](const std::smatch& m) {
    return protocol.find("## " + m[1].str() + " ") == std::string::npos &&
           protocol.find("### " + m[1].str() + " ") == std::string::npos;
  });
  EXPECT_TRUE(bad_sections.empty()) << "sections cited but not in docs/protocol.md:\n"
                                    << describe(bad_sections);
}

}  // namespace
