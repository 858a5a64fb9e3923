# Build policy as INTERFACE targets: every c2c library links c2c_settings.
add_library(c2c_settings INTERFACE)
target_include_directories(c2c_settings INTERFACE ${PROJECT_SOURCE_DIR}/src)
target_compile_options(c2c_settings INTERFACE -Wall -Wextra -Wpedantic $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
                                              -Wnon-virtual-dtor -Wno-missing-field-initializers)
# The version changes rarely, so it may stay a definition (the git hash may not: see below).
target_compile_definitions(c2c_settings INTERFACE C2C_VERSION="${PROJECT_VERSION}")
if(C2C_WERROR)
  target_compile_options(c2c_settings INTERFACE -Werror)
endif()

if(C2C_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(C2C_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT C2C_SANITIZE STREQUAL "")
  message(FATAL_ERROR "C2C_SANITIZE must be '', 'address' or 'thread'")
endif()

# libFuzzer builds (clang only, scripts/fuzz.sh): coverage instrumentation for every library.
if(C2C_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "C2C_FUZZ=ON needs clang (scripts/fuzz.sh uses clang++-14)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# Version and git hash live in one generated source file (core's build_info.cpp), so a new hash
# after a commit recompiles one file instead of every file that sees c2c_settings.
execute_process(COMMAND git rev-parse --short=7 HEAD WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                OUTPUT_VARIABLE C2C_GIT_HASH OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT C2C_GIT_HASH)
  set(C2C_GIT_HASH "unknown")
endif()
