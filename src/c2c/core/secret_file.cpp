#include "c2c/core/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace c2c {

namespace {

Unexpected io_failure(const char* what, const std::filesystem::path& path, int err) {
  return fail(ErrorCode::kIo, std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

Result<void> check_mode_bits(const struct stat& st, const std::filesystem::path& path) {
  if ((st.st_mode & 0077) == 0) return {};
  char mode[16];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return fail(ErrorCode::kIo,
              "permissions too permissive on " + path.string() + ": " + mode + " (expected 0600)");
}

}  // namespace

Result<void> check_private_mode(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_failure("cannot stat", path, errno);
  return check_mode_bits(st, path);
}

Result<void> check_private_mode(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return io_failure("cannot stat", path, errno);
  return check_mode_bits(st, path);
}

Result<std::string> read_secret_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return fail(ErrorCode::kNotFound, "no such file: " + path.string());
    return io_failure("cannot open", path, errno);
  }
  std::string out;
  auto checked = check_private_mode(fd, path);
  if (checked) {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(fd);
        return io_failure("cannot read", path, err);
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  if (!checked) return fail(checked.error());
  return out;
}

}  // namespace c2c
