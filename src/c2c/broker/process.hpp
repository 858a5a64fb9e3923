#pragma once
// What the broker reads about processes from /proc: a registration follows the life of a
// process (registry.json's pid and pid_start_time, docs/protocol.md), and `c2c register` picks
// that process from its ancestry (docs/cli.md Peers).

#include <optional>
#include <string_view>

namespace c2c::broker {

// Field `field` (numbered as in proc(5), 3 or more) of a /proc/<pid>/stat text, as a decimal
// number. The command name (field 2) may contain spaces and ')', so fields are counted after the
// last ')'. nullopt when the field is missing or not a number.
std::optional<long long> stat_field(std::string_view stat, int field);

// /proc/<pid>/stat field 22 (starttime in clock ticks); nullopt if the process is gone.
std::optional<long long> proc_start_time(long long pid);

// /proc/<pid>/stat field 4 (the parent's pid); nullopt if the process is gone.
std::optional<long long> parent_pid(long long pid);

}  // namespace c2c::broker
