#include "support/pg_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace c2c::test {

namespace fs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;

std::string find_bindir() {
  std::error_code ec;
  if (fs::exists("/usr/lib/postgresql/15/bin/pg_ctl", ec)) return "/usr/lib/postgresql/15/bin";
  if (fs::exists("/usr/lib/postgresql", ec)) {
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
      if (fs::exists(e.path() / "bin" / "pg_ctl", ec)) return (e.path() / "bin").string();
    }
  }
  return "";
}

// As root, the server's tools run as nobody (PostgreSQL refuses to run as root).
std::vector<std::string> as_server_user(std::vector<std::string> argv) {
  if (::geteuid() != 0) return argv;
  std::vector<std::string> out = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                  "--clear-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

ProcessOptions quiet_options() {
  ProcessOptions o;
  o.timeout = std::chrono::milliseconds(120'000);
  o.cwd = "/";
  return o;
}

}  // namespace

std::unique_ptr<PgServer> PgServer::start(std::string* why) {
  std::unique_ptr<PgServer> pg(new PgServer);
  pg->bindir_ = find_bindir();
  if (pg->bindir_.empty()) {
    *why =
        "PostgreSQL server binaries not found (Debian's postgresql-15: /usr/lib/postgresql/15/bin)";
    return nullptr;
  }
  // Under /tmp, not $TMPDIR: the server runs as nobody when started by root, and nobody can
  // always reach /tmp (a private $TMPDIR may sit where it cannot).
  std::string pattern = "/tmp/c2c-pg-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    *why = "mkdtemp failed";
    return nullptr;
  }
  pg->dir_ = pattern;
  if (::geteuid() == 0 && ::chown(pg->dir_.c_str(), kNobody, kNobody) != 0) {
    *why = "cannot hand " + pg->dir_ + " to nobody";
    return nullptr;
  }
  auto init =
      run(as_server_user({pg->bindir_ + "/initdb", "-D", pg->dir_ + "/data", "-U", "c2c", "-A",
                          "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"}),
          quiet_options());
  if (init.exit_code != 0) {
    *why = "initdb failed: " + init.err;
    return nullptr;
  }
  if (!pg->ctl("start")) {
    *why = "pg_ctl start failed; log: " + read_file(pg->dir_ + "/log");
    return nullptr;
  }
  return pg;
}

bool PgServer::ctl(const std::string& action) {
  std::vector<std::string> argv = {bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-w", "-t", "60"};
  if (action == "start") {
    // Only the Unix socket in dir_; fsync off: test data need not survive a machine crash
    // (a fast shutdown still writes everything committed).
    argv.insert(argv.end(),
                {"-l", dir_ + "/log", "-o", "-k " + dir_ + " -c listen_addresses= -c fsync=off"});
  } else {
    argv.insert(argv.end(), {"-m", "fast"});
  }
  argv.push_back(action);
  return run(as_server_user(argv), quiet_options()).exit_code == 0;
}

bool PgServer::stop() {
  return ctl("stop");
}
bool PgServer::start_again() {
  return ctl("start");
}

PgServer::~PgServer() {
  if (owned_ && !dir_.empty()) {
    run(as_server_user({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "stop"}),
        quiet_options());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string PgServer::url(const std::string& database) const {
  return "postgresql://c2c@/" + database + "?host=" + dir_;
}

std::string PgServer::create_database() {
  const std::string name =
      "c2c_test_" + std::to_string(::getpid()) + "_" + std::to_string(++databases_);
  auto made = run({bindir_ + "/createdb", "-h", dir_, "-U", "c2c", name}, quiet_options());
  if (made.exit_code != 0) return "";
  return url(name);
}

std::unique_ptr<PgServer> PgServer::attach(const std::string& dir) {
  // The fixture's server lives where dir/server says (under /tmp: see pg_fixture.sh).
  std::string server = read_file(fs::path(dir) / "server");
  while (!server.empty() && (server.back() == '\n' || server.back() == ' ')) server.pop_back();
  std::error_code ec;
  if (server.empty() || !fs::exists(fs::path(server) / "data" / "postmaster.pid", ec)) {
    return nullptr;
  }
  std::unique_ptr<PgServer> pg(new PgServer);
  pg->bindir_ = find_bindir();
  pg->dir_ = server;
  pg->owned_ = false;
  return pg->bindir_.empty() ? nullptr : std::move(pg);
}

PgServer* shared_pg_server(std::string* why) {
  static std::once_flag once;
  static std::unique_ptr<PgServer> server;
  static std::string reason;
  std::call_once(once, [] {
#ifdef C2C_PG_FIXTURE_DIR
    // Under ctest, the fixture's server (tests/support/pg_fixture.sh); else a private one.
    server = PgServer::attach(C2C_PG_FIXTURE_DIR);
    if (server != nullptr) return;
#endif
    server = PgServer::start(&reason);
    if (server == nullptr) std::cerr << pg_skip_message(reason) << "\n";
  });
  *why = reason;
  return server.get();
}

std::string pg_skip_message(const std::string& why) {
  return "########## PostgreSQL tests SKIPPED: " + why +
         " (scripts/install-deps.sh installs postgresql-15) ##########";
}

}  // namespace c2c::test
