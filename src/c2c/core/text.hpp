#pragma once
// Small text helpers shared by every module: case folding, trimming, the alias and room-id
// rules, and the time formats that appear on the wire.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace c2c {

// ASCII lower-casing (aliases compare case-insensitively this way).
std::string casefold(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
bool starts_with(std::string_view s, std::string_view prefix);

// Alias rule: 1-64 chars of [A-Za-z0-9._-], no leading '.'.
bool is_valid_alias(std::string_view alias);
// Reserved aliases nobody may register or send as: "c2c", "c2c-system" (case-insensitive).
bool is_reserved_alias(std::string_view alias);
// Room id rule: 1-64 chars of [A-Za-z0-9_-] (safe as a directory name).
bool is_valid_room_id(std::string_view room_id);
// Session id rule for ids used in file names: 1-128 chars of [A-Za-z0-9._:-], not "." / "..".
bool is_safe_file_component(std::string_view s);

// "2026-04-21T00:05:30Z" (second precision, UTC).
std::string format_rfc3339_utc(double epoch_seconds);
// Parses RFC 3339 (Z or +hh:mm offset, optional fraction). nullopt if malformed.
std::optional<double> parse_rfc3339(std::string_view s);
// "HH:MM" in UTC.
std::string format_hhmm_utc(double epoch_seconds);
// "YYYY-MM-DD HH:MM" in UTC.
std::string format_date_hhmm_utc(double epoch_seconds);
// Parses a finite float; nullopt for anything else (including nan/inf).
std::optional<double> parse_finite_double(std::string_view s);

// Appends s as a quoted JSON string (", \ and control characters escaped; other bytes as is).
// For the hand-written JSON on hot paths (broker files, fixed HTTP error bodies).
void append_json_string(std::string& out, std::string_view s);

}  // namespace c2c
