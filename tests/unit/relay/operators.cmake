# The operator dashboard's data and the metrics it adds (owner: operators).
c2c_add_test(NAME relay_dashboard_test LABELS unit
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/relay_dashboard_test.cpp
             LIBS c2c_relay_server c2c_relay_protocol c2c_relay_store c2c_crypto)
