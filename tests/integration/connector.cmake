# Connector integration tests (owner: connector): real `c2c relay serve` and `c2c relay connect`
# processes, two "machines" with their own HOME and broker root.
c2c_add_test(NAME connector_integration_test LABELS integration
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/connector_two_machines_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/connector_restart_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/connector_sigkill_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/connector_netns_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/connector_https_test.cpp
             LIBS c2c_broker nlohmann_json::nlohmann_json)

# The receive stream with real processes and injected faults (relay kill -9, connector kill -9
# between write and ack, network cut mid-frame, two connectors, a relay without the stream).
c2c_add_test(NAME stream_integration_test LABELS integration
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/stream_test.cpp
             LIBS c2c_broker nlohmann_json::nlohmann_json)

# The receive stream through nginx (skipped with a loud message when nginx is missing).
c2c_add_test(NAME stream_nginx_test LABELS integration
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/stream_nginx_test.cpp
             LIBS c2c_broker nlohmann_json::nlohmann_json)

# Two relays on one PostgreSQL database behind haproxy, one killed under load (skipped loudly
# without haproxy or the PostgreSQL server; fixture c2c_pg).
c2c_add_test(NAME relay_cluster_test LABELS integration PG
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/relay_cluster_test.cpp
             LIBS c2c_broker nlohmann_json::nlohmann_json)
