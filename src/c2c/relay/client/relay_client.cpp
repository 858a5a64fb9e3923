#include "c2c/relay/client/relay_client.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <utility>

#include "c2c/core/text.hpp"
#include "c2c/crypto/canonical.hpp"
#include "c2c/crypto/request_auth.hpp"
#include "c2c/relay/protocol/routes.hpp"

namespace c2c::relay {

using nlohmann::json;
namespace route = protocol::route;

// ---------- RelayReply ----------

bool RelayReply::ok() const {
  const auto it = body.find("ok");
  return it != body.end() && it->is_boolean() && it->get<bool>();
}

std::string RelayReply::error_code() const {
  const auto it = body.find("error_code");
  if (it != body.end() && it->is_string()) return it->get<std::string>();
  // The original c2c's 429 body carries the code in "error".
  if (http_status == 429) return "rate_limit_exceeded";
  return "";
}

std::string RelayReply::error_text() const {
  const auto it = body.find("error");
  return it != body.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string RelayReply::describe() const {
  std::string code = error_code();
  std::string text = error_text();
  if (code.empty() && text.empty()) return "HTTP " + std::to_string(http_status);
  if (code.empty()) return text;
  if (text.empty() || text == code) return code;
  return code + ": " + text;
}

std::vector<protocol::Message> parse_messages(const RelayReply& reply, size_t* skipped) {
  std::vector<protocol::Message> out;
  size_t bad = 0;
  const auto it = reply.body.find("messages");
  if (it != reply.body.end() && it->is_array()) {
    for (const auto& item : *it) {
      auto m = protocol::Message::from_json(item);
      if (!m || m->message_id.empty() || m->from_alias.empty() || !item.contains("content") ||
          !item["content"].is_string()) {
        ++bad;
        continue;
      }
      out.push_back(std::move(m).value());
    }
  }
  if (skipped != nullptr) *skipped = bad;
  return out;
}

// ---------- RelayClient ----------

namespace {

// "/prefix" of http(s)://host[:port]/prefix, "" when there is none.
std::string url_path_prefix(std::string_view base_url) {
  const auto scheme_end = base_url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  const auto slash = base_url.find('/', scheme_end + 3);
  if (slash == std::string_view::npos) return "";
  std::string prefix(base_url.substr(slash));
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return prefix;
}

// scheme://host[:port], lower-cased: what the relay rebuilds from the Host header to check a
// register proof.
std::string url_origin(std::string_view base_url) {
  const auto scheme_end = base_url.find("://");
  if (scheme_end == std::string_view::npos) return casefold(base_url);
  const auto slash = base_url.find('/', scheme_end + 3);
  return casefold(base_url.substr(0, slash));
}
}  // namespace

Result<RelayClient> RelayClient::create(RelayClientOptions options) {
  auto http = net::HttpClient::create(options.base_url, options.http);
  if (!http) return Unexpected{http.error()};
  // std::function needs a copyable callable; the client is shared by the copies.
  auto shared = std::make_shared<net::HttpClient>(std::move(http).value());
  Transport transport = [shared](const net::ClientRequest& req) { return shared->request(req); };
  RelayClient client(std::move(options), std::move(transport));
  client.cancel_ = [shared] { shared->cancel(); };
  return client;
}

void RelayClient::cancel() {
  if (cancel_) cancel_();
}

RelayClient::RelayClient(RelayClientOptions options, Transport transport)
    : options_(std::move(options)),
      path_prefix_(url_path_prefix(options_.base_url)),
      transport_(std::move(transport)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/')
    options_.base_url.pop_back();
}

Result<RelayReply> RelayClient::call(std::string_view method, std::string_view path,
                                     std::string body, Auth auth, std::string_view alias,
                                     std::optional<std::chrono::milliseconds> timeout) {
  net::ClientRequest req;
  req.timeout = timeout;
  req.method = std::string(method);
  req.target = std::string(path);
  req.body = std::move(body);
  if (auth == Auth::kAdmin && !options_.token.empty()) {
    req.headers.push_back({"Authorization", "Bearer " + options_.token});
  } else if (auth == Auth::kPeer && options_.identity && !alias.empty()) {
    // The relay verifies the path it received (prefix included), the query in its canonical
    // form and the exact body bytes.
    const auto q = path.find('?');
    const std::string signed_path = path_prefix_ + std::string(path.substr(0, q));
    const std::string query =
        q == std::string_view::npos ? std::string() : crypto::canonical_query(path.substr(q + 1));
    req.headers.push_back({"Authorization", crypto::sign_request(options_.identity->keys, alias,
                                                                 req.method, signed_path, query,
                                                                 req.body, options_.clock->now())});
  }
  auto resp = transport_(req);
  if (!resp) {
    return fail(ErrorCode::kUnavailable, resp.error().message);
  }
  RelayReply reply;
  reply.http_status = resp->status;
  try {
    reply.body = json::parse(resp->body);
  } catch (const std::exception&) {
    return fail(ErrorCode::kBadRequest, "relay " + options_.base_url + " answered HTTP " +
                                            std::to_string(resp->status) +
                                            " with a body that is not JSON");
  }
  if (!reply.body.is_object()) {
    return fail(ErrorCode::kBadRequest, "relay " + options_.base_url + " answered HTTP " +
                                            std::to_string(resp->status) +
                                            " with JSON that is not an object");
  }
  return reply;
}

Result<RelayReply> RelayClient::health() {
  return call("GET", route::kHealth, "", Auth::kNone);
}

Result<RelayReply> RelayClient::list_rooms(std::string_view alias) {
  if (alias.empty()) return call("GET", route::kListRooms, "", Auth::kNone);
  // Aliases are [A-Za-z0-9._-]: nothing to escape in the query.
  return call("GET", std::string(route::kListRooms) + "?alias=" + std::string(alias), "",
              Auth::kPeer, alias);
}

Result<RelayReply> RelayClient::room_history(std::string_view room_id, int limit,
                                             std::string_view alias) {
  protocol::RoomHistoryRequest b;
  b.room_id = std::string(room_id);
  b.limit = limit;
  b.alias = std::string(alias);
  return call("POST", route::kRoomHistory, b.to_json().dump(), Auth::kPeer, alias);
}

Result<RelayReply> RelayClient::register_session(const RegisterParams& p) {
  protocol::RegisterRequest b;
  b.node_id = p.node_id;
  b.session_id = p.session_id;
  b.alias = p.alias;
  b.client_type = p.client_type.empty() ? "unknown" : p.client_type;
  b.ttl = p.ttl;
  if (!options_.identity) return call("POST", route::kRegister, b.to_json().dump(), Auth::kNone);
  // A version-2 proof binds node, session and ttl (docs/relay-server.md, "Register proof").
  auto signed_body = [&](int version) {
    const auto& id = *options_.identity;
    b.proof_version = version;
    b.identity_pk = id.public_key_b64u();
    b.timestamp = format_rfc3339_utc(options_.clock->now());
    b.nonce = crypto::random_nonce();
    const std::string origin = url_origin(options_.base_url);
    const std::string blob =
        version == 2
            ? crypto::register_blob_v2(b.alias, origin, b.identity_pk, b.timestamp, b.nonce,
                                       b.node_id, b.session_id, b.lease_ttl_seconds())
            : crypto::register_blob_v1(b.alias, origin, b.identity_pk, b.timestamp, b.nonce);
    b.signature = crypto::sign_b64u(id.keys, blob);
    return b.to_json().dump();
  };
  auto reply = call("POST", route::kRegister, signed_body(2), Auth::kNone);
  // A relay older than proof version 2 ignores proof_version, checks the version-1 bytes and
  // answers signature_invalid: say it again in version 1, which such a relay accepts. A newer
  // relay gives a version-1 proof less (it cannot move a lease), so the retry grants no more
  // than the first attempt; a wrong relay URL fails both alike.
  if (reply && reply->http_status == 401 && reply->error_code() == "signature_invalid") {
    return call("POST", route::kRegister, signed_body(1), Auth::kNone);
  }
  return reply;
}

protocol::RoomProof RelayClient::room_proof(std::string_view ctx, std::string_view room_id,
                                            std::string_view alias) const {
  protocol::RoomProof proof;
  if (!options_.identity) return proof;
  const auto& id = *options_.identity;
  const std::string pk = id.public_key_b64u();
  const std::string ts = format_rfc3339_utc(options_.clock->now());
  const std::string nonce = crypto::random_nonce();
  const std::string blob = crypto::canonical_blob(ctx, {room_id, alias, pk, ts, nonce});
  proof.identity_pk = pk;
  proof.sig = crypto::sign_b64u(id.keys, blob);
  proof.nonce = nonce;
  proof.ts = ts;
  return proof;
}

Result<RelayReply> RelayClient::room_op(std::string_view route, std::string_view ctx,
                                        std::string_view room_id, std::string_view alias) {
  protocol::RoomOpRequest b;
  b.alias = std::string(alias);
  b.room_id = std::string(room_id);
  b.proof = room_proof(ctx, room_id, alias);
  return call("POST", route, b.to_json().dump(), Auth::kNone);
}

Result<RelayReply> RelayClient::join_room(std::string_view room_id, std::string_view alias) {
  return room_op(route::kJoinRoom, crypto::kCtxRoomJoin, room_id, alias);
}

Result<RelayReply> RelayClient::leave_room(std::string_view room_id, std::string_view alias) {
  return room_op(route::kLeaveRoom, crypto::kCtxRoomLeave, room_id, alias);
}

Result<RelayReply> RelayClient::send_room(std::string_view room_id, std::string_view from_alias,
                                          std::string_view content, std::string_view message_id) {
  protocol::SendRoomRequest b;
  b.message_id = std::string(message_id);
  b.from_alias = std::string(from_alias);
  b.room_id = std::string(room_id);
  b.content = std::string(content);
  if (options_.identity) {
    const auto& id = *options_.identity;
    const std::string pk = id.public_key_b64u();
    const std::string ts = format_rfc3339_utc(options_.clock->now());
    const std::string nonce = crypto::random_nonce();
    const std::string blob = crypto::canonical_blob(
        crypto::kCtxRoomSend,
        {room_id, from_alias, pk, "none", crypto::sha256_b64u(content), ts, nonce});
    protocol::Envelope env;
    env.ct = crypto::b64u_encode(content);
    env.enc = "none";
    env.sender_pk = pk;
    env.sig = crypto::sign_b64u(id.keys, blob);
    env.ts = ts;
    env.nonce = nonce;
    b.envelope = std::move(env);
  }
  return call("POST", route::kSendRoom, b.to_json().dump(), Auth::kNone);
}

Result<RelayReply> RelayClient::heartbeat(std::string_view node_id, std::string_view session_id,
                                          std::string_view alias) {
  protocol::SessionRequest b{std::string(node_id), std::string(session_id)};
  return call("POST", route::kHeartbeat, b.to_json().dump(), Auth::kPeer, alias);
}

Result<RelayReply> RelayClient::send(const SendParams& p) {
  protocol::SendRequest b;
  b.from_alias = p.from_alias;
  b.to_alias = p.to_alias;
  b.content = p.content;
  b.message_id = p.message_id;
  return call("POST", route::kSend, b.to_json().dump(), Auth::kPeer, p.from_alias);
}

Result<RelayReply> RelayClient::send_batch(std::string_view from_alias,
                                           const std::vector<SendParams>& messages) {
  protocol::SendBatchRequest b;
  b.from_alias = std::string(from_alias);
  b.messages.reserve(messages.size());
  for (const auto& p : messages) {
    protocol::SendBatchItem m;
    m.message_id = p.message_id;
    m.to_alias = p.to_alias;
    m.content = p.content;
    b.messages.push_back(std::move(m));
  }
  return call("POST", route::kSendBatch, b.to_json().dump(), Auth::kPeer, from_alias);
}

Result<RelayReply> RelayClient::peek_inbox(std::string_view node_id, std::string_view session_id,
                                           std::string_view alias) {
  protocol::SessionRequest b{std::string(node_id), std::string(session_id)};
  return call("POST", route::kPeekInbox, b.to_json().dump(), Auth::kPeer, alias);
}

Result<RelayReply> RelayClient::poll_inbox(std::string_view node_id, std::string_view session_id,
                                           std::string_view alias,
                                           const std::optional<std::vector<std::string>>& ack_ids) {
  protocol::PollRequest b{std::string(node_id), std::string(session_id), ack_ids};
  return call("POST", route::kPollInbox, b.to_json().dump(), Auth::kPeer, alias);
}

Result<RelayReply> RelayClient::post_receipts(std::string_view alias,
                                              std::vector<protocol::DeliveryReceipt> receipts) {
  protocol::PostReceiptsRequest b{std::string(alias), std::move(receipts)};
  return call("POST", route::kReceipts, b.to_json().dump(), Auth::kPeer, alias);
}

Result<RelayReply> RelayClient::fetch_receipts(std::string_view alias,
                                               std::vector<std::string> ack) {
  // This client's callers (the connector) read batched receipts.
  protocol::FetchReceiptsRequest b{std::string(alias), std::move(ack), /*receipt_batches=*/true};
  return call("POST", route::kFetchReceipts, b.to_json().dump(), Auth::kPeer, alias);
}

Result<RelayReply> RelayClient::pubkey(std::string_view alias, std::string_view sign_as) {
  return call("GET", std::string(route::kPubkeyPrefix) + std::string(alias), "", Auth::kPeer,
              sign_as);
}

Result<RelayReply> RelayClient::list_peers(std::string_view sign_as) {
  return call("GET", route::kList, "", Auth::kPeer, sign_as);
}

Result<RelayReply> RelayClient::stream(const protocol::StreamRequest& req,
                                       std::string_view sign_as) {
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(req.wait * 1000) + 15'000);
  return call("POST", route::kStream, req.to_json().dump(), Auth::kPeer, sign_as, timeout);
}

Result<RelayReply> RelayClient::list_all_peers() {
  return call("GET", std::string(route::kList) + "?include_dead=1", "", Auth::kAdmin);
}

Result<RelayReply> RelayClient::gc() {
  return call("POST", route::kGc, "{}", Auth::kAdmin);
}

Result<RelayReply> RelayClient::dead_letter() {
  return call("GET", route::kDeadLetter, "", Auth::kAdmin);
}

// ---------- identity ----------

Result<IdentityLoad> load_or_create_identity(const std::filesystem::path& path,
                                             bool create_if_missing, std::string_view alias_hint,
                                             const Clock& clock) {
  IdentityLoad out;
  out.path = path;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (!create_if_missing) return out;
    // Several commands may start at once on a fresh machine (two connectors, connect + rooms
    // join): create under an exclusive lock on the directory and look again, so exactly one
    // identity is made and every process uses it (tests/integration/security_test.cpp,
    // SecurityReview.ConcurrentFirstRunsCreateExactlyOneIdentity).
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
    std::filesystem::create_directories(dir, ec);
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) ::flock(dir_fd, LOCK_EX);  // released by close()
    struct CloseFd {
      int fd;
      ~CloseFd() {
        if (fd >= 0) ::close(fd);
      }
    } lock{dir_fd};
    if (!std::filesystem::exists(path, ec)) {
      auto id = crypto::new_identity(std::string(alias_hint), clock.now());
      C2C_TRY(crypto::save_identity(path, id));
      out.identity = std::move(id);
      out.created = true;
      return out;
    }
  }
  auto id = crypto::load_identity(path);
  if (!id) return Unexpected{id.error()};
  out.identity = std::move(id).value();
  return out;
}

}  // namespace c2c::relay
