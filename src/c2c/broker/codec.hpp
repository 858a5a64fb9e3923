#pragma once
// JSON encodings of the broker's records (docs/protocol.md §6), key order as the original c2c
// writes them. Writers produce compact JSON by hand (fast, ordered); the registry has its own
// single-pass reader because every send parses it and it can hold 10,000 rows.

#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/broker/broker.hpp"

namespace c2c::broker::codec {

// JSON string literal (with quotes) for s. Bytes >= 0x80 are copied as they are.
void put_string(std::string& out, std::string_view s);
// Shortest round-trip decimal; integral values get ".0" so epochs stay floats.
void put_double(std::string& out, double v);

std::string message_json(const Message& m);
std::string registry_json(const std::vector<Registration>& regs);
std::string archive_line(const ArchiveEntry& e);
std::string dead_letter_line(const DeadLetterRecord& r);
std::string outbox_line(const OutboxEntry& e);
std::string members_json(const std::vector<RoomMember>& members);
std::string room_history_line(const RoomHistoryEntry& e);
std::string meta_json(const RoomMeta& meta);
std::string string_array_json(const std::vector<std::string>& items);

// Readers. Missing optional keys take their defaults (docs/protocol.md §6: deferrable/ephemeral
// false, ts 0); a record missing a required key or with a wrong type is an error.
Result<Message> message_from(const nlohmann::json& j);
Result<std::vector<Message>> parse_inbox(std::string_view text);
Result<std::vector<Registration>> parse_registry(std::string_view text);

// An index over registry.json: where each row is, with its session id and alias, without
// materialising the rows (a send needs one or two rows out of possibly 10,000).
struct RegistryIndex {
  struct Row {
    std::string_view session_id;
    std::string_view alias;
    size_t begin = 0;  // the row's object in `raw`
    size_t end = 0;
  };
  std::string raw;
  std::vector<Row> rows;
  std::deque<std::string> decoded;  // storage for session ids / aliases written with escapes
};
// Indexes idx.raw in place; the views point into idx, so it must not move afterwards.
// Structural errors (and a row without string session_id/alias) fail like parse_registry.
Result<void> index_registry(RegistryIndex& idx);
// One row of the registry (the text of its JSON object).
Result<Registration> parse_registration(std::string_view object_json);
Result<ArchiveEntry> archive_from(const nlohmann::json& j);
Result<DeadLetterRecord> dead_letter_from(const nlohmann::json& j);
Result<OutboxEntry> outbox_from(const nlohmann::json& j);
Result<std::vector<RoomMember>> parse_members(std::string_view text);
Result<RoomHistoryEntry> room_history_from(const nlohmann::json& j);
Result<RoomMeta> parse_meta(std::string_view text);

// Parses one JSONL line; nullopt-like error when it is not a JSON object.
Result<nlohmann::json> parse_object_line(std::string_view line);

// True if s is well-formed UTF-8 (the only text the broker stores).
bool valid_utf8(std::string_view s);

}  // namespace c2c::broker::codec
