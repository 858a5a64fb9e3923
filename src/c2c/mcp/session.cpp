#include "c2c/mcp/session.hpp"

#include <unistd.h>

#include <charconv>
#include <filesystem>

#include "c2c/core/text.hpp"

namespace c2c::mcp {

namespace {

std::string trimmed_env(const EnvLookup& env, const char* name) {
  const auto v = env(name);
  return v ? std::string(trim(*v)) : std::string();
}

bool is_false_word(std::string_view v) {
  const std::string f = casefold(trim(v));
  return f == "0" || f == "false" || f == "no" || f == "off";
}

std::optional<long long> parse_pid(std::string_view s) {
  long long v = 0;
  s = trim(s);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::vector<const char*> session_variables(const std::string& client_type) {
  // A client's own variable is inherited by every process it starts (another client run from
  // its shell tool included), so with a known client type only that client's variable counts.
  if (client_type == "claude") {
    return {"C2C_MCP_SESSION_ID", "CLAUDE_SESSION_ID", "CLAUDE_CODE_SESSION_ID"};
  }
  if (client_type == "codex") return {"C2C_MCP_SESSION_ID", "CODEX_THREAD_ID"};
  if (!client_type.empty()) return {"C2C_MCP_SESSION_ID"};
  return {"C2C_MCP_SESSION_ID", "CLAUDE_SESSION_ID", "CLAUDE_CODE_SESSION_ID", "CODEX_THREAD_ID"};
}

SessionConfig SessionConfig::from_env(const EnvLookup& env) {
  SessionConfig c;
  c.client_pid = trimmed_env(env, "C2C_MCP_CLIENT_PID");
  c.client_type = trimmed_env(env, "C2C_MCP_CLIENT_TYPE");
  for (const char* name : session_variables(c.client_type)) {
    std::string v = trimmed_env(env, name);
    if (!v.empty()) {
      c.env_session_id = std::move(v);
      break;
    }
  }
  // Installed by `c2c install <client>` for a client without a session variable of its own:
  // one session per running client process, so two agents never share an inbox
  // (docs/mcp.md "Environment").
  if (!c.env_session_id && !c.client_type.empty() && is_safe_file_component(c.client_type)) {
    c.env_session_id = c.client_type + "-" + std::to_string(registration_pid(c.client_pid));
  }
  c.auto_register_alias = trimmed_env(env, "C2C_MCP_AUTO_REGISTER_ALIAS");
  for (const auto& part : split(trimmed_env(env, "C2C_MCP_AUTO_JOIN_ROOMS"), ',')) {
    const std::string room(trim(part));
    if (is_valid_room_id(room)) c.auto_join_rooms.push_back(room);
  }
  if (const auto v = env("C2C_MCP_CHANNEL_DELIVERY")) c.channel_delivery = !is_false_word(*v);
  return c;
}

bool pid_exists(long long pid) {
  if (pid <= 0) return false;
  std::error_code ec;
  return std::filesystem::exists("/proc/" + std::to_string(pid), ec);
}

long long registration_pid(const std::string& client_pid) {
  if (const auto pid = parse_pid(client_pid)) {
    if (*pid == 0) return static_cast<long long>(::getpid());
    if (pid_exists(*pid)) return *pid;
  }
  return static_cast<long long>(::getppid());
}

std::optional<std::string> SessionState::get() const {
  std::lock_guard lock(mu_);
  return sid_;
}

void SessionState::bind(std::string session_id) {
  std::function<void()> callback;
  {
    std::lock_guard lock(mu_);
    if (sid_ == session_id) return;
    sid_ = std::move(session_id);
    callback = on_change_;
  }
  if (callback) callback();
}

void SessionState::on_change(std::function<void()> callback) {
  std::lock_guard lock(mu_);
  on_change_ = std::move(callback);
}

std::optional<std::string> suggest_free_alias(broker::Broker& broker, const std::string& alias) {
  const std::string base = casefold(alias);
  for (int p : {2, 3, 5, 7, 11}) {
    std::string candidate = base + "-" + std::to_string(p);
    if (!is_valid_alias(candidate)) return std::nullopt;
    const auto holder = broker.find_alias(candidate);
    if (!holder) return std::nullopt;
    if (!holder->has_value() || broker.liveness(**holder) == broker::Liveness::kDead) {
      return candidate;
    }
  }
  return std::nullopt;
}

namespace {

bool alive(broker::Broker& broker, const broker::Registration& reg) {
  return reg.pid.has_value() && broker.liveness(reg) == broker::Liveness::kAlive;
}

// The original c2c's auto-register guards; returns why registering must be skipped. Its "same
// pid, other session" guard is not kept: one client process may host several agents (an
// orchestrator, a test harness), each with its own session and alias.
std::optional<std::string> auto_register_blocked(broker::Broker& broker, const std::string& sid,
                                                 const std::string& alias, long long pid) {
  const auto regs = broker.registrations();
  if (!regs) return "cannot read the registry: " + regs.error().message;
  for (const auto& r : *regs) {
    if (!alive(broker, r)) continue;
    if (r.session_id == sid && !iequals(r.alias, alias)) {
      return "session " + sid + " is already registered as '" + r.alias +
             "' by a live process; not renaming it (call the register tool to rename)";
    }
    if (r.session_id == sid && *r.pid != pid) {
      return "session " + sid + " is already served by live pid " + std::to_string(*r.pid);
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> auto_register_and_join(broker::Broker& broker, const SessionConfig& config,
                                                SessionState& session) {
  std::vector<std::string> log;
  const std::string& alias = config.auto_register_alias;
  if (!alias.empty()) {
    // No env id: the alias doubles as the session id (docs/mcp.md), so a restarted server
    // finds the same inbox.
    const std::string sid = config.env_session_id.value_or(alias);
    if (!session.get()) session.bind(sid);
    const long long pid = registration_pid(config.client_pid);
    if (const auto why = auto_register_blocked(broker, sid, alias, pid)) {
      log.push_back("auto-register of '" + alias + "' skipped: " + *why);
    } else {
      broker::RegisterRequest req{sid, alias, pid, config.client_type, "", true};
      auto reg = broker.register_session(req);
      if (!reg && reg.error().code == ErrorCode::kAliasConflict) {
        // The holder is this same client process under an older session (e.g. the client
        // restarted its conversation): taking the alias over is what the original c2c does.
        const auto holder = broker.find_alias(alias);
        if (holder && holder->has_value() && (*holder)->pid == pid) {
          req.guard_alias = false;
          reg = broker.register_session(req);
        }
      }
      if (reg) {
        std::string line = "registered '" + reg->registration.alias + "' (session " + sid +
                           ", pid " + std::to_string(pid) + ")";
        if (reg->redelivered_dead_letters > 0) {
          line += ", redelivered " + std::to_string(reg->redelivered_dead_letters) +
                  " dead-letter message(s)";
        }
        log.push_back(line);
      } else {
        log.push_back("auto-register of '" + alias + "' failed: " + reg.error().message);
      }
    }
  }
  if (config.auto_join_rooms.empty()) return log;
  const auto sid = session.get();
  if (!sid) {
    log.emplace_back("auto-join skipped: no session id (set C2C_MCP_SESSION_ID)");
    return log;
  }
  std::string member = alias;
  if (const auto reg = broker.find_session(*sid); reg && reg->has_value()) {
    member = (*reg)->alias;
  }
  if (member.empty()) {
    log.push_back("auto-join skipped: session " + *sid + " has no alias");
    return log;
  }
  for (const auto& room : config.auto_join_rooms) {
    const auto joined = broker.join_room(room, member, *sid, 0);
    log.push_back(joined ? "joined room " + room + " as '" + member + "'"
                         : "auto-join of room " + room + " failed: " + joined.error().message);
  }
  return log;
}

}  // namespace c2c::mcp
