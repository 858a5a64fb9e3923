// Inbox commands on the local broker: poll-inbox, peek-inbox, history (docs/cli.md Inbox).
#include <iostream>

#include "c2c/cli/broker_cli.hpp"
#include "c2c/core/text.hpp"

namespace c2c::cli {

namespace {

void print_messages(const std::vector<broker::Message>& msgs, bool json) {
  if (json) {
    auto arr = nlohmann::json::array();
    for (const auto& m : msgs) arr.push_back(message_to_json(m));
    print_json(arr);
    return;
  }
  if (msgs.empty()) {
    std::cout << "(no messages)\n";
    return;
  }
  for (const auto& m : msgs) std::cout << "[" << m.from_alias << "] " << m.content << "\n";
}

void add_poll(CLI::App& app) {
  struct Opts {
    std::string session_id;
    bool peek = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("poll-inbox", "Drain this session's inbox (--peek to only read)");
  cmd->add_flag("--peek,-p", o->peek, "Read without draining");
  cmd->add_option("--session-id,-s", o->session_id, "Session id (default: from the environment)");
  cmd->add_flag("--json,-j", o->json, "Print JSON");
  cmd->callback([o] {
    auto b = open_broker();
    const std::string sid = resolve_session(b, o->session_id);
    print_messages(unwrap(o->peek ? b.peek(sid) : b.poll(sid, "cli_poll")), o->json);
  });
}

void add_peek(CLI::App& app) {
  struct Opts {
    std::string session_id;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("peek-inbox", "Read an inbox without draining it");
  cmd->add_option("--session-id,-s", o->session_id, "Session id (default: from the environment)");
  cmd->add_flag("--json,-j", o->json, "Print JSON");
  cmd->callback([o] {
    auto b = open_broker();
    const std::string sid = resolve_session(b, o->session_id);
    print_messages(unwrap(b.peek(sid)), o->json);
  });
}

void add_history(CLI::App& app) {
  struct Opts {
    std::string session_id;
    size_t limit = 50;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("history", "Show messages this session already drained");
  cmd->add_option("--session-id,-s", o->session_id, "Session id (default: from the environment)");
  cmd->add_option("--limit,-l", o->limit, "At most this many, newest first (default 50)");
  cmd->add_flag("--json,-j", o->json, "Print JSON");
  cmd->callback([o] {
    auto b = open_broker();
    const std::string sid = resolve_session(b, o->session_id);
    auto entries = unwrap(b.history(sid, o->limit));
    if (o->json) {
      auto arr = nlohmann::json::array();
      for (const auto& e : entries) {
        auto j = message_to_json(e.message);
        j["drained_at"] = e.drained_at;
        j["drained_by"] = e.drained_by;
        arr.push_back(std::move(j));
      }
      print_json(arr);
      return;
    }
    if (entries.empty()) {
      std::cout << "(no history)\n";
      return;
    }
    for (const auto& e : entries) {
      std::cout << "[" << format_date_hhmm_utc(e.drained_at) << "] " << e.message.from_alias
                << " -> " << e.message.to_alias << ": " << e.message.content << "\n";
    }
  });
}

}  // namespace

void register_inbox_commands(CLI::App& app) {
  add_poll(app);
  add_peek(app);
  add_history(app);
}

}  // namespace c2c::cli
