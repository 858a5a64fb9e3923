#include "c2c/cli/broker_cli.hpp"

#include <array>
#include <iostream>

#include "c2c/broker/whoami.hpp"

namespace c2c::cli {

broker::Broker open_broker() {
  return broker::Broker(broker::resolve_root());
}

std::string env_session_id() {
  return broker::env_session_id(broker::process_env()).value;
}

std::string env_alias() {
  return broker::env_alias(broker::process_env());
}

std::string resolve_sender(broker::Broker& b, const std::string& from_flag) {
  broker::SenderSources in;
  in.flag = from_flag;
  auto choice = broker::resolve_sender(b, broker::process_env(), in);
  if (!choice && choice.error().code == ErrorCode::kNotFound) {
    exit_with_error(
        choice.error().message +
        "\nhint: pass --from ALIAS, or register first: c2c register --alias NAME --session-id ID");
  }
  return unwrap(std::move(choice)).alias;
}

std::string resolve_session(broker::Broker& b, const std::string& flag) {
  auto choice = broker::resolve_session(b, broker::process_env(), flag);
  if (!choice && choice.error().code == ErrorCode::kNotFound) {
    exit_with_error(choice.error().message + ": pass --session-id ID or set C2C_MCP_SESSION_ID");
  }
  auto session = unwrap(std::move(choice));
  if (!session.note.empty()) std::cerr << "info: " << session.note << "\n";
  return session.session_id;
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

void add_session_option(CLI::App& cmd, std::string& session_id) {
  cmd.add_option("--session-id,-s", session_id, "Session id (default: from the environment)");
}

void add_from_option(CLI::App& cmd, std::string& from) {
  cmd.add_option("--from,-F", from, "Sender alias (default: this session's alias)");
}

void add_member_option(CLI::App& cmd, std::string& alias) {
  cmd.add_option("--alias,-a", alias, "Member alias (default: this session's alias)");
}

void add_room_arg(CLI::App& cmd, std::string& room) {
  cmd.add_option("room", room, "Room id")->required();
}

CLI::App* add_session_command(CLI::App& parent, const std::string& name,
                              const std::string& description,
                              std::function<void(const SessionOptions&)> run) {
  auto o = std::make_shared<SessionOptions>();
  auto* cmd = parent.add_subcommand(name, description);
  add_session_option(*cmd, o->session_id);
  add_json_flag(*cmd, o->json);
  cmd->callback([o, run = std::move(run)] { run(*o); });
  return cmd;
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

// A switch, not a table: -Wswitch names a Liveness added without a name.
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

}  // namespace c2c::cli
