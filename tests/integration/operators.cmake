# Operator tests (owner: operators): the managed connector (--daemon, --status, --stop), the
# systemd units (checked with systemd-analyze verify when it is installed).
c2c_add_test(NAME connector_daemon_integration_test LABELS integration
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/connector_daemon_test.cpp
             LIBS c2c_broker nlohmann_json::nlohmann_json)
# The release binary in a root holding only glibc (skips, saying why, without a release build
# or without the privileges for chroot).
c2c_add_test(NAME portable_binary_test LABELS integration
             SOURCES ${CMAKE_CURRENT_LIST_DIR}/portable_test.cpp
             LIBS c2c_broker nlohmann_json::nlohmann_json)
