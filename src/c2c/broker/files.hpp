#pragma once
// File primitives shared by every broker operation: sidecar locks, atomic replace, JSONL
// appends. All failures come back as kIo errors naming the path.

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/core/result.hpp"

namespace c2c::broker::files {

namespace fs = std::filesystem;

// A held lock on a sidecar lock file. Combines an open-file-description lock
// (F_OFD_SETLKW: excludes other processes, including Python's fcntl.lockf and the original c2c's
// lockf, and other threads because each acquisition opens its own description) with an
// in-process shared_mutex per path (keeps threads of one process from piling up in the kernel
// and makes the exclusion explicit). Never acquire the same path twice in one thread.
class FileLock {
 public:
  enum class Mode { kShared, kExclusive };

  static Result<FileLock> acquire(const fs::path& lock_path, Mode mode = Mode::kExclusive);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  FileLock(int fd, std::shared_mutex* mu, Mode mode) : fd_(fd), mu_(mu), mode_(mode) {}
  void release();

  int fd_ = -1;
  std::shared_mutex* mu_ = nullptr;
  Mode mode_ = Mode::kExclusive;
};

// Whether writes are fsynced before the rename / after an append (default yes; the env var
// C2C_BROKER_FSYNC=0 turns it off, e.g. for throwaway test roots on a slow disk). Locking and
// atomic replace are unaffected: a killed process never leaves a torn file either way; fsync
// only adds protection against power loss.
bool fsync_enabled();
void set_fsync_enabled(bool on);

// mkdir -p with the given mode for the directory and 0700 for the parents it creates.
Result<void> ensure_dir(const fs::path& dir, mode_t mode = 0700);

// A directory of the broker (the root, archive/, rooms/, ...): created 0700 if missing, then
// refused with a clear kIo error unless it is a real directory owned by the current user and
// not writable by group or others (docs/security.md, issue 8.2). follow_link: the path may be
// a symlink the user owns (the root, which the user names); elsewhere a link is refused.
Result<void> ensure_private_dir(const fs::path& dir, bool follow_link = false);

// Whole file contents; nullopt when the file does not exist. No size cap (docs/decisions.md D10).
Result<std::optional<std::string>> read_file(const fs::path& path);

// A file kept open after reading it, so its inode cannot be freed and its number reused:
// while `path` still names the same inode with the same size and times, its contents are
// the ones read (every writer replaces files by rename; nothing rewrites them in place).
class PinnedFile {
 public:
  PinnedFile(int fd, const struct stat& st);
  PinnedFile(PinnedFile&& other) noexcept;
  PinnedFile& operator=(PinnedFile&& other) noexcept;
  PinnedFile(const PinnedFile&) = delete;
  PinnedFile& operator=(const PinnedFile&) = delete;
  ~PinnedFile();
  // True if `path` is still this inode, unchanged since it was read.
  bool still_at(const fs::path& path) const;

 private:
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  off_t size_ = 0;
  long long mtime_ns_ = 0;
  long long ctime_ns_ = 0;
};

struct PinnedRead {
  std::string data;
  PinnedFile pin;
};
// read_file that also returns the pinned file; nullopt when the file does not exist.
Result<std::optional<PinnedRead>> read_pinned(const fs::path& path);

// The last `max_bytes` of a file, starting at a line boundary (the first, partial line of the
// window is dropped); nullopt when the file does not exist.
Result<std::optional<std::string>> read_tail(const fs::path& path, size_t max_bytes);

// Writes `data` to <path>.tmp.<pid>.<tid> (0600), fsyncs it and renames it over `path`, so
// readers see the old or the new contents, never a mix. The tmp file is removed on failure.
Result<void> write_atomic(const fs::path& path, std::string_view data);

// Every open below uses O_NOFOLLOW: a symlink at `path` is an error, never followed.

// Appends one line (a '\n' is added; it may hold several '\n'-separated records) with
// O_APPEND and one write(2), creating the file 0600. If a previous writer was killed mid-line
// the file does not end in '\n': that torn, never-acknowledged tail is cut off first. A short
// write is rolled back. Caller holds the file's lock.
Result<void> append_line(const fs::path& path, std::string_view line);

// Removes a file; missing is fine.
Result<void> remove_file(const fs::path& path);

// Splits JSONL text into its non-blank lines.
std::vector<std::string_view> lines_of(std::string_view text);

}  // namespace c2c::broker::files
