# Relay server and protocol unit tests (owner: relay). The router is driven without sockets.
c2c_add_test(NAME relay_server_test LABELS unit
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/relay_protocol_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/relay_auth_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/relay_service_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/relay_rooms_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/relay_receipts_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/relay_limits_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/relay_stream_test.cpp
             LIBS c2c_relay_server c2c_relay_protocol c2c_relay_store c2c_crypto)
