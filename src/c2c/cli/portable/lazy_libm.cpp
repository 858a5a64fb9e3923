// The portable c2c binary loads libm only when a libm function is called.
//
// Its callers are SQLite's SQL math functions (acos() ... trunc(), which Debian's
// libsqlite3.a is built with; c2c issues no such SQL), libstdc++'s long double parsing (unused)
// and the connector's retry backoff after a failed round (std::pow). Yet a libm the executable
// links is loaded, relocated and its ifunc resolvers run at every start: 0.26 ms of each
// `c2c send` on the reference machine (docs/performance.md, "Start-up"). glibc's libm.a cannot
// be linked into a dynamically linked program (its ifunc resolvers use the loader's private
// CPU data), so each function the binary needs is defined here and forwards to libm.so.6,
// opened on first use, as the PostgreSQL backend does with libpq (docs/decisions.md, D20 and
// D21). Linked into the portable build only (src/c2c/cli/CMakeLists.txt), with --as-needed so
// no DT_NEEDED entry for libm remains; PortableBinary.LoadsNoLibmAtStart checks that,
// LazyLibm.* that every function forwards.
#include <dlfcn.h>

#include <cfenv>

namespace {

// Opened once, by the first call of any function below (a thread-safe local static).
template <class Fn>
Fn from_libm(const char* name) {
  static void* const libm = ::dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
  return libm != nullptr ? reinterpret_cast<Fn>(::dlsym(libm, name)) : nullptr;
}

}  // namespace

// A libm that cannot be opened (it ships with glibc, so only on a broken system) answers NaN:
// the SQL function returns NULL; nothing else in c2c depends on these.
#define C2C_LAZY_UNARY(name)                                     \
  extern "C" double name(double x) noexcept {                    \
    static const auto fn = from_libm<double (*)(double)>(#name); \
    return fn != nullptr ? fn(x) : __builtin_nan("");            \
  }
#define C2C_LAZY_BINARY(name)                                            \
  extern "C" double name(double x, double y) noexcept {                  \
    static const auto fn = from_libm<double (*)(double, double)>(#name); \
    return fn != nullptr ? fn(x, y) : __builtin_nan("");                 \
  }

// What the portable link leaves undefined against libm.so.6: one missing here brings the
// DT_NEEDED entry back, which PortableBinary.LoadsNoLibmAtStart catches.
C2C_LAZY_UNARY(acos)
C2C_LAZY_UNARY(acosh)
C2C_LAZY_UNARY(asin)
C2C_LAZY_UNARY(asinh)
C2C_LAZY_UNARY(atan)
C2C_LAZY_UNARY(atanh)
C2C_LAZY_UNARY(cos)
C2C_LAZY_UNARY(cosh)
C2C_LAZY_UNARY(exp)
C2C_LAZY_UNARY(floor)
C2C_LAZY_UNARY(log)
C2C_LAZY_UNARY(sin)
C2C_LAZY_UNARY(sinh)
C2C_LAZY_UNARY(sqrt)
C2C_LAZY_UNARY(tan)
C2C_LAZY_UNARY(tanh)
C2C_LAZY_UNARY(trunc)
C2C_LAZY_BINARY(atan2)
C2C_LAZY_BINARY(fmod)
C2C_LAZY_BINARY(pow)

extern "C" long long llround(double x) noexcept {
  static const auto fn = from_libm<long long (*)(double)>("llround");
  return fn != nullptr ? fn(x) : 0;
}
extern "C" int fegetround() noexcept {
  static const auto fn = from_libm<int (*)()>("fegetround");
  return fn != nullptr ? fn() : FE_TONEAREST;  // the only mode c2c runs in
}
extern "C" int fesetround(int mode) noexcept {
  static const auto fn = from_libm<int (*)(int)>("fesetround");
  if (fn != nullptr) return fn(mode);
  return mode == FE_TONEAREST ? 0 : 1;  // 0: the mode is set (it already is)
}
