c2c_add_test(NAME store_conformance_test LABELS conformance
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/store_conformance_test.cpp
             LIBS c2c_relay_store PG)
