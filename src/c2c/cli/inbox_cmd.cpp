// Inbox commands on the local broker: poll-inbox, peek-inbox, history (docs/cli.md Inbox).
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

#include "c2c/cli/broker_cli.hpp"
#include "c2c/core/fd_io.hpp"
#include "c2c/core/text.hpp"

namespace c2c::cli {

namespace {

std::string format_messages(const std::vector<broker::Message>& msgs, bool json) {
  if (json) {
    return json_view::messages(msgs, json_view::View::kRecord).dump(2) + "\n";
  }
  if (msgs.empty()) return "(no messages)\n";
  std::string out;
  for (const auto& m : msgs) out += "[" + m.from_alias + "] " + m.content + "\n";
  return out;
}

void print_messages(const std::vector<broker::Message>& msgs, bool json) {
  std::cout << format_messages(msgs, json) << std::flush;
}

// poll-inbox drains only what reached stdout (docs/reliability.md, issue 8.12): peek, write
// everything out, and only then remove exactly those messages. A reader that went away (EPIPE)
// or a kill before the write completed leaves every message queued for the next poll.
void poll_and_print(broker::Broker& b, const std::string& sid, bool json) {
  const auto msgs = unwrap(b.peek(sid));
  // EPIPE as an error we can report, instead of a silent death by SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  std::cout << std::flush;
  if (!write_fully(STDOUT_FILENO, format_messages(msgs, json))) {
    const int err = errno;
    exit_with_error("cannot write the messages to stdout (" + std::string(std::strerror(err)) +
                    "); nothing was drained, they stay queued");
  }
  if (msgs.empty()) return;
  unwrap(b.acknowledge(sid, msgs, "cli_poll"));
}

void add_poll(CLI::App& app) {
  struct Opts {
    std::string session_id;
    bool peek = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("poll-inbox", "Drain this session's inbox (--peek to only read)");
  cmd->add_flag("--peek,-p", o->peek, "Read without draining");
  add_session_option(*cmd, o->session_id);
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    const std::string sid = resolve_session(b, o->session_id);
    if (o->peek) {
      print_messages(unwrap(b.peek(sid)), o->json);
    } else {
      poll_and_print(b, sid, o->json);
    }
  });
}

void add_peek(CLI::App& app) {
  add_session_command(app, "peek-inbox", "Read an inbox without draining it",
                      [](const SessionOptions& o) {
                        auto b = open_broker();
                        const std::string sid = resolve_session(b, o.session_id);
                        print_messages(unwrap(b.peek(sid)), o.json);
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
  add_session_option(*cmd, o->session_id);
  cmd->add_option("--limit,-l", o->limit, "At most this many, newest first (default 50)");
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    const std::string sid = resolve_session(b, o->session_id);
    size_t unreadable = 0;
    auto entries = unwrap(b.history(sid, o->limit, &unreadable));
    if (unreadable > 0) {
      std::cerr << "warning: skipped " << unreadable
                << " unreadable line(s) of the archive (torn by a writer killed mid-append)\n";
    }
    print_listing(
        entries, o->json,
        [](const broker::ArchiveEntry& e) {
          return json_view::archive_entry(e, json_view::View::kRecord);
        },
        "(no history)",
        [](const broker::ArchiveEntry& e) {
          std::cout << "[" << format_date_hhmm_utc(e.drained_at) << "] " << e.message.from_alias
                    << " -> " << e.message.to_alias << ": " << e.message.content << "\n";
        });
  });
}

}  // namespace

void register_inbox_commands(CLI::App& app) {
  add_poll(app);
  add_peek(app);
  add_history(app);
}

}  // namespace c2c::cli
