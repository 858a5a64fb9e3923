#pragma once
// Whole-buffer transfers on a file descriptor: the read(2)/write(2) loops that retry EINTR and
// carry on after short transfers, written once.

#include <string>
#include <string_view>

namespace c2c {

// Writes all of `data`; false with errno set when a write fails (EPIPE, ENOSPC, ...).
bool write_fully(int fd, std::string_view data);

// Appends everything up to end of file to `out`; false with errno set when a read fails (what
// was read before stays in `out`).
bool read_to_eof(int fd, std::string& out);

}  // namespace c2c
