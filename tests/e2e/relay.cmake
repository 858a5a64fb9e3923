# End-to-end tests of the `c2c relay` client commands (owner: connector): CLI transcripts in a
# temporary HOME, the quickstart as a script, and scripts/onboarding-smoke-test.sh.
c2c_add_test(NAME relay_cli_e2e_test LABELS e2e
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/relay_cli_test.cpp
             LIBS nlohmann_json::nlohmann_json)
foreach(script relay_quickstart relay_onboarding_smoke)
  add_test(NAME e2e_${script} COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${script}.sh)
  set_tests_properties(e2e_${script} PROPERTIES LABELS e2e TIMEOUT 240
                       ENVIRONMENT "C2C_BIN=$<TARGET_FILE:c2c>")
endforeach()
