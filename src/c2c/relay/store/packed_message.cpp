#include "c2c/relay/store/packed_message.hpp"

#include <cstring>

namespace c2c::relay {
namespace {

constexpr size_t kSeqOffset = sizeof(double);
constexpr size_t kLengths = kSeqOffset + sizeof(uint64_t);
constexpr size_t kHeader = kLengths + PackedMessage::kFieldCount * sizeof(uint32_t);

uint32_t length_at(const char* data, uint32_t f) {
  uint32_t len = 0;
  std::memcpy(&len, data + kLengths + f * sizeof(uint32_t), sizeof len);
  return len;
}

}  // namespace

PackedMessage::PackedMessage(const StoredMessage& m) {
  const std::string_view fields[kFieldCount] = {m.message_id, m.from_alias, m.to_alias,
                                                m.content,    m.room_id,    m.envelope};
  size_t total = kHeader;
  for (auto f : fields) total += f.size();
  data_ = std::make_unique_for_overwrite<char[]>(total);
  char* p = data_.get();
  std::memcpy(p, &m.ts, sizeof m.ts);
  p += sizeof m.ts;
  std::memcpy(p, &m.seq, sizeof m.seq);
  p += sizeof m.seq;
  for (auto f : fields) {
    const auto len = static_cast<uint32_t>(f.size());
    std::memcpy(p, &len, sizeof len);
    p += sizeof len;
  }
  for (auto f : fields) {
    if (!f.empty()) std::memcpy(p, f.data(), f.size());
    p += f.size();
  }
}

std::string_view PackedMessage::field(Field f) const {
  const char* base = data_.get();
  size_t offset = kHeader;
  for (uint32_t i = 0; i < f; ++i) offset += length_at(base, i);
  return {base + offset, length_at(base, f)};
}

size_t PackedMessage::page_bytes() const {
  size_t total = 0;
  for (uint32_t i = 0; i < kFieldCount; ++i) total += length_at(data_.get(), i);
  return total;
}

double PackedMessage::ts() const {
  double ts = 0;
  std::memcpy(&ts, data_.get(), sizeof ts);
  return ts;
}

uint64_t PackedMessage::seq() const {
  uint64_t seq = 0;
  std::memcpy(&seq, data_.get() + kSeqOffset, sizeof seq);
  return seq;
}

void PackedMessage::set_seq(uint64_t seq) {
  std::memcpy(data_.get() + kSeqOffset, &seq, sizeof seq);
}

StoredMessage PackedMessage::unpack() const {
  StoredMessage m;
  m.ts = ts();
  m.seq = seq();
  const char* p = data_.get() + kHeader;
  std::string* targets[kFieldCount] = {&m.message_id, &m.from_alias, &m.to_alias,
                                       &m.content,    &m.room_id,    &m.envelope};
  for (uint32_t i = 0; i < kFieldCount; ++i) {
    const uint32_t len = length_at(data_.get(), i);
    targets[i]->assign(p, len);
    p += len;
  }
  return m;
}

}  // namespace c2c::relay
