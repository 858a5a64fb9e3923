# The c2c binary's start-up path (owner: operators, issue 12): commands still parse when only
# their own group is registered.
c2c_add_test(NAME cli_startup_e2e_test LABELS e2e
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/cli_startup_test.cpp LIBS c2c_core)
add_dependencies(cli_startup_e2e_test c2c)
