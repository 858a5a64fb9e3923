#include "c2c/broker/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "c2c/core/secret_file.hpp"

namespace c2c::broker::files {

namespace {

Unexpected<> io_error(std::string_view what, const fs::path& path, int err) {
  if (err == ELOOP) {
    // O_NOFOLLOW met a symlink: broker files are never links (docs/security.md, issue 8.2).
    return fail(ErrorCode::kIo, std::string(what) + " " + path.string() +
                                    ": it is a symbolic link; c2c does not follow links in the "
                                    "broker directory (remove it)");
  }
  return fail(ErrorCode::kIo, std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

// Every broker file is opened without following a final symlink, so a link planted in the
// broker directory (dangling or not) can never make c2c read, create or append outside it.
constexpr int kNoFollow = O_NOFOLLOW | O_CLOEXEC;

// One shared_mutex per lock path for the life of the process. The map only grows; it holds
// one entry per distinct lock file this process touched.
std::shared_mutex* mutex_for(const std::string& path) {
  static std::mutex map_mu;
  static auto* map = new std::unordered_map<std::string, std::unique_ptr<std::shared_mutex>>();
  std::lock_guard guard(map_mu);
  auto& slot = (*map)[path];
  if (!slot) slot = std::make_unique<std::shared_mutex>();
  return slot.get();
}

std::atomic<int>& fsync_setting() {
  // -1 = not decided yet (read the environment on first use).
  static std::atomic<int> setting{-1};
  return setting;
}

}  // namespace

bool fsync_enabled() {
  int v = fsync_setting().load();
  if (v < 0) {
    const char* env = std::getenv("C2C_BROKER_FSYNC");
    v = (env != nullptr && std::string_view(env) == "0") ? 0 : 1;
    fsync_setting().store(v);
  }
  return v == 1;
}

void set_fsync_enabled(bool on) {
  fsync_setting().store(on ? 1 : 0);
}

Result<FileLock> FileLock::acquire(const fs::path& lock_path, Mode mode) {
  std::shared_mutex* mu = mutex_for(lock_path.string());
  if (mode == Mode::kShared) {
    mu->lock_shared();
  } else {
    mu->lock();
  }
  auto unlock_mu = [&] { mode == Mode::kShared ? mu->unlock_shared() : mu->unlock(); };

  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | kNoFollow, 0600);
  if (fd < 0) {
    const int err = errno;
    unlock_mu();
    return io_error("cannot open lock file", lock_path, err);
  }
  struct flock fl {};
  fl.l_type = mode == Mode::kShared ? F_RDLCK : F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;  // whole file
  while (::fcntl(fd, F_OFD_SETLKW, &fl) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    unlock_mu();
    return io_error("cannot lock", lock_path, err);
  }
  return FileLock(fd, mu, mode);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_), mu_(other.mu_), mode_(other.mode_) {
  other.fd_ = -1;
  other.mu_ = nullptr;
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    mu_ = other.mu_;
    mode_ = other.mode_;
    other.fd_ = -1;
    other.mu_ = nullptr;
  }
  return *this;
}

FileLock::~FileLock() {
  release();
}

void FileLock::release() {
  // Closing the descriptor drops the OFD lock; then let other threads in.
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (mu_ != nullptr) {
    mode_ == Mode::kShared ? mu_->unlock_shared() : mu_->unlock();
    mu_ = nullptr;
  }
}

Result<void> ensure_dir(const fs::path& dir, mode_t mode) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return fail(ErrorCode::kIo, dir.string() + " exists and is not a directory");
  }
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    C2C_TRY(ensure_dir(dir.parent_path(), 0700));
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return io_error("cannot create directory", dir, errno);
  }
  return {};
}

namespace {

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The ownership and mode rule of a broker directory, on an lstat/stat result.
Result<void> check_private(const fs::path& dir, const struct stat& st) {
  if (!S_ISDIR(st.st_mode)) {
    return fail(ErrorCode::kIo, "refusing to use " + dir.string() + ": not a directory");
  }
  if (st.st_uid != ::geteuid()) {
    return fail(ErrorCode::kIo, "refusing to use " + dir.string() + ": it is owned by uid " +
                                    std::to_string(st.st_uid) + ", not by you (uid " +
                                    std::to_string(::geteuid()) +
                                    "); another user could read or plant files there");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return fail(ErrorCode::kIo,
                "refusing to use " + dir.string() + ": mode " + octal_mode(st.st_mode) +
                    " lets other users write to it (run: chmod 700 " + dir.string() + ")");
  }
  return {};
}

}  // namespace

Result<void> ensure_private_dir(const fs::path& dir, bool follow_link) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return io_error("cannot stat", dir, errno);
    C2C_TRY(ensure_dir(dir, 0700));
    if (::lstat(dir.c_str(), &st) != 0) return io_error("cannot stat", dir, errno);
  }
  if (S_ISLNK(st.st_mode)) {
    // Only the root may be a link (one the user made: the link itself must be theirs).
    if (!follow_link) {
      return fail(ErrorCode::kIo, "refusing to use " + dir.string() +
                                      ": it is a symbolic link; c2c does not follow links in "
                                      "the broker directory");
    }
    if (st.st_uid != ::geteuid()) {
      return fail(ErrorCode::kIo, "refusing to use " + dir.string() +
                                      ": it is a symbolic link owned by uid " +
                                      std::to_string(st.st_uid) + ", not by you");
    }
    if (::stat(dir.c_str(), &st) != 0) return io_error("cannot stat", dir, errno);
  }
  return check_private(dir, st);
}

namespace {

long long ns_of(const timespec& t) {
  return static_cast<long long>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// Reads the whole of fd into out, sized from fstat (the file may still grow or shrink). Once
// fstat's size is read, the end is probed with a small stack buffer rather than by growing the
// string: growing it by 64 KiB zero-filled (and so touched) 16 fresh heap pages per file read,
// and every `c2c send` reads two files (registry, inbox) at start-up (docs/performance.md).
Result<void> read_all(int fd, const fs::path& path, std::string& out, struct stat& st) {
  if (::fstat(fd, &st) != 0) return io_error("cannot stat", path, errno);
  out.resize(static_cast<size_t>(st.st_size > 0 ? st.st_size : 0));
  size_t got = 0;
  std::array<char, 4096> probe{};
  while (true) {
    const bool full = got == out.size();
    char* into = full ? probe.data() : out.data() + got;
    const size_t room = full ? probe.size() : out.size() - got;
    const ssize_t n = ::read(fd, into, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot read", path, errno);
    }
    if (n == 0) break;
    if (full) {
      out.append(probe.data(), static_cast<size_t>(n));  // the file grew since fstat
    }
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return {};
}

}  // namespace

Result<std::optional<std::string>> read_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | kNoFollow);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return io_error("cannot open", path, errno);
  }
  std::string out;
  struct stat st {};
  auto r = read_all(fd, path, out, st);
  ::close(fd);
  if (!r) return fail(r.error());
  return std::optional<std::string>(std::move(out));
}

PinnedFile::PinnedFile(int fd, const struct stat& st)
    : fd_(fd),
      dev_(st.st_dev),
      ino_(st.st_ino),
      size_(st.st_size),
      mtime_ns_(ns_of(st.st_mtim)),
      ctime_ns_(ns_of(st.st_ctim)) {}

PinnedFile::PinnedFile(PinnedFile&& other) noexcept {
  *this = std::move(other);
}

PinnedFile& PinnedFile::operator=(PinnedFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    dev_ = other.dev_;
    ino_ = other.ino_;
    size_ = other.size_;
    mtime_ns_ = other.mtime_ns_;
    ctime_ns_ = other.ctime_ns_;
    other.fd_ = -1;
  }
  return *this;
}

PinnedFile::~PinnedFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool PinnedFile::still_at(const fs::path& path) const {
  struct stat st {};
  if (fd_ < 0 || ::stat(path.c_str(), &st) != 0) return false;
  return st.st_dev == dev_ && st.st_ino == ino_ && st.st_size == size_ &&
         ns_of(st.st_mtim) == mtime_ns_ && ns_of(st.st_ctim) == ctime_ns_;
}

Result<std::optional<PinnedRead>> read_pinned(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | kNoFollow);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<PinnedRead>();
    return io_error("cannot open", path, errno);
  }
  std::string out;
  struct stat st {};
  auto r = read_all(fd, path, out, st);
  if (!r) {
    ::close(fd);
    return fail(r.error());
  }
  // Identity after the read: if a writer changed the file in place meanwhile, the times
  // differ from what a later still_at() sees and the pin simply never matches.
  struct stat after {};
  if (::fstat(fd, &after) != 0 || after.st_size != static_cast<off_t>(out.size())) {
    after.st_size = -1;  // never matches
  }
  return std::optional<PinnedRead>(PinnedRead{std::move(out), PinnedFile(fd, after)});
}

Result<std::optional<std::string>> read_tail(const fs::path& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | kNoFollow);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return io_error("cannot open", path, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return io_error("cannot stat", path, err);
  }
  const auto size = static_cast<size_t>(st.st_size);
  const size_t offset = size > max_bytes ? size - max_bytes : 0;
  std::string out(size - offset, '\0');
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  if (offset > 0) {
    const auto nl = out.find('\n');
    out.erase(0, nl == std::string::npos ? out.size() : nl + 1);
  }
  return std::optional<std::string>(std::move(out));
}

Result<void> write_atomic(const fs::path& path, std::string_view data) {
  return replace_file(path, data, 0600, fsync_enabled());
}

namespace {

// Cuts a torn last line (the file does not end in '\n') off the file: it is the partial write of
// an appender killed mid-line, which never reported success (every appender holds the file's
// lock and returns only after its whole line is written), so nothing acknowledged is lost.
Result<void> cut_torn_tail(int fd, const fs::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error("cannot stat", path, errno);
  off_t end = st.st_size;
  char last = '\n';
  if (end == 0 || ::pread(fd, &last, 1, end - 1) != 1 || last == '\n') return {};
  char buf[65536];
  off_t keep = 0;
  while (end > 0) {
    const off_t from =
        end > static_cast<off_t>(sizeof buf) ? end - static_cast<off_t>(sizeof buf) : 0;
    const ssize_t n = ::pread(fd, buf, static_cast<size_t>(end - from), from);
    if (n <= 0) return io_error("cannot read", path, n < 0 ? errno : EIO);
    const std::string_view chunk(buf, static_cast<size_t>(n));
    const size_t nl = chunk.rfind('\n');
    if (nl != std::string_view::npos) {
      keep = from + static_cast<off_t>(nl) + 1;
      break;
    }
    end = from;
  }
  if (::ftruncate(fd, keep) != 0) return io_error("cannot truncate", path, errno);
  return {};
}

}  // namespace

Result<void> append_line(const fs::path& path, std::string_view line) {
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | kNoFollow, 0600);
  if (fd < 0) return io_error("cannot open", path, errno);
  auto r = cut_torn_tail(fd, path);
  struct stat st {};
  if (r && ::fstat(fd, &st) != 0) r = io_error("cannot stat", path, errno);
  if (r) {
    std::string buf;
    buf.reserve(line.size() + 1);
    buf.append(line);
    buf.push_back('\n');
    // One write(2) of whole lines: readers never see a record split across two writes, and a
    // short write (disk full) is rolled back instead of leaving a torn line.
    ssize_t n;
    do {
      n = ::write(fd, buf.data(), buf.size());
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(buf.size())) {
      const int err = n < 0 ? errno : ENOSPC;
      if (n > 0) (void)!::ftruncate(fd, st.st_size);
      r = io_error("cannot write", path, err);
    }
  }
  if (r && fsync_enabled() && ::fdatasync(fd) != 0 && errno != EINVAL)
    r = io_error("cannot fsync", path, errno);
  ::close(fd);
  return r;
}

Result<void> remove_file(const fs::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("cannot remove", path, errno);
  return {};
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Blank = JSON whitespace only (a line of stray CRs included), as codec::blank sees it.
    bool blank = true;
    for (char c : line) {
      if (c != ' ' && c != '\t' && c != '\r') {
        blank = false;
        break;
      }
    }
    if (!blank) out.push_back(line);
    start = end + 1;
  }
  return out;
}

}  // namespace c2c::broker::files
