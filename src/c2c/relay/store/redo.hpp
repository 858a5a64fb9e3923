#pragma once
// Redo records: the EFFECT of one Store mutation, as applied to the in-memory state (evicted ids,
// prune threshold and so on are already decided), so that replaying the records in order onto
// the database yields exactly the in-memory state. MemoryStore emits them to a RedoSink while it
// still holds its lock, which makes the record order equal to the order of the memory updates.

#include <string>
#include <variant>
#include <vector>

#include "c2c/relay/store/store.hpp"

namespace c2c::relay::redo {

struct PutLease {
  Lease lease;
};
struct RemoveLease {
  std::string alias;
};
struct PutBinding {
  std::string alias;
  std::string pk_b64u;
};
struct RemoveBinding {
  std::string alias;
};
struct Append {  // each message carries the seq the store assigned
  std::vector<Delivery> deliveries;
};
struct RemoveInbox {  // drain() and remove_inbox()
  InboxKey key;
};
struct RemoveSeqs {  // drain_ids(), drain_page(): the removed messages of `key`, by seq
  InboxKey key;
  std::vector<uint64_t> seqs;
};
struct MoveInbox {  // the moved messages are renumbered first_seq, first_seq + 1, ... in order
  InboxKey from;
  InboxKey to;
  uint64_t first_seq = 0;
};
struct RemoveThrough {  // drop_through(): every queued message of `key` with seq <= through
  InboxKey key;
  uint64_t through = 0;
};
struct PutRoom {
  std::string room_id;
  std::string visibility;
  std::vector<std::string> invited;
};
struct AddMember {  // creates the room (public) if missing
  std::string room_id;
  std::string alias;
};
struct RemoveMember {
  std::string room_id;
  std::string alias;
};
struct AppendHistory {
  std::string room_id;
  StoredMessage entry;
};
struct SenderId {  // one dedup window entry; sender is case-folded, "" for schema-1 entries
  std::string sender;
  std::string message_id;
};
struct RememberId {
  SenderId id;
  size_t evicted = 0;  // how many of the oldest entries left the window (they are its oldest rows)
};
struct RememberNonce {
  std::string cache;
  std::string nonce;
  double ts = 0;
  double prune_before = 0;  // entries of `cache` with ts < prune_before were dropped
};
struct AddDeadLetter {
  DeadLetter dead_letter;
};
struct PutSetting {  // adopt_setting() stored `value` under `name`, which had none
  std::string name;
  std::string value;
};

using Op = std::variant<PutLease, RemoveLease, PutBinding, RemoveBinding, Append, RemoveInbox,
                        RemoveSeqs, MoveInbox, RemoveThrough, PutRoom, AddMember, RemoveMember,
                        AppendHistory, RememberId, RememberNonce, AddDeadLetter, PutSetting>;

// Receives every mutation's record; called with the store's lock held, so keep it cheap.
// Every record comes between begin() and end() of the transaction that made it; end(false)
// means the transaction was undone: forget its records.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void begin() {}
  virtual void record(Op op) = 0;
  virtual void end(bool keep) { (void)keep; }
};

}  // namespace c2c::relay::redo
