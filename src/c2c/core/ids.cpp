#include "c2c/core/ids.hpp"

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <random>

namespace c2c {

namespace {
std::mt19937_64 seeded_rng() {
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
  return std::mt19937_64(seq);
}

// Counts forks in the child, so a thread's generator notices it now lives in a new process
// without a getpid() system call per id (a relay makes one id per accepted message).
std::atomic<uint64_t> g_forks{0};
const int g_fork_hook =
    ::pthread_atfork(nullptr, nullptr, [] { g_forks.fetch_add(1, std::memory_order_relaxed); });

std::mt19937_64& thread_rng() {
  // Seeded once per thread from the OS; ids need uniqueness, not secrecy. Reseeded after a
  // fork: a child must not replay its parent's sequence (same ids in two processes).
  thread_local std::mt19937_64 rng = seeded_rng();
  thread_local uint64_t seeded_in = g_forks.load(std::memory_order_relaxed);
  if (const uint64_t now = g_forks.load(std::memory_order_relaxed); now != seeded_in) {
    seeded_in = now;
    rng = seeded_rng();
  }
  return rng;
}
}  // namespace

std::string new_uuid_v4() {
  auto& rng = thread_rng();
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int pos = 0;
  auto put = [&](uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
      out[pos++] = kHex[(v >> (i * 4)) & 0xF];
    }
  };
  put(hi, 16);
  put(lo, 16);
  return out;
}

bool looks_like_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace c2c
