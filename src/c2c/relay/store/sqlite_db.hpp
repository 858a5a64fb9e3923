#pragma once
// Thin RAII wrappers over the SQLite C API for the relay store: one connection, prepared
// statements, errors as Result values carrying SQLite's own message.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "c2c/core/result.hpp"

namespace c2c::relay::sql {

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Parameters are 1-based. Text is NOT copied: it must outlive the next step().
  Stmt& bind(int i, std::string_view text);
  Stmt& bind(int i, double value);
  Stmt& bind_int(int i, int64_t value);

  // true: a row is available; false: done. Resets the statement when done or on error.
  Result<bool> step();
  // Runs to completion (for statements that return no rows) and resets for reuse.
  Result<void> run();
  void reset();

  std::string text(int col) const;
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  // Opens (creating if missing) the database file. `path` is used in error messages.
  static Result<Db> open(const std::string& path);
  Db() = default;
  ~Db() { sqlite3_close(db_); }
  Db(Db&& o) noexcept : db_(o.db_), path_(std::move(o.path_)) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Result<void> exec(const std::string& sql);
  Result<Stmt> prepare(std::string_view sql);
  // A single-row, single-column query as text ("" if no row).
  Result<std::string> query_text(std::string_view sql);
  void set_busy_timeout_ms(int ms) { sqlite3_busy_timeout(db_, ms); }

  // "<what> <path>: <sqlite message>"
  Error error(std::string_view what) const;
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace c2c::relay::sql
