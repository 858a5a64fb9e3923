#include "c2c/relay/store/pg_conn.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <libpq-fe.h>

#include <cstring>

namespace c2c::relay::pg {

namespace {

// libpq's entry points, resolved once from libpq.so.5 (Debian's libpq5).
struct Api {
  decltype(&::PQconnectdb) connectdb;
  decltype(&::PQstatus) status;
  decltype(&::PQerrorMessage) error_message;
  decltype(&::PQfinish) finish;
  decltype(&::PQexecParams) exec_params;
  decltype(&::PQprepare) prepare;
  decltype(&::PQexecPrepared) exec_prepared;
  decltype(&::PQexec) exec;
  decltype(&::PQresultStatus) result_status;
  decltype(&::PQresultErrorMessage) result_error_message;
  decltype(&::PQresultErrorField) result_error_field;
  decltype(&::PQntuples) ntuples;
  decltype(&::PQgetvalue) getvalue;
  decltype(&::PQgetlength) getlength;
  decltype(&::PQgetisnull) getisnull;
  decltype(&::PQcmdTuples) cmd_tuples;
  decltype(&::PQclear) clear;
  decltype(&::PQsocket) socket;
  decltype(&::PQconsumeInput) consume_input;
  decltype(&::PQnotifies) notifies;
  decltype(&::PQfreemem) freemem;
  decltype(&::PQsetNoticeProcessor) set_notice_processor;
};

Result<const Api*> api() {
  static std::once_flag once;
  static Api table{};
  static std::string load_error;
  std::call_once(once, [] {
    void* lib = ::dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = ::dlerror();
      load_error = std::string("cannot load libpq (install Debian's libpq5): ") +
                   (why != nullptr ? why : "dlopen failed");
      return;
    }
    bool ok = true;
    auto bind = [&](auto& slot, const char* name) {
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(::dlsym(lib, name));
      if (slot == nullptr) {
        ok = false;
        load_error = std::string("libpq.so.5 lacks ") + name;
      }
    };
    bind(table.connectdb, "PQconnectdb");
    bind(table.status, "PQstatus");
    bind(table.error_message, "PQerrorMessage");
    bind(table.finish, "PQfinish");
    bind(table.exec_params, "PQexecParams");
    bind(table.prepare, "PQprepare");
    bind(table.exec_prepared, "PQexecPrepared");
    bind(table.exec, "PQexec");
    bind(table.result_status, "PQresultStatus");
    bind(table.result_error_message, "PQresultErrorMessage");
    bind(table.result_error_field, "PQresultErrorField");
    bind(table.ntuples, "PQntuples");
    bind(table.getvalue, "PQgetvalue");
    bind(table.getlength, "PQgetlength");
    bind(table.getisnull, "PQgetisnull");
    bind(table.cmd_tuples, "PQcmdTuples");
    bind(table.clear, "PQclear");
    bind(table.socket, "PQsocket");
    bind(table.consume_input, "PQconsumeInput");
    bind(table.notifies, "PQnotifies");
    bind(table.freemem, "PQfreemem");
    bind(table.set_notice_processor, "PQsetNoticeProcessor");
    if (ok) load_error.clear();
  });
  if (!load_error.empty() || table.connectdb == nullptr) {
    return fail(ErrorCode::kStorageUnavailable,
                load_error.empty() ? std::string("libpq is not loaded") : load_error);
  }
  return &table;
}

const Api& pq() {
  return *api().value();
}  // only once a connection exists

// Type OIDs of PostgreSQL's built-in types (pg_type.dat).
constexpr unsigned kBool = 16, kBytea = 17, kInt8 = 20, kText = 25, kFloat8 = 701;

uint64_t to_network(uint64_t v) {
  return (static_cast<uint64_t>(htonl(static_cast<uint32_t>(v))) << 32) |
         htonl(static_cast<uint32_t>(v >> 32));
}

void quiet_notices(void*, const char*) {}  // "relation already exists, skipping" and the like

std::string first_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string redact_url(std::string_view url) {
  std::string out(url);
  // URI form: scheme://user:password@host...
  if (const auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto at = out.find('@', start);
    const auto slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const auto colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.erase(colon, at - colon);
    }
  }
  // password=... as a query parameter (?password=x&...) or a key/value pair (password=x ...).
  for (size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos)) {
    const bool starts_word =
        pos == 0 || out[pos - 1] == '?' || out[pos - 1] == '&' || out[pos - 1] == ' ';
    if (!starts_word) {
      pos += 9;
      continue;
    }
    size_t end = out.find_first_of("& ", pos);
    if (end == std::string::npos) end = out.size();
    size_t from = pos;
    if (end < out.size()) {
      ++end;  // the separator after it
    } else if (from > 0 && (out[from - 1] == '&' || out[from - 1] == ' ')) {
      --from;  // the separator before it
    }
    out.erase(from, end - from);
    pos = from;
  }
  if (!out.empty() && (out.back() == '?')) out.pop_back();
  return out;
}

Params& Params::text(std::string_view s) {
  values_.emplace_back(s);
  types_.push_back(kText);
  lengths_.push_back(static_cast<int>(s.size()));
  formats_.push_back(1);
  return *this;
}

Params& Params::bytes(std::string_view s) {
  text(s);
  types_.back() = kBytea;
  return *this;
}

Params& Params::f64(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  bits = to_network(bits);
  values_.emplace_back(reinterpret_cast<const char*>(&bits), sizeof bits);
  types_.push_back(kFloat8);
  lengths_.push_back(sizeof bits);
  formats_.push_back(1);
  return *this;
}

Params& Params::i64(int64_t v) {
  const uint64_t bits = to_network(static_cast<uint64_t>(v));
  values_.emplace_back(reinterpret_cast<const char*>(&bits), sizeof bits);
  types_.push_back(kInt8);
  lengths_.push_back(sizeof bits);
  formats_.push_back(1);
  return *this;
}

std::vector<const char*> Params::values() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v.data());
  return out;
}

Rows::Rows(pg_result* res) : res_(res) {}
Rows::~Rows() {
  if (res_ != nullptr) pq().clear(res_);
}
Rows::Rows(Rows&& other) noexcept : res_(other.res_) {
  other.res_ = nullptr;
}
Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    if (res_ != nullptr) pq().clear(res_);
    res_ = other.res_;
    other.res_ = nullptr;
  }
  return *this;
}

int Rows::size() const {
  return res_ == nullptr ? 0 : pq().ntuples(res_);
}
bool Rows::null(int row, int col) const {
  return pq().getisnull(res_, row, col) != 0;
}
std::string Rows::text(int row, int col) const {
  return {pq().getvalue(res_, row, col), static_cast<size_t>(pq().getlength(res_, row, col))};
}
double Rows::f64(int row, int col) const {
  if (null(row, col)) return 0;
  uint64_t bits = 0;
  std::memcpy(&bits, pq().getvalue(res_, row, col), sizeof bits);
  bits = to_network(bits);
  double v = 0;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
int64_t Rows::i64(int row, int col) const {
  if (null(row, col)) return 0;
  uint64_t bits = 0;
  std::memcpy(&bits, pq().getvalue(res_, row, col), sizeof bits);
  return static_cast<int64_t>(to_network(bits));
}
bool Rows::boolean(int row, int col) const {
  return !null(row, col) && *pq().getvalue(res_, row, col) != 0;
}
int64_t Rows::affected() const {
  const char* n = res_ == nullptr ? "" : pq().cmd_tuples(res_);
  return n == nullptr || *n == 0 ? 0 : std::stoll(n);
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& url) {
  auto lib = api();
  if (!lib) return Unexpected{lib.error()};
  pg_conn* conn = lib.value()->connectdb(url.c_str());
  if (conn == nullptr) return fail(ErrorCode::kStorageUnavailable, "libpq: out of memory");
  if (lib.value()->status(conn) != CONNECTION_OK) {
    std::string why = first_line(lib.value()->error_message(conn));
    lib.value()->finish(conn);
    return fail(ErrorCode::kStorageUnavailable,
                "cannot connect to PostgreSQL at " + redact_url(url) + ": " + why);
  }
  lib.value()->set_notice_processor(conn, quiet_notices, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() {
  pq().finish(conn_);
}

Error Connection::error(std::string_view what) const {
  return Error{ErrorCode::kStorageUnavailable,
               "PostgreSQL " + std::string(what) + ": " + first_line(pq().error_message(conn_))};
}

Result<void> Connection::check(pg_result* res) const {
  if (res == nullptr) return Unexpected{error("statement failed")};
  const auto status = pq().result_status(res);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
  const char* state = pq().result_error_field(res, PG_DIAG_SQLSTATE);
  return fail(ErrorCode::kStorageUnavailable,
              "PostgreSQL error " + std::string(state != nullptr ? state : "?") + ": " +
                  first_line(pq().result_error_message(res)));
}

Result<Rows> Connection::exec(std::string_view sql, const Params& params) {
  // Each statement is parsed and planned once per connection, then executed by name: the relay
  // runs the same few statements over and over, and planning was a large share of their cost.
  std::string key(sql);
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(params.types()),
             params.size() * sizeof(*params.types()));
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    const std::string name = "c2c_" + std::to_string(prepared_.size());
    const std::string statement(sql);
    Rows made(pq().prepare(conn_, name.c_str(), statement.c_str(), params.size(), params.types()));
    C2C_TRY(check(made.handle()));
    it = prepared_.emplace(std::move(key), name).first;
  }
  const auto values = params.values();
  pg_result* res = pq().exec_prepared(conn_, it->second.c_str(), params.size(), values.data(),
                                      params.lengths(), params.formats(), /*resultFormat=*/1);
  Rows rows(res);
  C2C_TRY(check(res));
  return rows;
}

Result<void> Connection::run(std::string_view sql) {
  const std::string script(sql);
  Rows rows(pq().exec(conn_, script.c_str()));  // the last statement's result
  return check(rows.handle());
}

bool Connection::broken() const {
  return pq().status(conn_) != CONNECTION_OK;
}
int Connection::socket() const {
  return pq().socket(conn_);
}

Result<std::vector<std::string>> Connection::notifications() {
  if (pq().consume_input(conn_) == 0) return Unexpected{error("connection lost")};
  std::vector<std::string> out;
  while (PGnotify* n = pq().notifies(conn_)) {
    out.emplace_back(n->extra != nullptr ? n->extra : "");
    pq().freemem(n);
  }
  return out;
}

Result<std::unique_ptr<Connection>> Pool::take() {
  {
    const std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
  }
  return Connection::open(url_);
}

void Pool::give_back(std::unique_ptr<Connection> conn) {
  if (conn == nullptr || conn->broken()) return;
  const std::lock_guard lock(mu_);
  idle_.push_back(std::move(conn));
}

}  // namespace c2c::relay::pg
