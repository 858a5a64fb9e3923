// c2c relay rooms list|join|send|history|leave, and c2c relay register.
#include <functional>
#include <iostream>
#include <memory>

#include "c2c/broker/broker.hpp"
#include "c2c/cli/relay_cli.hpp"
#include "c2c/core/text.hpp"

namespace c2c::cli::relay_cli {

namespace {

namespace protocol = relay::protocol;

struct RoomOptions {
  ConnOptions conn;
  std::string room;
  std::string room_flag;  // --room, for scripts written against the original c2c's syntax
  std::string alias;
  std::vector<std::string> words;
  int limit = 50;
};

std::string room_id_of(const RoomOptions& o, const char* sub) {
  std::string room = !o.room.empty() ? o.room : o.room_flag;
  if (room.empty())
    exit_with_error(std::string("relay rooms ") + sub + ": ROOM is required", kExitUsage);
  if (!is_valid_room_id(room)) {
    exit_with_error("relay rooms " + std::string(sub) + ": invalid room id '" + room +
                        "' (1-64 characters of A-Z a-z 0-9 _ -)",
                    kExitUsage);
  }
  return room;
}

std::string alias_of(const RoomOptions& o, const relay::Resolved& r, const char* sub) {
  if (!o.alias.empty()) return o.alias;
  if (auto a = choose_alias(r, o.conn.broker_root)) {
    // Acting as an alias nobody typed: say which, so a surprise is visible at once.
    std::cerr << "relay rooms " << sub << ": acting as " << a->alias << " (" << a->source
              << "; pass --alias to choose another)\n";
    return a->alias;
  }
  exit_with_error(
      std::string("relay rooms ") + sub +
          ": cannot tell which alias to act as; pass --alias ALIAS once ('relay rooms join' "
          "remembers it) or save one with 'c2c relay setup --alias ALIAS'",
      kExitUsage);
}

// The relay session for an alias registered from the CLI: --session-id, else the local
// broker's session for this alias (so the connector later refreshes the same lease), else
// cli-<alias>.
std::string cli_session_for(const std::string& alias, const std::string& session_flag,
                            const std::string& broker_root) {
  if (!session_flag.empty()) return session_flag;
  broker::Broker b(broker_root.empty() ? broker::resolve_root()
                                       : std::filesystem::path(broker_root));
  std::error_code ec;
  if (std::filesystem::is_directory(b.root(), ec)) {
    if (auto found = b.find_alias(alias); found && found.value()) {
      return found.value()->session_id;
    }
  }
  return "cli-" + alias;
}

Result<relay::RelayReply> register_alias(relay::RelayClient& client, const relay::Resolved& r,
                                         const std::string& alias, const std::string& session) {
  relay::RegisterParams p;
  p.node_id = r.node_id;
  p.session_id = session;
  p.alias = alias;
  p.client_type = "cli";
  return client.register_session(p);
}

// The relay does not know this alias (never registered, or its lease was collected).
bool needs_registration(const Result<relay::RelayReply>& res) {
  if (!res || res->ok()) return false;
  return res->error_code() == "unknown_alias" ||
         (res->auth_refused() && res->error_text().find("identity binding") != std::string::npos);
}

// Runs a room operation as `alias`; when the relay does not know the alias yet, registers it
// with this machine's identity and node id first (stderr says so) and tries once more.
Result<relay::RelayReply> as_registered(relay::RelayClient& client, const relay::Resolved& r,
                                        const RoomOptions& o, const std::string& alias,
                                        const std::function<Result<relay::RelayReply>()>& op) {
  auto res = op();
  if (!needs_registration(res)) return res;
  const std::string session = cli_session_for(alias, "", o.conn.broker_root);
  auto reg = register_alias(client, r, alias, session);
  if (!reg || !reg->ok()) {
    // Report why the registration failed (alias_conflict etc.), not the first refusal.
    expect_ok("register " + alias, r.url, std::move(reg), o.conn.json);
  }
  std::cerr << "registered " << alias << " on " << r.url << " (node=" << r.node_id
            << ", session=" << session << ")\n";
  return op();
}

// After the first successful join with an explicit --alias, remember it as this machine's
// operator alias, so `relay rooms send ROOM TEXT` works without --alias (the quickstart's
// sequence). An alias already saved is never replaced.
void remember_operator_alias(const relay::Resolved& r, const RoomOptions& o,
                             const std::string& alias) {
  if (o.alias.empty() || !r.alias.empty()) return;
  const auto env = relay::process_env();
  std::optional<std::filesystem::path> root;
  if (!o.conn.broker_root.empty()) root = o.conn.broker_root;
  const auto path = r.config_path.value_or(relay::config_save_path(env, root));
  relay::SavedConfig c;
  if (auto existing = relay::read_config_file(path)) {
    c = std::move(existing).value();
  } else if (existing.error().code != ErrorCode::kNotFound) {
    return;  // not ours to repair here; `relay setup` does that
  }
  if (c.alias) return;
  c.alias = alias;
  if (auto w = relay::write_config_file(path, c); !w) {
    std::cerr << "warning: could not save " << alias
              << " as the operator alias: " << w.error().message << "\n";
    return;
  }
  std::cerr << "saved " << alias << " as this machine's operator alias in " << path.string()
            << " ('relay rooms send' uses it when --alias is not given)\n";
}

// Reads (list, history) act as --alias or the default alias when there is one, signed when
// this machine has an identity: a relay shows invite-only rooms to their members only.
std::string reader_alias(const RoomOptions& o, const relay::Resolved& r) {
  if (!o.alias.empty()) return o.alias;
  return default_alias(r, o.conn.broker_root).value_or("");
}

relay::RelayClient reader_client(const relay::Resolved& r, const std::string& alias) {
  return make_client(r, alias.empty() ? std::nullopt : load_identity(r, false, alias));
}

void run_list(const RoomOptions& o) {
  const auto r = resolve(o.conn);
  require_url(r);
  const std::string alias = reader_alias(o, r);
  auto client = reader_client(r, alias);
  const auto reply = expect_ok("list_rooms", r.url, client.list_rooms(alias), o.conn.json);
  if (o.conn.json) {
    print_json(reply.body);
    return;
  }
  const auto rooms = protocol::ListRoomsResponse::from_json(reply.body).value_or({}).rooms;
  if (rooms.empty()) {
    std::cout << "relay: no rooms found\n";
    return;
  }
  std::cout << "relay " << r.url << " — " << rooms.size() << " room(s):\n";
  for (const auto& room : rooms) {
    std::string members;
    for (const auto& m : room.members) members += (members.empty() ? "" : ", ") + m;
    std::string id = room.room_id;
    if (id.size() < 24) id += std::string(24 - id.size(), ' ');
    std::cout << "  " << id << " " << room.members.size()
              << " member(s): " << (members.empty() ? "(empty)" : members) << "\n";
  }
}

void run_join_leave(const RoomOptions& o, bool join) {
  const char* sub = join ? "join" : "leave";
  const std::string room = room_id_of(o, sub);
  const auto r = resolve(o.conn);
  require_url(r);
  const std::string alias = alias_of(o, r, sub);
  auto client = make_client(r, load_identity(r, /*create_if_missing=*/true, alias));
  auto res = join
                 ? as_registered(client, r, o, alias, [&] { return client.join_room(room, alias); })
                 : client.leave_room(room, alias);
  const auto reply =
      expect_ok(join ? "join_room" : "leave_room", r.url, std::move(res), o.conn.json);
  if (join) remember_operator_alias(r, o, alias);
  if (o.conn.json) {
    print_json(reply.body);
    return;
  }
  if (join) {
    std::cout << "joined room " << room << " as " << alias << "\n";
  } else {
    std::cout << "left room " << room << " (alias=" << alias << ")\n";
  }
}

void run_send(const RoomOptions& given) {
  RoomOptions o = given;
  // `rooms send --room R hello world`: the first word landed in the positional ROOM slot.
  if (!o.room_flag.empty() && !o.room.empty()) {
    o.words.insert(o.words.begin(), o.room);
    o.room.clear();
  }
  const std::string room = room_id_of(o, "send");
  std::string content;
  for (const auto& w : o.words) content += (content.empty() ? "" : " ") + w;
  if (content.empty()) exit_with_error("relay rooms send: message body required", kExitUsage);
  const auto r = resolve(o.conn);
  require_url(r);
  const std::string alias = alias_of(o, r, "send");
  auto client = make_client(r, load_identity(r, /*create_if_missing=*/true, alias));
  const auto reply = expect_ok(
      "send_room", r.url,
      as_registered(client, r, o, alias, [&] { return client.send_room(room, alias, content); }),
      o.conn.json);
  if (o.conn.json) {
    print_json(reply.body);
    return;
  }
  const auto f = protocol::FanoutResponse::from_json(reply.body).value_or({});
  std::cout << "sent to room " << room << ": " << f.delivered.size() << " delivered, "
            << f.skipped.size() << " skipped\n";
  for (const auto& s : f.skipped) std::cout << "  skipped " << s << "\n";
}

void run_history(const RoomOptions& o) {
  const std::string room = room_id_of(o, "history");
  if (o.limit < 0) exit_with_error("relay rooms history: --limit must be >= 0", kExitUsage);
  const auto r = resolve(o.conn);
  require_url(r);
  const std::string alias = reader_alias(o, r);
  auto client = reader_client(r, alias);
  const auto reply =
      expect_ok("room_history", r.url, client.room_history(room, o.limit, alias), o.conn.json);
  if (o.conn.json) {
    print_json(reply.body);
    return;
  }
  const auto h = protocol::RoomHistoryResponse::from_json(reply.body).value_or({}).history;
  if (h.empty()) {
    std::cout << "room " << room << ": no history\n";
    return;
  }
  for (const auto& m : h) {
    std::cout << "[" << local_hms(m.ts) << "] " << m.from_alias << ": " << m.content << "\n";
  }
}

// ---------- register ----------

struct RegisterOptions {
  ConnOptions conn;
  std::string alias;
  std::string session_id;
};

void run_register(const RegisterOptions& o) {
  if (!is_valid_alias(o.alias)) {
    exit_with_error("relay register: invalid alias '" + o.alias +
                        "' (1-64 characters of A-Z a-z 0-9 . _ -, not starting with '.')",
                    kExitUsage);
  }
  const auto r = resolve(o.conn);
  require_url(r);
  const std::string session = cli_session_for(o.alias, o.session_id, o.conn.broker_root);
  auto client = make_client(r, load_identity(r, /*create_if_missing=*/true, o.alias));
  const auto reply =
      expect_ok("register", r.url, register_alias(client, r, o.alias, session), o.conn.json);
  if (o.conn.json) {
    print_json(reply.body);
    return;
  }
  std::cout << "registered " << o.alias << " on " << r.url << " (node=" << r.node_id
            << ", session=" << session << ", " << (client.has_identity() ? "signed" : "unsigned")
            << ")\n";
}

}  // namespace

void register_rooms_commands(CLI::App& relay) {
  auto* rooms = relay.add_subcommand("rooms", "Relay rooms: list, join, send, history, leave");
  rooms->require_subcommand(1);

  auto add = [rooms](const char* name, const char* help, bool with_alias, bool with_room) {
    auto o = std::make_shared<RoomOptions>();
    auto* cmd = rooms->add_subcommand(name, help);
    add_conn_options(cmd, o->conn, /*full=*/true, /*json=*/true);
    if (with_room) {
      cmd->add_option("room", o->room, "Room id");
      cmd->add_option("--room", o->room_flag, "Room id (same as the positional ROOM)");
    }
    if (with_alias) {
      cmd->add_option("--alias,--from", o->alias,
                      "Alias to act as (default: this session's alias, "
                      "C2C_MCP_AUTO_REGISTER_ALIAS, the saved operator alias, or the only "
                      "local alias)");
    }
    return std::make_pair(cmd, o);
  };

  auto [list, lo] = add("list", "List rooms on the relay (invite-only: yours only)", true, false);
  list->callback([lo = lo] { run_list(*lo); });

  auto [join, jo] = add("join", "Join a room as an alias", true, true);
  join->callback([jo = jo] { run_join_leave(*jo, true); });

  auto [leave, leo] = add("leave", "Leave a room", true, true);
  leave->callback([leo = leo] { run_join_leave(*leo, false); });

  auto [send, so] = add("send", "Send a message to a room", true, true);
  send->add_option("message", so->words, "Message text (words are joined by spaces)");
  send->callback([so = so] { run_send(*so); });

  auto [history, ho] = add("history", "Show a room's recent messages", true, true);
  history->add_option("--limit", ho->limit, "At most N messages (default 50)");
  history->callback([ho = ho] { run_history(*ho); });
}

void register_register_command(CLI::App& relay) {
  auto o = std::make_shared<RegisterOptions>();
  auto* cmd = relay.add_subcommand("register", "Register an alias on the relay (signed)");
  add_conn_options(cmd, o->conn, /*full=*/true, /*json=*/true);
  cmd->add_option("--alias", o->alias, "Alias to register")->required();
  cmd->add_option("--session-id", o->session_id,
                  "Relay session id (default: the alias's local session, else cli-<alias>)");
  cmd->callback([o] { run_register(*o); });
}

}  // namespace c2c::cli::relay_cli
