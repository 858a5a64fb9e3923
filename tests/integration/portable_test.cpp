// The release binary is portable: it needs nothing beyond glibc at run time. The test builds a
// root holding only the files of Debian's libc6 package (copied from this host), puts the
// release c2c in it and, inside that root (chroot; `unshare -r chroot` when not root), runs
// `c2c --version` and the quickstart's Docker recipe: `c2c relay connect --once` against a
// relay on 127.0.0.1 delivers a message into that root's broker.
// PortableBinary.DockerRecipeInDebianStableSlim runs the same recipe in debian:stable-slim
// where a docker daemon and that image are present.
//
// The release binary: $C2C_RELEASE_BIN, else <source>/build-release/src/c2c/cli/c2c (made by
// scripts/build-release.sh, scripts/run-relay.sh, or `C2C_TEST_PORTABLE=1 scripts/test.sh`).
// Without it, or without the privileges for chroot, the test is skipped and says why.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include "c2c/core/text.hpp"
#include "connector_util.hpp"

namespace c2c::test::connector {
namespace {

namespace fs = std::filesystem;

std::string release_bin() {
  if (const char* env = std::getenv("C2C_RELEASE_BIN"); env && *env) return env;
  return (fs::path(source_dir()) / "build-release" / "src" / "c2c" / "cli" / "c2c").string();
}

// The shared libraries ldd lists ("libc.so.6", "ld-linux-x86-64.so.2", ...).
std::vector<std::string> needed_libraries(const std::string& bin) {
  const auto r = run({"/usr/bin/ldd", bin});
  std::vector<std::string> libs;
  const std::regex lib(R"(^\s*(\S+))");
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, lib)) libs.push_back(fs::path(m[1].str()).filename());
  }
  return libs;
}

bool is_glibc_library(const std::string& name) {
  for (const char* g : {"linux-vdso.so.1", "libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2",
                        "libpthread.so.0", "libdl.so.2", "librt.so.1"}) {
    if (name == g) return true;
  }
  return false;
}

// Steps 1-7 of the quickstart's Docker recipe: a relay on 127.0.0.1, a host machine, and the
// "docker" machine whose c2c runs through `inside` with its broker root at /broker-docker
// (`broker_dir` on this side): a message from the host arrives in that broker.
void docker_recipe(const std::function<RunResult(std::vector<std::string>)>& inside,
                   const fs::path& broker_dir) {
  write_file(
      broker_dir / "registry.json",
      R"([{"session_id":"ses-docker","alias":"relay-test-docker","pid":1,"pid_start_time":1}])");
  const std::string token = "dev-token-docker";
  auto relay = start_relay({"--token", token});
  ASSERT_FALSE(relay.url.empty());
  Machine host("host-machine");
  write_file(host.broker_root() / "registry.json",
             R"([{"session_id":"ses-host","alias":"relay-test-host","pid":1,"pid_start_time":1}])");
  const std::vector<std::string> docker_connect = {
      "relay",   "connect", "--broker-root", "/broker-docker", "--relay-url", relay.url,
      "--token", token,     "--node-id",     "docker-machine", "--once"};
  auto h1 = host.connect_once(relay.url, token);
  ASSERT_EQ(h1.exit_code, 0) << h1.out << h1.err;
  auto d1 = inside(docker_connect);
  ASSERT_EQ(d1.exit_code, 0) << d1.out << d1.err;
  EXPECT_TRUE(contains(d1.out, "registered=1")) << d1.out;
  auto sent = host.c2c(
      {"send", "relay-test-docker@host-machine", "hello from host", "--from", "relay-test-host"});
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  auto h2 = host.connect_once(relay.url, token);
  ASSERT_EQ(h2.exit_code, 0) << h2.out << h2.err;
  auto d2 = inside(docker_connect);
  ASSERT_EQ(d2.exit_code, 0) << d2.out << d2.err;

  broker::Broker docker_broker(broker_dir);
  auto inbox = docker_broker.peek("ses-docker");
  ASSERT_TRUE(inbox.has_value()) << inbox.error().message;
  ASSERT_EQ(inbox->size(), 1u);
  EXPECT_EQ(inbox->front().content, "hello from host");
  // Remote senders arrive as alias@node, so a reply routes back (docs/relay-client.md).
  EXPECT_EQ(inbox->front().from_alias, "relay-test-host@host-machine");
}

class PortableBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = release_bin();
    if (!fs::exists(bin_)) {
      GTEST_SKIP() << "SKIPPED: no release binary at " << bin_
                   << " (build it with scripts/build-release.sh, or set C2C_RELEASE_BIN)";
    }
  }
  std::string bin_;
};

TEST_F(PortableBinary, LinksOnlyGlibcDynamically) {
  const auto libs = needed_libraries(bin_);
  ASSERT_FALSE(libs.empty());
  for (const auto& l : libs) EXPECT_TRUE(is_glibc_library(l)) << "not glibc: " << l;
}

// libm is opened only when one of its functions is called (src/c2c/cli/portable/lazy_libm.cpp):
// the loader maps libc alone at start-up (docs/performance.md, "Start-up").
TEST_F(PortableBinary, LoadsNoLibmAtStart) {
  const auto libs = needed_libraries(bin_);
  ASSERT_FALSE(libs.empty());
  EXPECT_EQ(std::count(libs.begin(), libs.end(), "libm.so.6"), 0) << "ldd lists libm.so.6";
  ProcessOptions traced;
  traced.env["LD_DEBUG"] = "files";  // the loader names every object it maps, on stderr
  const auto version = run({bin_, "--version"}, traced);
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_FALSE(contains(version.err, "libm.so")) << version.err;
}

// Linked at a fixed address (-no-pie): the loader applies no relative relocations at start-up
// (docs/performance.md, "Start-up").
TEST_F(PortableBinary, IsNotPositionIndependent) {
  std::ifstream in(bin_, std::ios::binary);
  unsigned char header[18] = {};
  ASSERT_TRUE(in.read(reinterpret_cast<char*>(header), sizeof header));
  ASSERT_EQ(std::string(reinterpret_cast<char*>(header) + 1, 3), "ELF");
  const int e_type = header[16] | (header[17] << 8);  // little-endian x86-64
  EXPECT_EQ(e_type, 2) << "ET_EXEC expected; 3 (ET_DYN) is a PIE";
}

TEST_F(PortableBinary, RunsInARootHoldingOnlyGlibcAndReceivesThroughTheRelay) {
  TempDir dir("c2c-portable");
  const fs::path root = dir / "root";
  // Only libc6's files (the loader, libc, libm, NSS modules, gconv, ld.so.conf).
  const auto copy = run({"/bin/sh", "-c",
                         "set -e; dpkg -L libc6 | while IFS= read -r p; do "
                         "if [ -d \"$p\" ]; then continue; fi; "  // merged /usr: /lib is a link
                         "if [ -L \"$p\" ] || [ -f \"$p\" ]; then "
                         "mkdir -p \"$0$(dirname \"$p\")\"; cp -P \"$p\" \"$0$p\"; fi; done",
                         root.string()});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  fs::copy_file(bin_, root / "c2c");
  fs::create_directories(root / "home");
  fs::create_directories(root / "broker-docker");

  // chroot as root; otherwise inside a user namespace where we are root.
  // Absolute paths: the child's PATH is the root's ("/").
  const std::string chroot =
      fs::exists("/usr/sbin/chroot") ? "/usr/sbin/chroot" : "/usr/bin/chroot";
  std::vector<std::string> enter = {chroot, root.string()};
  if (::geteuid() != 0) enter = {"/usr/bin/unshare", "-r", chroot, root.string()};
  ProcessOptions in_root;
  in_root.clean_env = true;
  in_root.env["HOME"] = "/home";
  in_root.env["PATH"] = "/";
  auto inside = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = enter;
    argv.push_back("/c2c");
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, in_root);
  };
  const auto version = inside({"--version"});
  if (version.exit_code != 0 &&
      (contains(version.err, "Operation not permitted") ||
       contains(version.err, "cannot change root") || contains(version.err, "unshare failed"))) {
    GTEST_SKIP() << "SKIPPED: no privileges to enter the glibc-only root (" << version.err << ")";
  }
  ASSERT_EQ(version.exit_code, 0) << version.out << version.err;
  EXPECT_TRUE(contains(version.out, "c2c ")) << version.out;

  // The Docker recipe, steps 1-7, with the root in place of the container.
  docker_recipe(inside, root / "broker-docker");
}

// The quickstart's Docker recipe itself: the release binary mounted into debian:stable-slim.
// Skipped, saying why, without the docker CLI, a reachable daemon, or the image (the test pulls
// nothing: `docker pull debian:stable-slim` first).
TEST_F(PortableBinary, DockerRecipeInDebianStableSlim) {
  const auto which = run({"/bin/sh", "-c", "command -v docker"});
  if (which.exit_code != 0) GTEST_SKIP() << "SKIPPED: no docker CLI on PATH";
  const std::string docker(trim(which.out));
  const auto info = run({docker, "info", "--format", "{{.ServerVersion}}"});
  if (info.exit_code != 0) {
    GTEST_SKIP() << "SKIPPED: the docker daemon is not reachable: " << std::string(trim(info.err));
  }
  const std::string image = "debian:stable-slim";
  if (run({docker, "image", "inspect", image}).exit_code != 0) {
    GTEST_SKIP() << "SKIPPED: image " << image << " not present (docker pull " << image << ")";
  }
  TempDir dir("c2c-portable-docker");
  const fs::path broker = dir / "broker-docker";
  fs::create_directories(broker);
  auto inside = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {docker,
                                     "run",
                                     "--rm",
                                     "--network",
                                     "host",
                                     "-v",
                                     fs::absolute(bin_).string() + ":/usr/local/bin/c2c:ro",
                                     "-v",
                                     broker.string() + ":/broker-docker",
                                     image,
                                     "c2c"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  };
  const auto version = inside({"--version"});
  ASSERT_EQ(version.exit_code, 0) << version.out << version.err;
  EXPECT_TRUE(contains(version.out, "c2c ")) << version.out;
  docker_recipe(inside, broker);
}

}  // namespace
}  // namespace c2c::test::connector
