// Peer commands on the local broker: register, whoami, list, send, send-all, sweep,
// dead-letter (docs/cli.md, docs/decisions.md D7/D14).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "c2c/broker/process.hpp"
#include "c2c/cli/broker_cli.hpp"
#include "c2c/core/text.hpp"

namespace c2c::cli {

namespace {

// The process whose life the registration follows: C2C_MCP_CLIENT_PID, else the parent of
// the shell that ran us (an agent's tool shell is short-lived; the agent is its parent),
// else our parent.
std::optional<long long> default_pid() {
  if (const char* env = std::getenv("C2C_MCP_CLIENT_PID"); env && *env) {
    char* end = nullptr;
    const long long v = std::strtoll(env, &end, 10);
    if (end && *end == '\0' && v > 0) return v;
  }
  const long long parent = ::getppid();
  if (const auto grandparent = broker::parent_pid(parent); grandparent && *grandparent > 1) {
    return *grandparent;
  }
  return parent;
}

void add_register(CLI::App& app) {
  struct Opts {
    std::string alias, session_id;
    long long pid = -1;
    bool force = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd =
      app.add_subcommand("register", "Register this session under an alias in the local broker");
  cmd->add_option("--alias,-a", o->alias, "Alias (default: $C2C_MCP_AUTO_REGISTER_ALIAS)");
  cmd->add_option("--session-id,-s", o->session_id, "Session id (default: $C2C_MCP_SESSION_ID)");
  cmd->add_option("--pid", o->pid,
                  "Process whose life the registration follows (0 = none; default: "
                  "$C2C_MCP_CLIENT_PID, else the parent of the calling shell)");
  cmd->add_flag("--force", o->force, "Take over the alias even if a live session holds it");
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    const std::string alias = o->alias.empty() ? env_alias() : o->alias;
    const std::string sid = o->session_id.empty() ? env_session_id() : o->session_id;
    if (alias.empty())
      exit_with_error("no alias: pass --alias NAME or set C2C_MCP_AUTO_REGISTER_ALIAS");
    if (sid.empty())
      exit_with_error("no session id: pass --session-id ID or set C2C_MCP_SESSION_ID");
    broker::RegisterRequest req;
    req.alias = alias;
    req.session_id = sid;
    req.pid = o->pid < 0 ? default_pid() : (o->pid == 0 ? std::nullopt : std::optional(o->pid));
    req.client_type = "";
    req.guard_alias = !o->force;
    auto b = open_broker();
    auto r = unwrap(b.register_session(req));
    if (o->json) {
      print_json(json_view::registered(r, json_view::View::kRecord));
      return;
    }
    std::cout << "registered " << r.registration.alias << " (session " << r.registration.session_id
              << ")\n";
    if (r.migrated_messages > 0) {
      std::cout << "moved " << r.migrated_messages
                << " queued message(s) from the previous holder of the alias\n";
    }
    if (r.redelivered_dead_letters > 0) {
      std::cout << "redelivered " << r.redelivered_dead_letters << " dead-letter message(s)\n";
    }
  });
}

void add_whoami(CLI::App& app) {
  add_session_command(app, "whoami", "Show the alias of this session", [](const SessionOptions& o) {
    const std::string sid = o.session_id.empty() ? env_session_id() : o.session_id;
    if (sid.empty()) {
      exit_with_error(
          "cannot determine session ID: set C2C_MCP_SESSION_ID (or pass --session-id)\n"
          "hint: register first: c2c register --alias NAME --session-id ID");
    }
    auto b = open_broker();
    const auto row = unwrap(b.find_session(sid));
    const std::string alias = row ? row->alias : "";
    if (o.json) {
      print_json(json_view::whoami(sid, row, json_view::View::kRecord));
      return;
    }
    std::cout << "alias:      " << (alias.empty() ? "(not registered)" : alias) << "\n"
              << "session_id: " << sid << "\n";
  });
}

void add_list(CLI::App& app) {
  struct Opts {
    bool all = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("list", "List registered peers");
  cmd->add_flag("--all,-a", o->all, "Also show session ids and registration times");
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    auto regs = unwrap(b.registrations());
    print_listing(
        regs, o->json,
        [&b](const broker::Registration& r) {
          return json_view::peer(r, b.liveness(r), json_view::View::kRecord);
        },
        "No registered peers.",
        [&b, all = o->all](const broker::Registration& r) {
          char line[512];
          std::snprintf(line, sizeof line, "  %-20s %-7s", r.alias.c_str(),
                        liveness_name(b.liveness(r)));
          std::string out = line;
          if (all) {
            std::string sid =
                r.session_id.size() > 12 ? r.session_id.substr(0, 12) + "..." : r.session_id;
            std::snprintf(line, sizeof line, " %-15s %s", sid.c_str(),
                          r.registered_at ? format_date_hhmm_utc(*r.registered_at).c_str() : "-");
            out += line;
          }
          if (r.pid) out += " pid=" + std::to_string(*r.pid);
          while (!out.empty() && out.back() == ' ') out.pop_back();
          std::cout << out << "\n";
        });
  });
}

void add_send(CLI::App& app) {
  struct Opts {
    std::string to, from;
    std::vector<std::string> words;
    bool ephemeral = false, json = false;
    TagFlags tags;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd =
      app.add_subcommand("send", "Send a message to an alias (alias@host goes through the relay)");
  cmd->add_option("alias", o->to, "Recipient alias, or alias@host for a peer on another machine")
      ->required();
  cmd->add_option("message", o->words, "Message text (the words are joined by spaces)")->required();
  add_from_option(*cmd, o->from);
  cmd->add_flag("--ephemeral", o->ephemeral, "Do not archive the message when it is drained");
  add_tag_flags(*cmd, o->tags);
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    const std::string from = resolve_sender(b, o->from);
    broker::SendOptions opts;
    opts.ephemeral = o->ephemeral;
    opts.tag = o->tags.tag();
    auto r = b.send(from, o->to, join_words(o->words), opts);
    if (!r && r.error().code == ErrorCode::kUnknownAlias) {
      auto room = b.room(o->to);
      if (room && *room) {
        exit_with_error("'" + o->to + "' is a room, not a peer alias.\nhint: use `c2c room send " +
                        o->to + " <message>` to post to the room");
      }
    }
    auto receipt = unwrap(std::move(r));
    if (o->json) {
      print_json(json_view::sent(receipt, opts, json_view::View::kRecord));
      return;
    }
    std::cout << "ok -> " << receipt.to_alias << " (from " << receipt.from_alias << ")";
    if (receipt.remote) std::cout << " queued for the relay";
    std::cout << ", message_id " << receipt.message_id << "\n";
  });
}

void add_send_all(CLI::App& app) {
  struct Opts {
    std::string from, exclude;
    std::vector<std::string> words;
    bool json = false;
    TagFlags tags;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("send-all", "Send a message to every live peer");
  cmd->add_option("message", o->words, "Message text")->required();
  cmd->add_option("--exclude,-x", o->exclude, "Comma-separated aliases to leave out");
  add_from_option(*cmd, o->from);
  add_tag_flags(*cmd, o->tags);
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    const std::string from = resolve_sender(b, o->from);
    std::vector<std::string> exclude;
    for (const auto& a : split(o->exclude, ',')) {
      if (!trim(a).empty()) exclude.emplace_back(trim(a));
    }
    broker::SendOptions opts;
    opts.tag = o->tags.tag();
    auto r = unwrap(b.send_all(from, join_words(o->words), exclude, opts));
    if (o->json) {
      print_json(json_view::broadcast(r));
      return;
    }
    std::cout << "Sent to: " << (r.sent_to.empty() ? "(none)" : "");
    for (size_t i = 0; i < r.sent_to.size(); ++i) std::cout << (i ? ", " : "") << r.sent_to[i];
    std::cout << "\n";
    for (const auto& [alias, reason] : r.skipped) {
      std::cout << "  skipped " << alias << " (" << reason << ")\n";
    }
  });
}

void add_sweep(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "sweep", "Drop dead registrations (their queued messages go to dead-letter)");
  add_json_flag(*cmd, *json);
  cmd->callback([json] {
    auto b = open_broker();
    auto r = unwrap(b.sweep());
    if (*json) {
      print_json(json_view::swept(r, json_view::View::kRecord));
      return;
    }
    std::cout << "Dropped " << r.dropped.size() << " registrations, " << r.deleted_inboxes.size()
              << " inboxes, " << r.preserved_messages << " messages preserved.\n";
    for (const auto& [sid, alias] : r.dropped) {
      std::cout << "  dropped " << alias << " (session " << sid << ")\n";
    }
    for (const auto& [room, alias] : r.evicted_room_members) {
      std::cout << "  removed " << alias << " from room " << room << "\n";
    }
  });
}

void add_dead_letter(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("dead-letter", "Show swept messages waiting for their recipient");
  add_json_flag(*cmd, *json);
  cmd->callback([json] {
    auto b = open_broker();
    auto records = unwrap(b.dead_letters());
    // Remote sends the connector gave up on (remote-outbox-dlq.jsonl), with the reason.
    auto remote = unwrap(b.remote_dead_letters());
    if (*json) {
      auto arr = nlohmann::json::array();
      for (const auto& r : records) {
        arr.push_back({{"kind", "local"},
                       {"deleted_at", r.deleted_at},
                       {"from_session_id", r.from_session_id},
                       {"message", json_view::message(r.message, json_view::View::kRecord)}});
      }
      for (const auto& r : remote) {
        nlohmann::json row = {{"kind", "remote"},
                              {"dlq_at", r.dlq_at},
                              {"reason", r.reason},
                              {"message",
                               {{"from_alias", r.entry.from_alias},
                                {"to_alias", r.entry.to_alias},
                                {"content", r.entry.content},
                                {"message_id", r.entry.message_id}}},
                              {"attempts", r.entry.attempts}};
        if (r.entry.last_error) row["last_error"] = *r.entry.last_error;
        if (r.raw) row["raw"] = *r.raw;
        arr.push_back(std::move(row));
      }
      print_json(arr);
      return;
    }
    if (records.empty() && remote.empty()) {
      std::cout << "No dead letters.\n";
      return;
    }
    for (const auto& r : records) {
      std::cout << "[" << format_date_hhmm_utc(r.deleted_at) << "] " << r.message.from_alias
                << " -> " << r.message.to_alias << " (session " << r.from_session_id
                << "): " << r.message.content << "\n";
    }
    for (const auto& r : remote) {
      if (r.raw) {
        std::cout << "[" << format_date_hhmm_utc(r.dlq_at) << "] unreadable remote-outbox line ("
                  << r.reason << "): " << *r.raw << "\n";
        continue;
      }
      std::cout << "[" << format_date_hhmm_utc(r.dlq_at) << "] " << r.entry.from_alias << " -> "
                << r.entry.to_alias << " (remote, not delivered: " << r.reason;
      if (r.entry.last_error && *r.entry.last_error != r.reason) {
        std::cout << "; last error: " << *r.entry.last_error;
      }
      std::cout << "): " << r.entry.content << "\n";
    }
  });
}

}  // namespace

void add_delivery_status(CLI::App& app) {
  struct Opts {
    std::string id;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "delivery-status",
      "Show how far a sent message got, per recipient: accepted (queued locally or stored by the "
      "relay), delivered (written into the recipient's inbox), read (drained by the recipient "
      "with poll-inbox / poll_inbox / wait_for_message or pushed to its MCP client)");
  cmd->add_option("message_id", o->id, "The message_id a send printed")->required();
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    auto status = unwrap(b.delivery_status(trim(o->id)));
    if (!status) {
      exit_with_error("no receipts for message_id " + o->id +
                      " in this broker (not sent from here, or older than the 7-day retention)");
    }
    if (o->json) {
      print_json(broker::delivery_status_json(*status));
      return;
    }
    std::cout << "message " << status->message_id;
    if (!status->from_alias.empty()) std::cout << " from " << status->from_alias;
    std::cout << "\n";
    for (const auto& r : status->recipients) {
      std::cout << "  " << r.recipient << ": " << broker::receipt_state_name(r.state);
      const char* sep = " (";
      for (const auto& [name, at] :
           {std::pair{"accepted", r.accepted_at}, std::pair{"delivered", r.delivered_at},
            std::pair{"read", r.read_at}}) {
        if (!at) continue;
        std::cout << sep << name << " " << format_rfc3339_utc(*at);
        sep = ", ";
      }
      std::cout << (std::string_view(sep) == ", " ? ")" : "") << "\n";
    }
  });
}

void register_peer_commands(CLI::App& app, std::string_view only) {
  struct Command {
    std::string_view word;
    void (*add)(CLI::App&);
  };
  static constexpr Command kCommands[] = {
      {"register", add_register},
      {"whoami", add_whoami},
      {"list", add_list},
      {"send", add_send},
      {"send-all", add_send_all},
      {"sweep", add_sweep},
      {"dead-letter", add_dead_letter},
      {"delivery-status", add_delivery_status},
  };
  for (const Command& c : kCommands) {
    if (only.empty() || c.word == only) c.add(app);
  }
}

}  // namespace c2c::cli
