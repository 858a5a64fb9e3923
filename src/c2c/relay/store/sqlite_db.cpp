#include "c2c/relay/store/sqlite_db.hpp"

#include <utility>

namespace c2c::relay::sql {

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = std::exchange(o.stmt_, nullptr);
  }
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view text) {
  // A null pointer would bind SQL NULL; an empty string must stay an empty string.
  sqlite3_bind_text(stmt_, i, text.empty() ? "" : text.data(), static_cast<int>(text.size()),
                    SQLITE_STATIC);
  return *this;
}

Stmt& Stmt::bind(int i, double value) {
  sqlite3_bind_double(stmt_, i, value);
  return *this;
}

Stmt& Stmt::bind_int(int i, int64_t value) {
  sqlite3_bind_int64(stmt_, i, value);
  return *this;
}

Result<bool> Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    reset();
    return false;
  }
  std::string msg = sqlite3_errmsg(db_);
  reset();
  return fail(ErrorCode::kIo, "sqlite: " + msg);
}

Result<void> Stmt::run() {
  for (;;) {
    auto r = step();
    if (!r) return Unexpected{r.error()};
    if (!r.value()) return {};
  }
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Stmt::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (p == nullptr) return {};
  return std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    sqlite3_close(db_);
    db_ = std::exchange(o.db_, nullptr);
    path_ = std::move(o.path_);
  }
  return *this;
}

Result<Db> Db::open(const std::string& path) {
  Db db;
  db.path_ = path;
  // NOMUTEX: the connection is used by one thread at a time (the opener, then the writer).
  const int rc =
      sqlite3_open_v2(path.c_str(), &db.db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return fail(ErrorCode::kIo,
                "cannot open relay database " + path + ": " +
                    (db.db_ != nullptr ? sqlite3_errmsg(db.db_) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(db.db_, 1);
  return db;
}

Result<void> Db::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return fail(ErrorCode::kIo, "sqlite: " + msg);
  }
  return {};
}

Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    return fail(ErrorCode::kIo, "sqlite: " + std::string(sqlite3_errmsg(db_)));
  }
  return Stmt(db_, stmt);
}

Result<std::string> Db::query_text(std::string_view sql) {
  auto stmt = prepare(sql);
  if (!stmt) return Unexpected{stmt.error()};
  auto row = stmt->step();
  if (!row) return Unexpected{row.error()};
  if (!row.value()) return std::string();
  std::string out = stmt->text(0);
  stmt->reset();
  return out;
}

Error Db::error(std::string_view what) const {
  return make_error(ErrorCode::kIo, std::string(what) + " " + path_ + ": " + sqlite3_errmsg(db_));
}

}  // namespace c2c::relay::sql
