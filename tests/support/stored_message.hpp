#pragma once
// A StoredMessage from alice to bob, for the store tests (unit and conformance) that build many.

#include <string>
#include <utility>

#include "c2c/relay/store/store.hpp"

namespace c2c::test {

inline relay::StoredMessage stored_message(std::string id, std::string content, double ts) {
  relay::StoredMessage m;
  m.message_id = std::move(id);
  m.from_alias = "alice";
  m.to_alias = "bob";
  m.content = std::move(content);
  m.ts = ts;
  return m;
}

}  // namespace c2c::test
