// `c2c health`: the local broker's state, then the relay line (probe_relay_health, owned by
// the relay client commands).
#include <filesystem>
#include <iostream>

#include "c2c/cli/broker_cli.hpp"

namespace c2c::cli {

void register_health_command(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("health", "Check the local broker and the relay");
  add_json_flag(*cmd, *json);
  cmd->callback([json] {
    namespace fs = std::filesystem;
    auto b = open_broker();
    std::error_code ec;
    const bool root_exists = fs::is_directory(b.root(), ec);
    const bool registry_exists = fs::exists(b.root() / "registry.json", ec);
    const bool dead_letter_exists = fs::exists(b.root() / "dead-letter.jsonl", ec);
    size_t alive = 0, unknown = 0, dead = 0, rooms = 0, outbox = 0;
    std::string problem;
    auto regs = b.registrations();
    if (regs) {
      for (const auto& r : *regs) {
        switch (b.liveness(r)) {
          case broker::Liveness::kAlive:
            ++alive;
            break;
          case broker::Liveness::kUnknown:
            ++unknown;
            break;
          case broker::Liveness::kDead:
            ++dead;
            break;
        }
      }
    } else {
      problem = regs.error().message;
    }
    if (auto list = b.list_rooms()) rooms = list->size();
    if (fs::exists(b.root() / "remote-outbox.jsonl", ec)) {
      if (auto entries = b.read_outbox()) outbox = entries->size();
    }
    const RelayHealth relay = probe_relay_health();
    const size_t total = regs ? regs->size() : 0;
    if (*json) {
      nlohmann::json j{{"broker_root", b.root().string()},
                       {"root_exists", root_exists},
                       {"registry_exists", registry_exists},
                       {"dead_letter_exists", dead_letter_exists},
                       {"registrations", total},
                       {"alive", alive},
                       {"unknown", unknown},
                       {"dead", dead},
                       {"rooms", rooms},
                       {"remote_outbox_pending", outbox},
                       {"relay", {{"status", relay.status}, {"line", relay.line}}}};
      if (!problem.empty()) j["registry_error"] = problem;
      print_json(j);
    } else {
      auto yn = [](bool v) { return v ? "yes" : "no"; };
      std::cout << "broker root:   " << b.root().string() << "\n"
                << "root exists:   " << yn(root_exists) << "\n"
                << "registry:      " << yn(registry_exists) << "\n"
                << "dead-letter:   " << yn(dead_letter_exists) << "\n";
      if (problem.empty()) {
        std::cout << "registrations: " << total << " (" << alive << " alive, " << unknown
                  << " unknown, " << dead << " dead)\n";
      } else {
        std::cout << "registrations: unreadable: " << problem << "\n";
      }
      std::cout << "rooms:         " << rooms << "\n"
                << "remote outbox: " << outbox << " pending\n"
                << relay.line << "\n";
    }
    if (!problem.empty()) exit_with_error("broker registry is unreadable");
  });
}

}  // namespace c2c::cli
