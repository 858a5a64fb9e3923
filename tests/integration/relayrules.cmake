# Relay rules from the issue-8 review (owner: relayrules), against a real `c2c relay serve`.
c2c_add_test(NAME relay_rules_integration_test LABELS integration
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/relay_rules_integration_test.cpp
             LIBS c2c_crypto c2c_net nlohmann_json::nlohmann_json)
