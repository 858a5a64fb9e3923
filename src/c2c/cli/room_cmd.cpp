// Local rooms: `c2c rooms` (alias `room`) join|leave|send|list|history|members|invite|
// visibility, and my-rooms (docs/cli.md Rooms).
#include <chrono>
#include <iostream>

#include "c2c/cli/broker_cli.hpp"
#include "c2c/core/text.hpp"

namespace c2c::cli {

namespace {

// The member alias for join/leave/invite/visibility: --alias > the alias registered for the
// session > C2C_MCP_AUTO_REGISTER_ALIAS > the only registered alias.
std::string member_alias(broker::Broker& b, const std::string& flag, const std::string& sid) {
  if (!flag.empty()) return flag;
  if (!sid.empty()) {
    if (auto row = unwrap(b.find_session(sid))) return row->alias;
  }
  return resolve_sender(b, "");
}

// --since: epoch seconds, "Nm"/"Nh"/"Nd" ago, or RFC 3339.
double parse_since(const std::string& s) {
  if (auto v = parse_finite_double(s)) return *v;
  if (s.size() >= 2) {
    const char unit = s.back();
    const double mult = unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 0;
    auto n = parse_finite_double(s.substr(0, s.size() - 1));
    if (mult > 0 && n && *n >= 0) {
      using namespace std::chrono;
      return duration<double>(system_clock::now().time_since_epoch()).count() - *n * mult;
    }
  }
  if (auto t = parse_rfc3339(s)) return *t;
  exit_with_error("invalid --since '" + s + "' (epoch seconds, Nm/Nh/Nd, or RFC 3339 time)",
                  kExitUsage);
}

nlohmann::json room_json(const broker::RoomInfo& r) {
  auto members = nlohmann::json::array();
  auto alive = nlohmann::json::array();
  for (size_t i = 0; i < r.members.size(); ++i) {
    members.push_back(r.members[i].alias);
    if (r.member_liveness[i] != broker::Liveness::kDead) alive.push_back(r.members[i].alias);
  }
  return {{"room_id", r.room_id},
          {"member_count", r.members.size()},
          {"alive_count", alive.size()},
          {"members", members},
          {"alive_members", alive},
          {"visibility", r.meta.visibility},
          {"invited_members", r.meta.invited_members}};
}

void print_rooms(const std::vector<broker::RoomInfo>& rooms, bool json) {
  print_listing(rooms, json, room_json, "No rooms.", [](const broker::RoomInfo& r) {
    size_t alive = 0;
    for (auto l : r.member_liveness) alive += l != broker::Liveness::kDead;
    std::cout << r.room_id << " (" << r.members.size() << " members, " << alive << " alive)"
              << (r.meta.visibility == "invite_only" ? " [invite-only]" : "") << "\n";
  });
}

void add_join(CLI::App& rooms) {
  struct Opts {
    std::string room, alias, session_id;
    size_t history_limit = 20;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = rooms.add_subcommand("join", "Join a room (created if it does not exist)");
  add_room_arg(*cmd, o->room);
  add_member_option(*cmd, o->alias);
  add_session_option(*cmd, o->session_id);
  cmd->add_option("--history-limit", o->history_limit,
                  "Recent messages to show (default 20, max 200)");
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    const std::string sid = resolve_session(b, o->session_id);
    const std::string alias = member_alias(b, o->alias, sid);
    auto r = unwrap(b.join_room(o->room, alias, sid, o->history_limit));
    if (o->json) {
      print_json({{"room_id", r.room_id},
                  {"members", json_view::members(r.members)},
                  {"history", json_view::history(r.history)},
                  {"joined_now", r.joined_now}});
      return;
    }
    std::cout << (r.joined_now ? "Joined room " : "Already in room ") << r.room_id << " ("
              << r.members.size() << " members)\n";
    for (const auto& m : r.members) std::cout << "  - " << m.alias << "\n";
    std::cout << "Recent history (" << r.history.size() << " msgs):\n";
    for (const auto& e : r.history) {
      std::cout << "  [" << format_hhmm_utc(e.ts) << "] " << e.from_alias << " " << e.content
                << "\n";
    }
  });
}

void add_leave(CLI::App& rooms) {
  struct Opts {
    std::string room, alias, session_id;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = rooms.add_subcommand("leave", "Leave a room");
  add_room_arg(*cmd, o->room);
  add_member_option(*cmd, o->alias);
  add_session_option(*cmd, o->session_id);
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    const std::string sid = o->session_id.empty() ? env_session_id() : o->session_id;
    const std::string alias = member_alias(b, o->alias, sid);
    auto members = unwrap(b.leave_room(o->room, alias));
    if (o->json) {
      print_json({{"room_id", o->room}, {"members", json_view::members(members)}});
      return;
    }
    std::cout << "Left room " << o->room << " (" << members.size() << " members left)\n";
  });
}

void add_room_send(CLI::App& rooms) {
  struct Opts {
    std::string room, from;
    std::vector<std::string> words;
    bool json = false;
    TagFlags tags;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = rooms.add_subcommand("send", "Send a message to every member of a room");
  add_room_arg(*cmd, o->room);
  cmd->add_option("message", o->words, "Message text")->required();
  add_from_option(*cmd, o->from);
  add_tag_flags(*cmd, o->tags);
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    const std::string from = resolve_sender(b, o->from);
    broker::SendOptions opts;
    opts.tag = o->tags.tag();
    auto r = unwrap(b.send_room(o->room, from, join_words(o->words), opts));
    if (o->json) {
      print_json({{"delivered_to", r.delivered_to},
                  {"skipped", r.skipped},
                  {"ts", r.ts},
                  {"message_id", r.message_id}});
      return;
    }
    std::cout << "Sent to room " << o->room << " (" << r.delivered_to.size() << " delivered, "
              << r.skipped.size() << " skipped)\n";
  });
}

void add_room_list(CLI::App& rooms, bool& json) {
  auto* cmd = rooms.add_subcommand("list", "List rooms with member counts");
  add_json_flag(*cmd, json);
  cmd->callback([&json] {
    auto b = open_broker();
    print_rooms(unwrap(b.list_rooms()), json);
  });
}

void add_room_history(CLI::App& rooms) {
  struct Opts {
    std::string room, since;
    size_t limit = 50;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = rooms.add_subcommand("history", "Show a room's messages, oldest first");
  add_room_arg(*cmd, o->room);
  cmd->add_option("--limit,-l", o->limit, "The last N messages (default 50, 0 = all)");
  cmd->add_option("--since", o->since, "Only messages since: epoch, Nm/Nh/Nd ago, or RFC 3339");
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    std::optional<double> since;
    if (!o->since.empty()) since = parse_since(o->since);
    auto entries = unwrap(b.room_history(o->room, o->limit, since, ""));
    if (o->json) {
      print_json(json_view::history(entries));
      return;
    }
    if (entries.empty()) {
      std::cout << "(no messages)\n";
      return;
    }
    for (const auto& e : entries) {
      std::cout << "[" << format_date_hhmm_utc(e.ts) << "] " << e.from_alias << " " << e.content
                << "\n";
    }
  });
}

void add_members(CLI::App& rooms) {
  struct Opts {
    std::string room;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = rooms.add_subcommand("members", "List a room's members and their state");
  add_room_arg(*cmd, o->room);
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    auto info = unwrap(b.room(o->room));
    if (!info) exit_with_error("no such room '" + o->room + "'");
    if (o->json) {
      auto arr = nlohmann::json::array();
      for (size_t i = 0; i < info->members.size(); ++i) {
        auto j = json_view::member(info->members[i]);
        j["alive"] = json_view::liveness(info->member_liveness[i]);
        arr.push_back(std::move(j));
      }
      print_json(arr);
      return;
    }
    if (info->members.empty()) {
      std::cout << "(no members)\n";
      return;
    }
    for (size_t i = 0; i < info->members.size(); ++i) {
      char line[256];
      std::snprintf(line, sizeof line, "  %-20s %s", info->members[i].alias.c_str(),
                    liveness_name(info->member_liveness[i]));
      std::cout << line << "\n";
    }
  });
}

void add_invite(CLI::App& rooms) {
  struct Opts {
    std::string room, invitee, alias, session_id;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = rooms.add_subcommand("invite", "Invite an alias to a room (members only)");
  add_room_arg(*cmd, o->room);
  cmd->add_option("invitee", o->invitee, "Alias to invite")->required();
  cmd->add_option("--alias,-a,--from", o->alias, "Inviting member (default: this session's alias)");
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    const std::string inviter = member_alias(b, o->alias, env_session_id());
    unwrap(b.invite(o->room, inviter, o->invitee));
    if (o->json) {
      print_json({{"ok", true}, {"room_id", o->room}, {"invitee_alias", o->invitee}});
      return;
    }
    std::cout << "Invited " << o->invitee << " to room " << o->room << "\n";
  });
}

void add_visibility(CLI::App& rooms) {
  struct Opts {
    std::string room, set, alias;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = rooms.add_subcommand("visibility", "Show or set a room's visibility");
  add_room_arg(*cmd, o->room);
  cmd->add_option("--set", o->set, "public or invite_only (members only)")
      ->check(CLI::IsMember({"public", "invite_only"}));
  cmd->add_option("--alias,-a", o->alias,
                  "Member making the change (default: this session's alias)");
  add_json_flag(*cmd, o->json);
  cmd->callback([o] {
    auto b = open_broker();
    if (!o->set.empty()) {
      const std::string caller = member_alias(b, o->alias, env_session_id());
      unwrap(b.set_visibility(o->room, caller, o->set));
    }
    auto info = unwrap(b.room(o->room));
    if (!info) exit_with_error("no such room '" + o->room + "'");
    if (o->json) {
      print_json({{"room_id", o->room}, {"visibility", info->meta.visibility}});
      return;
    }
    std::cout << "Room " << o->room << " is " << info->meta.visibility << "\n";
  });
}

}  // namespace

void register_room_commands(CLI::App& app) {
  static bool list_json = false;
  auto* rooms =
      app.add_subcommand("rooms", "Local rooms: join, leave, send, list, history, members, invite");
  rooms->alias("room");
  rooms->require_subcommand(0, 1);
  rooms->add_flag("--json,-j", list_json, "Print JSON (for the default `list`)");
  add_join(*rooms);
  add_leave(*rooms);
  add_room_send(*rooms);
  add_room_list(*rooms, list_json);
  add_room_history(*rooms);
  add_members(*rooms);
  add_invite(*rooms);
  add_visibility(*rooms);
  // `c2c rooms` alone lists the rooms.
  rooms->callback([rooms] {
    if (rooms->get_subcommands().empty()) {
      auto b = open_broker();
      print_rooms(unwrap(b.list_rooms()), list_json);
    }
  });

  add_session_command(app, "my-rooms", "Rooms this session is a member of",
                      [](const SessionOptions& o) {
                        auto b = open_broker();
                        const std::string sid = resolve_session(b, o.session_id);
                        std::vector<broker::RoomInfo> mine;
                        for (auto& r : unwrap(b.list_rooms())) {
                          for (const auto& m : r.members) {
                            if (m.session_id == sid) {
                              mine.push_back(std::move(r));
                              break;
                            }
                          }
                        }
                        print_rooms(mine, o.json);
                      });
}

}  // namespace c2c::cli
