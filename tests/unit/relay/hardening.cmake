# Fault injection into the relay Store (owner: hardening). tests/support/faulty_store.* is the
# Store decorator failing the n-th write. store_disk_full_test fills a real tmpfs under SQLite.
c2c_add_test(NAME relay_fault_injection_test LABELS unit
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/faulty_store_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/store_disk_full_test.cpp
             LIBS c2c_relay_server c2c_relay_protocol c2c_relay_store c2c_crypto)
