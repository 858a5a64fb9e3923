# Relay rules from the issue-8 review (owner: relayrules): dedup per sender, alias case,
# invite-only rooms, register proof v2, inbox paging; and the SQLite schema upgrade they need.
c2c_add_test(NAME relay_rules_test LABELS unit
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/relay_rules_test.cpp
             LIBS c2c_relay_server c2c_relay_protocol c2c_relay_store c2c_crypto)
c2c_add_test(NAME relay_store_upgrade_test LABELS unit
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/store_upgrade_test.cpp
             LIBS c2c_relay_store)
