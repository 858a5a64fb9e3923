// docs/mcp.md documents exactly the tools the server lists (one "### `name`" section each).
#include <fstream>
#include <sstream>

#include "mcp_fixture.hpp"
#include "support/process.hpp"

namespace c2c::mcp::test {
namespace {

TEST(McpDocs, ToolReferenceMatchesToolsList) {
  std::ifstream in(c2c::test::source_dir() + "/docs/mcp.md");
  ASSERT_TRUE(in) << "docs/mcp.md missing";
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::string> documented;
  std::string line;
  while (std::getline(ss, line)) {
    if (line.rfind("### `", 0) != 0) continue;
    const auto end = line.find('`', 5);
    if (end != std::string::npos) documented.push_back(line.substr(5, end - 5));
  }
  std::vector<std::string> listed;
  for (const auto& t : default_tools().tools()) listed.push_back(t.name);
  EXPECT_EQ(documented, listed);
}

}  // namespace
}  // namespace c2c::mcp::test
