// Broker root resolution (docs/protocol.md §6): env override, else a per-repository directory keyed
// by a fingerprint of the repository's origin URL (or top-level path).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>

#include "c2c/broker/broker.hpp"
#include "c2c/core/env.hpp"
#include "c2c/core/fd_io.hpp"
#include "c2c/core/text.hpp"
#include "c2c/crypto/crypto.hpp"

namespace c2c::broker {

namespace fs = std::filesystem;

namespace {

// First line of a git command's stdout (trimmed), "" if git fails or is missing.
// posix_spawn, not fork: the MCP server calls this from a multi-threaded process.
std::string git_first_line(const char* const argv[]) {
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc =
      ::posix_spawnp(&pid, argv[0], &actions, nullptr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    return "";
  }
  std::string out;
  read_to_eof(out_pipe[0], out);
  ::close(out_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "";
  const auto nl = out.find('\n');
  return std::string(trim(std::string_view(out).substr(0, nl)));
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(trim(v)) : std::string();
}

}  // namespace

std::string fingerprint_of(std::string_view input) {
  return crypto::sha256_hex(input).substr(0, 12);
}

std::string repo_fingerprint() {
  // Memoised: the answer cannot change within one process (cwd changes aside, as upstream).
  static std::once_flag once;
  static std::string fp;
  std::call_once(once, [] {
    const char* url_cmd[] = {"git", "config", "--get", "remote.origin.url", nullptr};
    std::string input = git_first_line(url_cmd);
    if (input.empty()) {
      const char* top_cmd[] = {"git", "rev-parse", "--show-toplevel", nullptr};
      std::string top = git_first_line(top_cmd);
      std::error_code ec;
      if (!top.empty() && fs::is_directory(top, ec)) input = top;
    }
    fp = input.empty() ? "default" : fingerprint_of(input);
  });
  return fp;
}

fs::path resolve_root() {
  const std::string env_root = env_or_empty("C2C_MCP_BROKER_ROOT");
  if (!env_root.empty()) {
    fs::path p = fs::absolute(env_root).lexically_normal();
    if (p.string().find(".git/c2c/mcp") == std::string::npos) return p;
    std::cerr << "[WARNING] C2C_MCP_BROKER_ROOT points at the legacy layout (" << p.string()
              << ");\n[WARNING] ignoring it and using the per-repository broker root.\n";
  }
  const std::string fp = repo_fingerprint();
  // Not xdg_base_dir: without XDG_STATE_HOME the broker lives in ~/.c2c (the original layout).
  if (auto xdg = env_non_blank(process_env(), "XDG_STATE_HOME")) {
    return fs::path(*xdg) / "c2c" / "repos" / fp / "broker";
  }
  const std::string home = env_or_empty("HOME");
  if (!home.empty()) return fs::path(home) / ".c2c" / "repos" / fp / "broker";
  return fs::path("/tmp") / "c2c" / "repos" / fp / "broker";
}

}  // namespace c2c::broker
