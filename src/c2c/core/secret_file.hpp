#pragma once
// Files that hold secrets (the relay token, a config that carries it, an identity key) must be
// readable by their owner only: like ssh with a private key, c2c refuses to use one that group or
// others can read or write, instead of silently trusting a secret that may already have leaked.

#include <filesystem>
#include <string>
#include <string_view>

#include "c2c/core/result.hpp"

namespace c2c {

// Ok when the open file `fd` (of `path`, for the message) has no group/other permission bits;
// else kIo "permissions too permissive on <path>: 0644 (expected 0600)".
Result<void> check_private_mode(int fd, const std::filesystem::path& path);
// The same check by path, for a file already read some other way.
Result<void> check_private_mode(const std::filesystem::path& path);

// The whole file, after check_private_mode on the descriptor that is read (no race between the
// check and the read). kNotFound when it does not exist, kIo on other errors.
Result<std::string> read_secret_file(const std::filesystem::path& path);

// mkdir -p where every directory it creates is 0700 whatever the umask (directories that hold
// keys, tokens or a database); existing directories are left as they are. The error names the
// directory that could not be created: "cannot create directory <dir>: <reason>".
Result<void> make_private_dirs(const std::filesystem::path& dir);

// Creates `path` empty with mode 0600 (O_EXCL, so an existing file, or a symlink planted in its
// place, is never followed or changed) unless it already exists. For files another library then
// opens with its own default mode (SQLite: 0644, and its -wal/-shm copy the database's mode).
// A missing parent is kNotFound "directory <parent> does not exist".
Result<void> precreate_private_file(const std::filesystem::path& path);

// Replaces `path` with `data` atomically, the one way c2c rewrites a file: a temporary file
// beside it, named after this process and thread and created O_EXCL | O_NOFOLLOW (a link or a
// dead writer's leftover planted under that name is removed, never written through), given
// `mode` whatever the umask, written, fsynced (unless `sync` is false: the broker's
// C2C_BROKER_FSYNC=0), then renamed over `path`. On failure `path` is unchanged and the
// temporary is gone; kIo "cannot <step> <file>: <reason>".
Result<void> replace_file(const std::filesystem::path& path, std::string_view data,
                          unsigned mode = 0600, bool sync = true);

}  // namespace c2c
