#include "c2c/broker/process.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>

namespace c2c::broker {

namespace {

// The text of /proc/<pid>/stat (one read: the file is generated whole), or nullopt.
std::optional<std::string> read_stat(long long pid) {
  if (pid <= 0) return std::nullopt;
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

std::optional<long long> stat_field(std::string_view stat, int field) {
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos || field < 3) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  // rest = " S ppid ..." : its first token is field 3.
  int current = 2;
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ' && rest[j] != '\n') ++j;
    if (j == i) break;
    if (++current == field) {
      long long v = 0;
      for (size_t k = i; k < j; ++k) {
        if (rest[k] < '0' || rest[k] > '9') return std::nullopt;
        v = v * 10 + (rest[k] - '0');
      }
      return v;
    }
    i = j;
  }
  return std::nullopt;
}

std::optional<long long> proc_start_time(long long pid) {
  const auto stat = read_stat(pid);
  return stat ? stat_field(*stat, 22) : std::nullopt;
}

std::optional<long long> parent_pid(long long pid) {
  const auto stat = read_stat(pid);
  return stat ? stat_field(*stat, 4) : std::nullopt;
}

}  // namespace c2c::broker
