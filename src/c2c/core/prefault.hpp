#pragma once
// Start-up prefaulting for short-lived commands (docs/performance.md, "Start-up").
//
// A short `c2c` command spends most of its start-up in page faults, not in its own code: the
// kernel maps the executable's code and constants one fault at a time (a fault maps at most a
// 64 KiB window), and every fresh heap or .bss page costs another. On virtual machines a fault
// costs tens of microseconds, so `c2c send` (about 160 faults) paid several milliseconds for
// them. One madvise(MADV_POPULATE_READ / _WRITE) per range maps the same pages in a single
// call, without a trap per window.

#include <cstddef>

namespace c2c {

struct PrefaultReport {
  size_t read_only_bytes = 0;  // code and constants of the executable, mapped for reading
  size_t writable_bytes = 0;   // its .bss and the start of the heap, mapped for writing
};

// Maps the executable's read-only segments, its zero-filled data (.bss) and the heap's first
// pages. Cheap where faults are cheap, a large saving where they are not; for commands that
// end within milliseconds only: a long-running process would carry the whole executable in its
// resident set for nothing. Never fails: a kernel without MADV_POPULATE_* (before Linux 5.14)
// simply reports 0 bytes.
PrefaultReport prefault_executable();

}  // namespace c2c
