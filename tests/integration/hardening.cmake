# Hardening integration tests (owner: hardening): real `c2c relay serve` processes and forked
# broker writers, killed and abused on purpose. Results recorded in docs/reliability.md.
c2c_add_test(NAME hardening_integration_test LABELS integration
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/hardening_sqlite_kill_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/hardening_broker_kill_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/hardening_slowloris_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/hardening_security_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/hardening_soak_test.cpp
             LIBS c2c_broker c2c_crypto c2c_net nlohmann_json::nlohmann_json)
