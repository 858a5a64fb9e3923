# Connector integration tests (owner: connector): real `c2c relay serve` and `c2c relay connect`
# processes, two "machines" with their own HOME and broker root.
c2c_add_test(NAME connector_integration_test LABELS integration
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/connector_two_machines_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/connector_restart_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/connector_sigkill_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/connector_netns_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/connector_https_test.cpp
             LIBS c2c_broker nlohmann_json::nlohmann_json)
