# `c2c install <client>`, `uninstall`, `mail-hook` and `doctor` (owner: clients): the real c2c
# binary in a temporary HOME.
c2c_add_test(NAME clients_cli_e2e_test LABELS e2e
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/clients_cli_test.cpp
             LIBS nlohmann_json::nlohmann_json)
add_dependencies(clients_cli_e2e_test c2c)
