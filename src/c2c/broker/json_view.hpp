#pragma once
// The JSON shapes of broker data, written once for both surfaces that show them: the CLI's
// --json output (docs/cli.md) and the MCP tools' results (docs/mcp.md). A shape both surfaces
// show alike has one function; where they differ on purpose, a `View` picks the extra fields:
// kRecord is the stored record an operator inspects (`c2c ... --json`: ids, room, flags),
// kAgent what an agent acts on (MCP: encryption status, canonical alias). Objects are
// nlohmann::json (keys sorted), so output does not depend on the order fields are added in.
// The delivery-status shape is delivery_status_json (broker.hpp).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "c2c/broker/broker.hpp"

namespace c2c::broker::json_view {

enum class View { kRecord, kAgent };

// true | false | null (unknown: no pid recorded).
nlohmann::json liveness(Liveness l);

// {from_alias, to_alias, content, ts, deferrable?}; kRecord adds ephemeral?, message_id?,
// room_id?; kAgent adds enc_status?.
nlohmann::json message(const Message& m, View v);
nlohmann::json messages(const std::vector<Message>& msgs, View v);

// A drained message: kRecord is the message record + {drained_at, drained_by}; kAgent is
// {drained_at, from_alias, to_alias, content}.
nlohmann::json archive_entry(const ArchiveEntry& e, View v);

// A registered peer: {session_id, alias, alive, pid?, registered_at?}; kRecord adds
// client_type? and role?, kAgent canonical_alias?.
nlohmann::json peer(const Registration& r, Liveness l, View v);

// Who a session is: {session_id, alias} (alias "" when not registered); kAgent adds
// registered and canonical_alias?.
nlohmann::json whoami(const std::string& session_id, const std::optional<Registration>& r, View v);

// A registration's answer: {alias, session_id, redelivered_dead_letters}; kRecord adds
// evicted_sessions, migrated_messages, pid?.
nlohmann::json registered(const RegisterResult& r, View v);

// A send: {queued: true, ts, from_alias, to_alias, message_id}; kRecord always says remote,
// kAgent only when true, plus deferrable when asked for.
nlohmann::json sent(const SendReceipt& r, const SendOptions& opts, View v);

// A broadcast: {sent_to, skipped:[{alias, reason}], message_ids:{alias: id}}.
nlohmann::json broadcast(const BroadcastResult& r);

// A sweep: {dropped_regs:[{session_id, alias}], deleted_inboxes, preserved_messages,
// evicted_room_members:[{room_id, alias}]}; kRecord adds removed_temp_files, pruned_receipts.
nlohmann::json swept(const SweepResult& r, View v);

// A room member {alias, session_id, joined_at}, alone and as an array; a room's history as
// an array of {ts, from_alias, content}.
nlohmann::json member(const RoomMember& m);
nlohmann::json members(const std::vector<RoomMember>& ms);
nlohmann::json history(const std::vector<RoomHistoryEntry>& entries);

}  // namespace c2c::broker::json_view
