#pragma once
// Result<T, E>: a value or an error, spelled like C++23 std::expected (has_value, value, error)
// so moving to std::expected later is a rename. Expected failures travel as values;
// exceptions are for bugs and fatal setup errors only. E is c2c::Error almost everywhere; a
// module whose failures carry more than an Error (the relay service's Failure, which also says
// which HTTP status it maps to) names its own E and keeps the same accessors.

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "c2c/core/error.hpp"

namespace c2c {

// The failure side of a Result, as std::unexpected: `return Unexpected{err};` (the type is
// deduced) or `return fail(code, message);`.
template <typename E = Error>
struct Unexpected {
  E error;
};
// Spelled out because clang 14 (used by scripts/check-tidy.sh) has no aggregate deduction.
template <typename E>
Unexpected(E) -> Unexpected<E>;

inline Unexpected<> fail(ErrorCode code, std::string message) {
  return Unexpected<>{Error{code, std::move(message)}};
}
inline Unexpected<> fail(Error error) {
  return Unexpected<>{std::move(error)};
}

template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Unexpected<E> u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT
  // A module-specific error type converts without the Unexpected wrapper (`return failure(...)`);
  // a plain Error does not, so a Result<Error> or a value built from an Error stays unambiguous.
  Result(E e)  // NOLINT: implicit by design
      requires(!std::is_same_v<E, Error>)
      : v_(std::in_place_index<1>, std::move(e)) {}

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

  const E& error() const& {
    assert(!has_value());
    return std::get<1>(v_);
  }
  E&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(v_));
  }
  T value_or(T fallback) const { return has_value() ? value() : std::move(fallback); }

 private:
  std::variant<T, E> v_;
};

template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(Unexpected<E> u) : error_(std::move(u.error)) {}  // NOLINT: implicit by design
  Result(E e)                                              // NOLINT: implicit by design
      requires(!std::is_same_v<E, Error>)
      : error_(std::move(e)) {}

  bool has_value() const { return !error_.has_value(); }
  explicit operator bool() const { return has_value(); }
  void value() const { assert(has_value()); }
  const E& error() const& {
    assert(!has_value());
    return *error_;
  }
  E&& error() && {
    assert(!has_value());
    return *std::move(error_);
  }

 private:
  std::optional<E> error_;  // empty: success
};

// Propagate an error from an expression returning Result<U, E> inside a function returning
// Result<T, E> (any E: Unexpected deduces it). The error is moved out of a temporary result and
// copied from a named one, which stays intact.
#define C2C_TRY(expr)                                                                             \
  do {                                                                                            \
    auto&& c2c_try_result_ = (expr);                                                              \
    if (!c2c_try_result_.has_value()) {                                                           \
      return ::c2c::Unexpected{std::forward<decltype(c2c_try_result_)>(c2c_try_result_).error()}; \
    }                                                                                             \
  } while (0)

}  // namespace c2c
