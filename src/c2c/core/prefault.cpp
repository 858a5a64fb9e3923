#include "c2c/core/prefault.hpp"

#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

// Linux 5.14 (madvise(2)); older C headers may not name them.
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace c2c {
namespace {

uintptr_t page_size() {
  static const auto size = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  return size;
}
uintptr_t down(uintptr_t a) {
  return a & ~(page_size() - 1);
}
uintptr_t up(uintptr_t a) {
  return down(a + page_size() - 1);
}

size_t populate(uintptr_t from, uintptr_t to, int advice) {
  if (to <= from) return 0;
  // NOLINTNEXTLINE(performance-no-int-to-ptr): the range comes from the program headers
  void* start = reinterpret_cast<void*>(from);
  return ::madvise(start, to - from, advice) == 0 ? to - from : 0;
}

// dl_iterate_phdr reports the executable first; its loadable segments are the ranges to map.
int populate_executable(dl_phdr_info* info, size_t /*size*/, void* data) {
  auto* report = static_cast<PrefaultReport*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    const uintptr_t file_end = start + ph.p_filesz;
    const uintptr_t mem_end = start + ph.p_memsz;
    if ((ph.p_flags & PF_W) == 0) {
      report->read_only_bytes += populate(down(start), up(file_end), MADV_POPULATE_READ);
    } else {
      // Only the zero-filled tail (.bss): populating the file-backed data for writing would
      // copy every page of it, most of which the command never writes.
      report->writable_bytes += populate(up(file_end), up(mem_end), MADV_POPULATE_WRITE);
    }
  }
  return 1;  // the executable only, not the shared C library
}

}  // namespace

PrefaultReport prefault_executable() {
  PrefaultReport report;
  ::dl_iterate_phdr(populate_executable, &report);
  // The heap: malloc's first extension of the program break reserves its top pad (128 KiB) beyond
  // the request; the command's allocations then touch those pages one fault each.
  void* probe =
      std::malloc(1);  // NOLINT(cppcoreguidelines-no-malloc): the heap itself is the point
  const auto heap_start = reinterpret_cast<uintptr_t>(probe);
  const auto heap_end = reinterpret_cast<uintptr_t>(::sbrk(0));
  std::free(probe);  // NOLINT(cppcoreguidelines-no-malloc)
  if (heap_end > heap_start && heap_end - heap_start <= (size_t{1} << 20)) {
    report.writable_bytes += populate(up(heap_start), heap_end, MADV_POPULATE_WRITE);
  }
  return report;
}

}  // namespace c2c
