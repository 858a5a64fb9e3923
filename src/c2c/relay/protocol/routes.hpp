#pragma once
// Route names of the relay's HTTP API (docs/protocol.md §4), shared by the server's
// route table and the clients. Paths are compared exactly: no trailing '/', no /v1 prefix.

#include <string_view>

namespace c2c::relay::protocol::route {

inline constexpr std::string_view kStatusPage = "/";
inline constexpr std::string_view kHealth = "/health";
inline constexpr std::string_view kMetrics = "/metrics";
inline constexpr std::string_view kDashboardState = "/dashboard/state";    // GET (the page's data)
inline constexpr std::string_view kDashboardEvents = "/dashboard/events";  // GET (the same, pushed)
inline constexpr std::string_view kRegister = "/register";
inline constexpr std::string_view kHeartbeat = "/heartbeat";
inline constexpr std::string_view kList = "/list";  // GET; ?include_dead=1 is admin
inline constexpr std::string_view kSend = "/send";
inline constexpr std::string_view kSendAll = "/send_all";
// POST, peer: several messages from one sender as one durable write.
inline constexpr std::string_view kSendBatch = "/send_batch";
inline constexpr std::string_view kPollInbox = "/poll_inbox";
inline constexpr std::string_view kPeekInbox = "/peek_inbox";
inline constexpr std::string_view kJoinRoom = "/join_room";
inline constexpr std::string_view kLeaveRoom = "/leave_room";
inline constexpr std::string_view kSendRoom = "/send_room";
inline constexpr std::string_view kListRooms = "/list_rooms";  // GET
inline constexpr std::string_view kRoomHistory = "/room_history";
inline constexpr std::string_view kGc = "/gc";                   // POST, admin
inline constexpr std::string_view kDeadLetter = "/dead_letter";  // GET, admin
inline constexpr std::string_view kSetRoomVisibility = "/set_room_visibility";
inline constexpr std::string_view kInviteRoom = "/invite_room";
inline constexpr std::string_view kUninviteRoom = "/uninvite_room";
inline constexpr std::string_view kAdminUnbind = "/admin/unbind";
inline constexpr std::string_view kPubkeyPrefix = "/pubkey/";  // GET /pubkey/<alias>
// POST, peer: delivery receipts in (recipient side) and out (sender side).
inline constexpr std::string_view kReceipts = "/receipts";
inline constexpr std::string_view kFetchReceipts = "/receipts/fetch";
// POST, peer: the receive stream's long-poll (docs/relay-server.md, "Receive stream").
inline constexpr std::string_view kStream = "/stream";

}  // namespace c2c::relay::protocol::route

namespace c2c::relay::protocol {

// Request and response constants every side agrees on.
inline constexpr std::string_view kAuthorizationHeader = "Authorization";
inline constexpr std::string_view kSystemAlias = "c2c-system";  // sender of join/leave notices
inline constexpr double kDefaultLeaseTtl = 300;                 // seconds
inline constexpr int kDefaultHistoryLimit = 50;
inline constexpr int kMaxHistoryLimit = 1000;
inline constexpr size_t kMaxIdBytes = 256;  // node_id, session_id, alias, room_id, message_id

// True for the query values the original c2c treats as "include_dead": 1, true, yes (any case).
bool is_truthy(std::string_view value);

}  // namespace c2c::relay::protocol
