#pragma once
// Internal to relay/server: store records -> wire DTOs.

#include <string>
#include <vector>

#include "c2c/relay/protocol/messages.hpp"
#include "c2c/relay/store/store.hpp"

namespace c2c::relay::server {

// The envelope is kept as serialized JSON in the store (the store never parses JSON).
inline std::optional<protocol::Envelope> parse_envelope(const std::string& serialized) {
  if (serialized.empty()) return std::nullopt;
  auto j = protocol::Json::parse(serialized, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  auto env = protocol::Envelope::from_json(j);
  if (!env) return std::nullopt;
  return std::move(env).value();
}

inline protocol::Message to_wire(StoredMessage&& s) {
  protocol::Message m;
  m.message_id = std::move(s.message_id);
  m.from_alias = std::move(s.from_alias);
  m.to_alias = std::move(s.to_alias);
  m.content = std::move(s.content);
  m.ts = s.ts;
  m.room_id = std::move(s.room_id);
  m.envelope = parse_envelope(s.envelope);
  return m;
}

inline std::vector<protocol::Message> to_wire(std::vector<StoredMessage>&& stored) {
  std::vector<protocol::Message> out;
  out.reserve(stored.size());
  for (auto& s : stored) out.push_back(to_wire(std::move(s)));
  return out;
}

}  // namespace c2c::relay::server
