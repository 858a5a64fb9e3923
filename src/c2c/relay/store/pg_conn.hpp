#pragma once
// The PostgreSQL backend's connection layer: libpq, loaded with dlopen the first time a
// postgres store is opened, so the relay binary needs libpq only when that backend is used (the
// portable release binary links nothing but glibc dynamically; docs/deploying.md). Statements go
// out with binary parameters and come back in binary format: no quoting, no escaping, and bytes
// (content may hold any byte, NUL included) travel as bytea.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "c2c/core/result.hpp"

struct pg_conn;
struct pg_result;

namespace c2c::relay::pg {

// The connection URL with any password removed (postgresql://user:secret@host/db ->
// postgresql://user@host/db; password=... in a key/value string or a query parameter is
// dropped): what startup lines and errors may show.
std::string redact_url(std::string_view url);

// Binary statement parameters, in order.
class Params {
 public:
  Params& text(std::string_view s);
  Params& bytes(std::string_view s);  // bytea
  Params& f64(double v);
  Params& i64(int64_t v);

  int size() const { return static_cast<int>(values_.size()); }
  const unsigned* types() const { return types_.data(); }
  std::vector<const char*> values() const;
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<std::string> values_;
  std::vector<unsigned> types_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// A statement's rows (binary format). Columns are read by the type the statement selected.
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* res);
  ~Rows();
  Rows(Rows&& other) noexcept;
  Rows& operator=(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;

  int size() const;
  bool null(int row, int col) const;
  std::string text(int row, int col) const;  // text or bytea
  double f64(int row, int col) const;
  int64_t i64(int row, int col) const;
  bool boolean(int row, int col) const;
  int64_t affected() const;  // rows an INSERT/UPDATE/DELETE touched
  pg_result* handle() const { return res_; }

 private:
  pg_result* res_ = nullptr;
};

// One libpq connection. Not thread-safe: the pool hands it to one thread at a time.
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const std::string& url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Result<Rows> exec(std::string_view sql, const Params& params = {});
  // Several statements without parameters (schema scripts, BEGIN/COMMIT).
  Result<void> run(std::string_view sql);
  bool broken() const;  // the server went away: the pool drops it
  int socket() const;
  // Reads what arrived on the socket and returns the payloads of NOTIFY messages received.
  Result<std::vector<std::string>> notifications();

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  Error error(std::string_view what) const;
  Result<void> check(pg_result* res) const;  // the statement's error, if it failed
  pg_conn* conn_;
  // Statement text and parameter types -> the name it was prepared under on this connection.
  std::unordered_map<std::string, std::string> prepared_;
};

// Connections for one database URL, opened on demand and reused. A broken connection is dropped
// when it is handed back, so requests after a PostgreSQL restart open fresh ones.
class Pool {
 public:
  explicit Pool(std::string url) : url_(std::move(url)) {}
  Result<std::unique_ptr<Connection>> take();
  void give_back(std::unique_ptr<Connection> conn);
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace c2c::relay::pg
