# Every dependency is a Debian 12 package (scripts/install-deps.sh installs them).
if(C2C_PORTABLE)
  # The static archives the -dev packages ship (libssl-dev, libboost-system-dev).
  set(OPENSSL_USE_STATIC_LIBS TRUE)
  set(Boost_USE_STATIC_LIBS ON)
endif()
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
# libpq-dev: only libpq-fe.h at build time. The PostgreSQL backend loads libpq.so.5 with dlopen
# when it is used, so no build (the portable one included) links libpq.
pkg_check_modules(PostgreSQL REQUIRED libpq)
if(C2C_PORTABLE)
  # libsqlite3-dev and libsodium-dev ship libsqlite3.a and libsodium.a; both need only glibc.
  find_library(C2C_SQLITE3_STATIC NAMES libsqlite3.a REQUIRED)
  find_library(C2C_SODIUM_STATIC NAMES libsodium.a REQUIRED)
  set_target_properties(SQLite::SQLite3 PROPERTIES IMPORTED_LOCATION "${C2C_SQLITE3_STATIC}"
                                                   INTERFACE_LINK_LIBRARIES "m;dl;Threads::Threads")
  set_target_properties(PkgConfig::SODIUM PROPERTIES INTERFACE_LINK_LIBRARIES
                                                     "${C2C_SODIUM_STATIC};Threads::Threads")
  # libstdc++ and libgcc inside the binary; glibc (libc, libm, ld-linux) stays dynamic.
  add_link_options(-static-libstdc++ -static-libgcc)
  # Not position-independent: a PIE binary spends its start-up applying tens of thousands of
  # relative relocations (and touching the pages they sit in) before main; a fixed-address
  # binary has none. Agents start c2c per message (docs/performance.md, start-up).
  set(CMAKE_POSITION_INDEPENDENT_CODE OFF)
  add_compile_options(-fno-pie)
  add_link_options(-no-pie)
  message(STATUS "c2c: portable build (static OpenSSL, SQLite, libsodium, libstdc++, libgcc)")
endif()
if(C2C_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(C2C_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
