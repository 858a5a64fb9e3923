// The one translation unit that compiles Asio, Asio's SSL layer and Beast (see CMakeLists.txt).

// clang-format off
#include <utility>  // g++ 12 + Boost 1.74: must precede the Asio headers

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
// clang-format on
