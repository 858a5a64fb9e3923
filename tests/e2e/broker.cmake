# End-to-end transcripts of the local-broker CLI commands (owner: broker): the real c2c binary
# in a temporary HOME, human and --json output, error lines and exit codes.
c2c_add_test(NAME broker_cli_e2e_test LABELS e2e
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/broker_cli_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/broker_rooms_cli_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/broker_inbox_safety_test.cpp
             LIBS nlohmann_json::nlohmann_json c2c_broker)
add_dependencies(broker_cli_e2e_test c2c)
