#include "c2c/core/service_unit.hpp"

#include <gtest/gtest.h>

namespace c2c {
namespace {

TEST(ServiceUnit, QuotesOnlyWhatSystemdWouldSplitOrExpand) {
  EXPECT_EQ(systemd_quote("/usr/bin/c2c"), "/usr/bin/c2c");
  EXPECT_EQ(systemd_quote("--relay-url"), "--relay-url");
  EXPECT_EQ(systemd_quote("/home/a b/root"), "\"/home/a b/root\"");
  EXPECT_EQ(systemd_quote("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(systemd_quote("100%"), "100%%");
  EXPECT_EQ(systemd_quote("$HOME"), "$$HOME");
  EXPECT_EQ(systemd_quote(""), "\"\"");
  EXPECT_EQ(systemd_quote("a\nb"), "\"a\\x0ab\"");
}

TEST(ServiceUnit, RendersSectionsInOrder) {
  ServiceUnit u;
  u.comments = {"hello"};
  u.description = "c2c test";
  u.unit = {{"After", "network-online.target"}};
  u.exec = {"/bin/c2c", "relay", "serve", "--db-path", "/var/lib/c2c/a b.db"};
  u.exec_raw = {"--token-file", "${CREDENTIALS_DIRECTORY}/relay-token"};
  u.service = {{"Restart", "on-failure"}};
  u.wanted_by = "multi-user.target";
  EXPECT_EQ(render_unit(u),
            "# hello\n[Unit]\nDescription=c2c test\nAfter=network-online.target\n\n[Service]\n"
            "ExecStart=/bin/c2c relay serve --db-path \"/var/lib/c2c/a b.db\" --token-file "
            "${CREDENTIALS_DIRECTORY}/relay-token\nRestart=on-failure\n\n[Install]\n"
            "WantedBy=multi-user.target\n");
}

}  // namespace
}  // namespace c2c
