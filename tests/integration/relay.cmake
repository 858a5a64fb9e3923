# Integration tests of `c2c relay serve` as a real process on port 0 (owner: relay).
c2c_add_test(NAME relay_integration_test LABELS integration
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/relay_serve_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/relay_auth_matrix_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/relay_bad_input_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/relay_sqlite_restart_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/relay_serve_ops_test.cpp
             LIBS c2c_crypto c2c_net nlohmann_json::nlohmann_json)

# The PostgreSQL backend as real relay processes on the shared test server (fixture c2c_pg).
c2c_add_test(NAME relay_postgres_test LABELS integration PG
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/relay_postgres_test.cpp
             LIBS c2c_crypto c2c_net c2c_relay_store nlohmann_json::nlohmann_json)
