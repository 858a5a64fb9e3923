# c2c_add_test(NAME <name> LABELS <unit|conformance|integration|e2e|mcp|fuzz> SOURCES ... LIBS ...
#              [PG])  PG: the tests use the shared PostgreSQL server (ctest fixture c2c_pg)
# Builds one GoogleTest executable and registers its tests with ctest under the labels.
function(c2c_add_test)
  cmake_parse_arguments(T "PG" "NAME;TIMEOUT" "LABELS;SOURCES;LIBS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} c2c_test_support GTest::gtest GTest::gmock
                                          GTest::gtest_main c2c_settings)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(fixture "")
  if(T_PG)
    set(fixture FIXTURES_REQUIRED c2c_pg)
  endif()
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
               ENVIRONMENT "C2C_BIN=$<TARGET_FILE:c2c>" ${fixture})
endfunction()
