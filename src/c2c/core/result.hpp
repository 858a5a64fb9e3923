#pragma once
// Result<T>: a value or an Error, spelled like C++23 std::expected (has_value, value, error)
// so moving to std::expected later is a rename. Expected failures travel as values;
// exceptions are for bugs and fatal setup errors only.

#include <cassert>
#include <utility>
#include <variant>

#include "c2c/core/error.hpp"

namespace c2c {

struct Unexpected {
  Error error;
};
inline Unexpected fail(ErrorCode code, std::string message) {
  return Unexpected{Error{code, std::move(message)}};
}
inline Unexpected fail(Error error) {
  return Unexpected{std::move(error)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }
  T value_or(T fallback) const { return has_value() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u.error)), ok_(false) {}  // NOLINT

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const { assert(ok_); }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

// Propagate an error from an expression returning Result<...> inside a function returning Result.
#define C2C_TRY(expr)                                                                    \
  do {                                                                                   \
    auto&& c2c_try_result_ = (expr);                                                     \
    if (!c2c_try_result_.has_value()) return ::c2c::Unexpected{c2c_try_result_.error()}; \
  } while (0)

}  // namespace c2c
