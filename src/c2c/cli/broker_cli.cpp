#include "c2c/cli/broker_cli.hpp"

#include <cstdlib>
#include <iostream>

#include "c2c/core/text.hpp"

namespace c2c::cli {

namespace {
std::string env_trimmed(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(trim(v)) : std::string();
}
}  // namespace

broker::Broker open_broker() {
  return broker::Broker(broker::resolve_root());
}

std::string env_session_id() {
  for (const char* name : {"C2C_MCP_SESSION_ID", "CLAUDE_SESSION_ID", "CODEX_THREAD_ID"}) {
    std::string v = env_trimmed(name);
    if (!v.empty()) return v;
  }
  return "";
}

std::string env_alias() {
  return env_trimmed("C2C_MCP_AUTO_REGISTER_ALIAS");
}

std::string resolve_sender(broker::Broker& b, const std::string& from_flag) {
  if (!from_flag.empty()) return from_flag;
  const std::string sid = env_session_id();
  if (!sid.empty()) {
    auto row = unwrap(b.find_session(sid));
    if (row) return row->alias;
  }
  std::string alias = env_alias();
  if (!alias.empty()) return alias;
  auto regs = unwrap(b.registrations());
  if (regs.size() == 1) return regs[0].alias;
  std::string why = regs.empty() ? "no alias is registered in this broker"
                                 : std::to_string(regs.size()) + " aliases are registered here";
  if (!sid.empty()) why = "session " + sid + " is not registered and " + why;
  exit_with_error(
      "cannot determine your alias (" + why +
      ")\nhint: pass --from ALIAS, or register first: c2c register --alias NAME --session-id ID");
}

std::string resolve_session(broker::Broker& b, const std::string& flag) {
  if (!flag.empty()) return flag;
  std::string sid = env_session_id();
  if (sid.empty()) {
    exit_with_error("cannot determine session ID: pass --session-id ID or set C2C_MCP_SESSION_ID");
  }
  if (unwrap(b.find_session(sid))) return sid;
  const std::string alias = env_alias();
  if (!alias.empty()) {
    auto row = unwrap(b.find_alias(alias));
    if (row) {
      std::cerr << "info: session " << sid << " is not registered; using session "
                << row->session_id << " of alias " << row->alias << "\n";
      return row->session_id;
    }
  }
  return sid;
}

std::string TagFlags::tag() const {
  if (fail) return "fail";
  if (blocking) return "blocking";
  if (urgent) return "urgent";
  return "";
}

void add_tag_flags(CLI::App& cmd, TagFlags& flags) {
  auto* f = cmd.add_flag("--fail", flags.fail, "Prefix the message with a FAIL marker");
  auto* b = cmd.add_flag("--blocking", flags.blocking, "Prefix the message with a BLOCKING marker");
  auto* u = cmd.add_flag("--urgent", flags.urgent, "Prefix the message with an URGENT marker");
  f->excludes(b)->excludes(u);
  b->excludes(u);
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

const char* liveness_name(broker::Liveness l) {
  switch (l) {
    case broker::Liveness::kAlive:
      return "alive";
    case broker::Liveness::kDead:
      return "dead";
    case broker::Liveness::kUnknown:
      return "unknown";
  }
  return "unknown";
}

nlohmann::json liveness_json(broker::Liveness l) {
  if (l == broker::Liveness::kUnknown) return nullptr;
  return l == broker::Liveness::kAlive;
}

nlohmann::json message_to_json(const broker::Message& m) {
  nlohmann::json j;
  j["from_alias"] = m.from_alias;
  j["to_alias"] = m.to_alias;
  j["content"] = m.content;
  j["ts"] = m.ts;
  if (m.deferrable) j["deferrable"] = true;
  if (m.ephemeral) j["ephemeral"] = true;
  if (m.message_id) j["message_id"] = *m.message_id;
  if (m.room_id) j["room_id"] = *m.room_id;
  return j;
}

}  // namespace c2c::cli
