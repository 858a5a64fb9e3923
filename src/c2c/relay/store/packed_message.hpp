#pragma once
// A StoredMessage packed into ONE heap block: [ts][seq][6 x uint32 length][bytes].
// Queued messages dominate the relay's memory (1,000,000 queued 100-byte messages must fit in a
// few hundred MB), and six std::string members cost ~200 bytes of headers plus one allocation
// each before any payload; the packed form costs one pointer plus one allocation.

#include <cstdint>
#include <memory>
#include <string_view>

#include "c2c/relay/store/store.hpp"

namespace c2c::relay {

class PackedMessage {
 public:
  enum Field : uint32_t { kMessageId, kFromAlias, kToAlias, kContent, kRoomId, kEnvelope };
  static constexpr uint32_t kFieldCount = 6;

  PackedMessage() = default;
  explicit PackedMessage(const StoredMessage& m);

  StoredMessage unpack() const;
  std::string_view field(Field f) const;
  std::string_view message_id() const { return field(kMessageId); }
  double ts() const;
  // page_bytes() of the message, without unpacking it.
  size_t page_bytes() const;
  uint64_t seq() const;
  void set_seq(uint64_t seq);
  bool empty() const { return !data_; }

 private:
  std::unique_ptr<char[]> data_;
};

}  // namespace c2c::relay
