#pragma once
// A private PostgreSQL server for tests: initdb + pg_ctl in a fresh directory under $TMPDIR,
// listening only on a Unix socket in that directory (no TCP port at all), stopped and removed
// when the object dies. As root, the server runs as `nobody` (PostgreSQL refuses root).
// The server binaries come from Debian's postgresql-15 (scripts/install-deps.sh installs it);
// without them start() returns nullptr with the reason, and tests skip loudly.
#include <memory>
#include <string>

namespace c2c::test {

class PgServer {
 public:
  // nullptr (and *why) when the server binaries are missing or the server does not start.
  static std::unique_ptr<PgServer> start(std::string* why);
  // The server the ctest fixture c2c_pg runs in `dir`, if it runs (not stopped at the end).
  static std::unique_ptr<PgServer> attach(const std::string& dir);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // A new empty database; returns its libpq URL (postgresql://c2c@/NAME?host=<socket dir>).
  std::string create_database();
  std::string url(const std::string& database) const;
  // pg_ctl stop (fast shutdown: committed work is kept) and start again; both wait until done.
  bool stop();
  bool start_again();

 private:
  PgServer() = default;
  bool ctl(const std::string& action);
  std::string bindir_;
  std::string dir_;  // data in dir_/data, socket and log in dir_
  int databases_ = 0;
  bool owned_ = true;
};

// One server per test process, started on first use; nullptr (and *why) as start().
PgServer* shared_pg_server(std::string* why);

// The message tests print when they skip for lack of a server.
std::string pg_skip_message(const std::string& why);

}  // namespace c2c::test
