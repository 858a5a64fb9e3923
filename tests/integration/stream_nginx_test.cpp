// The receive stream through nginx as a plain HTTP reverse proxy in front of the relay, with
// nginx's read timeout shorter than the idle period: the stream must keep working across it and
// deliver at once after it, both when the connector's --stream-wait stays under
// proxy_read_timeout and when a long-poll outlasts it because the relay keeps it alive with
// spaces (relay serve --stream-keepalive).
// nginx runs unprivileged-style in the foreground with its own prefix and config on a free port;
// without nginx the test is skipped loudly (scripts/install-deps.sh installs it).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "connector_util.hpp"
#include "support/ports.hpp"

namespace c2c::test::connector {
namespace {

using namespace std::chrono_literals;

// relay_flags: extra `relay serve` flags; stream_wait: the connectors' --stream-wait ("" for
// their default). A long-poll that nginx cut (504) would show as "reconnecting".
void stream_through_nginx(const std::vector<std::string>& relay_flags,
                          const std::string& stream_wait) {
  const std::string nginx =
      find_executable({"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"});
  if (nginx.empty()) {
    GTEST_SKIP() << "SKIPPED LOUDLY: nginx is not installed (apt-get install nginx, or "
                    "scripts/install-deps.sh); the reverse-proxy test did not run";
  }
  constexpr const char* kToken = "nginx-token";
  ProcessOptions relay_env;
  relay_env.unset_env = {"C2C_RELAY_TOKEN", "C2C_RELAY_PERSIST_DIR"};
  // nginx's port is chosen first: the relay names it as its public URL, as a relay behind a
  // reverse proxy must (signed registrations name the URL the client used).
  const uint16_t port = free_port();
  const std::string front = "http://127.0.0.1:" + std::to_string(port);
  std::vector<std::string> flags = {"--token", kToken,         "--rate-limit",
                                    "off",     "--public-url", front};
  flags.insert(flags.end(), relay_flags.begin(), relay_flags.end());
  auto relay = start_relay(flags, relay_env);
  ASSERT_FALSE(relay.url.empty());

  TempDir dir("c2c-nginx");
  for (const char* sub : {"logs", "tmp"}) std::filesystem::create_directories(dir / sub);
  {
    std::ofstream conf(dir / "nginx.conf");
    if (::geteuid() == 0) conf << "user root;\n";  // workers must reach the private temp dir
    conf << "worker_processes 1;\n"
         << "error_log " << (dir / "logs" / "error.log").string() << " warn;\n"
         << "pid " << (dir / "nginx.pid").string() << ";\n"
         << "events { worker_connections 256; }\n"
         << "http {\n"
         << "  access_log off;\n";
    for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
      conf << "  " << t << "_temp_path " << (dir / "tmp" / t).string() << ";\n";
    }
    conf << "  server {\n"
         << "    listen 127.0.0.1:" << port << ";\n"
         << "    location / {\n"
         << "      proxy_pass http://127.0.0.1:" << port_of(relay.url) << ";\n"
         << "      proxy_http_version 1.1;\n"
         << "      proxy_set_header Connection \"\";\n"
         << "      proxy_set_header Host $http_host;\n"
         // Shorter than the idle period below: a stream that waited longer would get a 504.
         << "      proxy_read_timeout 4s;\n"
         << "    }\n"
         << "  }\n"
         << "}\n";
  }
  Child proxy({nginx, "-p", dir.str(), "-c", (dir / "nginx.conf").string(), "-g", "daemon off;"});
  // nginx is stopped by SIGTERM to its master, which takes its workers down with it (a killed
  // master would leave them running, holding the test's output pipes open).
  struct StopNginx {
    Child& master;
    ~StopNginx() {
      master.signal(SIGTERM);
      master.wait(10s);
    }
  } stop_nginx{proxy};
  ASSERT_TRUE(eventually([&] { return can_connect(port); }, 10s)) << proxy.err();

  Machine a{"machine-a"};
  Machine b{"machine-b"};
  a.add_session("alice", "ses-a");
  b.add_session("bob", "ses-b");
  ASSERT_EQ(a.connect_once(front, kToken).exit_code, 0);
  ASSERT_EQ(b.connect_once(front, kToken).exit_code, 0);
  auto loop = [&](const Machine& m) {
    auto args = m.connect_args(front, kToken);
    args.insert(args.end(), {"--interval", "30", "--verbose"});
    if (!stream_wait.empty()) args.insert(args.end(), {"--stream-wait", stream_wait});
    return std::make_unique<Child>(m.argv(args), m.options());
  };
  auto ca = loop(a);
  auto cb = loop(b);
  ASSERT_TRUE(
      cb->wait_for_line([](const std::string& l) { return contains(l, "stream: open"); }, 20s))
      << cb->out() << cb->err();

  auto sender = a.broker();
  ASSERT_TRUE(sender.send("alice", "bob@machine-b", "through nginx").has_value());
  ASSERT_TRUE(eventually([&] { return b.inbox("ses-b").size() == 1; }, 10s)) << cb->out();

  // An idle period longer than nginx's read timeout: either the long-polls (2 s) re-poll under
  // it, or one long-poll waits through it on the relay's keep-alive spaces. Either way the
  // stream never breaks, and the next message still arrives at once.
  std::this_thread::sleep_for(6s);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(sender.send("alice", "bob@machine-b", "after the idle period").has_value());
  ASSERT_TRUE(eventually([&] { return b.inbox("ses-b").size() == 2; }, 10s)) << cb->out();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s) << "came through the stream";
  EXPECT_FALSE(contains(cb->out(), "reconnecting")) << cb->out();
  EXPECT_EQ(b.inbox("ses-b")[1].from_alias, "alice@machine-a");
}

TEST(StreamNginx, StreamWorksThroughAReverseProxyAcrossIdlePeriods) {
  stream_through_nginx({"--stream-keepalive", "0"}, "2");
}

// The relay writes a space every 0.5 s to a waiting long-poll; the connectors, seeing
// "keepalive" in its frames, wait 20 s per long-poll: five times nginx's read timeout.
TEST(StreamNginx, KeepAliveSpacesCarryALongPollPastTheProxysReadTimeout) {
  stream_through_nginx({"--stream-keepalive", "0.5"}, "20");
}

}  // namespace
}  // namespace c2c::test::connector
