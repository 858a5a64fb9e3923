c2c_add_test(NAME relay_store_test LABELS unit
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/store_sqlite_test.cpp
                     ${CMAKE_CURRENT_LIST_DIR}/store_sqlite_durability_test.cpp
             LIBS c2c_relay_store)
