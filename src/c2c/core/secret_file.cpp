#include "c2c/core/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "c2c/core/fd_io.hpp"

namespace c2c {

namespace {

Unexpected<> io_failure(const char* what, const std::filesystem::path& path, int err) {
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
  if (checked && !read_to_eof(fd, out)) {
    const int err = errno;
    ::close(fd);
    return io_failure("cannot read", path, err);
  }
  ::close(fd);
  if (!checked) return fail(checked.error());
  return out;
}

Result<void> make_private_dirs(const std::filesystem::path& dir) {
  std::filesystem::path acc;
  for (const auto& part : dir) {
    acc /= part;
    if (::mkdir(acc.c_str(), 0700) == 0) {
      ::chmod(acc.c_str(), 0700);  // mkdir's mode is masked by the umask; 0700 is wanted
      continue;
    }
    const int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(acc.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    if (err == EEXIST)
      return fail(ErrorCode::kIo,
                  "cannot create directory " + acc.string() + ": a file of that name exists");
    return io_failure("cannot create directory", acc, err);
  }
  return {};
}

Result<void> precreate_private_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    ::fchmod(fd, 0600);  // the umask cannot widen 0600, but a restrictive one could narrow it
    ::close(fd);
    return {};
  }
  if (errno == EEXIST) return {};
  const int err = errno;
  if (err == ENOENT && path.has_parent_path()) {
    return fail(ErrorCode::kNotFound,
                "directory " + path.parent_path().string() + " does not exist");
  }
  return io_failure("cannot create", path, err);
}

Result<void> replace_file(const std::filesystem::path& path, std::string_view data, unsigned mode,
                          bool sync) {
  const std::string tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." +
                          std::to_string(static_cast<long>(::gettid()));
  constexpr int kCreate = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(tmp.c_str(), kCreate, static_cast<mode_t>(mode));
  if (fd < 0 && errno == EEXIST && ::unlink(tmp.c_str()) == 0) {
    fd = ::open(tmp.c_str(), kCreate, static_cast<mode_t>(mode));
  }
  if (fd < 0) return io_failure("cannot create", tmp, errno);
  const char* failed = nullptr;
  int err = 0;
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {  // the umask may not change the mode
    failed = "cannot chmod";
  } else if (!write_fully(fd, data)) {
    failed = "cannot write";
  } else if (sync && ::fsync(fd) != 0 && errno != EINVAL) {
    // fsync before rename: a crash cannot leave the name pointing at an empty file.
    failed = "cannot fsync";
  }
  if (failed != nullptr) err = errno;
  if (::close(fd) != 0 && failed == nullptr) {
    failed = "cannot close";
    err = errno;
  }
  if (failed == nullptr) {
    if (::rename(tmp.c_str(), path.c_str()) == 0) return {};
    err = errno;
    ::unlink(tmp.c_str());
    return io_failure("cannot rename onto", path, err);
  }
  ::unlink(tmp.c_str());
  return io_failure(failed, tmp, err);
}

}  // namespace c2c
