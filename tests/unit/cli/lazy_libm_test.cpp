// The portable binary's lazy libm (src/c2c/cli/portable/lazy_libm.cpp): every function it
// defines answers as libm's own does, through libm.so.6 opened on first use.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <numbers>
#include <string>

namespace {

// Volatile inputs, and this file built with -fno-builtin: the compiler can neither fold the
// calls nor inline them, so each one reaches the symbol.
volatile double zero = 0.0;
volatile double one = 1.0;

TEST(LazyLibm, TheProgramBindsToTheForwardersNotToLibm) {
  Dl_info info{};
  ASSERT_NE(::dladdr(reinterpret_cast<void*>(static_cast<double (*)(double)>(&::exp)), &info), 0);
  ASSERT_NE(info.dli_fname, nullptr);
  EXPECT_EQ(std::string(info.dli_fname).find("libm.so"), std::string::npos) << info.dli_fname;
}

TEST(LazyLibm, UnaryFunctionsForwardToLibm) {
  EXPECT_DOUBLE_EQ(::acos(one), 0.0);
  EXPECT_DOUBLE_EQ(::acosh(one), 0.0);
  EXPECT_DOUBLE_EQ(::asin(zero), 0.0);
  EXPECT_DOUBLE_EQ(::asinh(zero), 0.0);
  EXPECT_DOUBLE_EQ(::atan(one), std::numbers::pi / 4);
  EXPECT_DOUBLE_EQ(::atanh(zero), 0.0);
  EXPECT_DOUBLE_EQ(::cos(zero), 1.0);
  EXPECT_DOUBLE_EQ(::cosh(zero), 1.0);
  EXPECT_DOUBLE_EQ(::exp(one), std::numbers::e);
  EXPECT_DOUBLE_EQ(::floor(one * 2.7), 2.0);
  EXPECT_DOUBLE_EQ(::log(one * std::numbers::e), 1.0);
  EXPECT_DOUBLE_EQ(::sin(zero), 0.0);
  EXPECT_DOUBLE_EQ(::sinh(zero), 0.0);
  EXPECT_DOUBLE_EQ(::sqrt(one * 16), 4.0);
  EXPECT_DOUBLE_EQ(::tan(zero), 0.0);
  EXPECT_DOUBLE_EQ(::tanh(zero), 0.0);
  EXPECT_DOUBLE_EQ(::trunc(one * -2.7), -2.0);
}

TEST(LazyLibm, BinaryAndIntegerFunctionsForwardToLibm) {
  EXPECT_DOUBLE_EQ(::atan2(one, one), std::numbers::pi / 4);
  EXPECT_DOUBLE_EQ(::fmod(one * 7, one * 3), 1.0);
  EXPECT_DOUBLE_EQ(::pow(one * 2, one * 10), 1024.0);
  EXPECT_EQ(::llround(one * 2.5), 3);
  EXPECT_EQ(::fegetround(), FE_TONEAREST);
  EXPECT_EQ(::fesetround(FE_TONEAREST), 0);
}

}  // namespace
