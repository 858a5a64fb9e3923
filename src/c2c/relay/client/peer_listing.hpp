#pragma once
// A relay's peers, the best way the caller's credentials allow (`c2c relay status`, `relay list`,
// the relay line of `c2c health`: docs/relay-client.md). The admin listing (an admin token, or a
// dev-mode relay) shows dead leases too; a prod relay refuses it without the token, and then a
// /list signed as one of this machine's aliases shows the live peers.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "c2c/core/result.hpp"
#include "c2c/relay/client/relay_client.hpp"
#include "c2c/relay/protocol/messages.hpp"

namespace c2c::relay {

struct PeerList {
  std::vector<protocol::LeaseInfo> peers;
  bool includes_dead = false;  // false: only live peers were visible (a signed /list)
};

// Who signs the fallback /list. Asked for only when the admin listing was refused.
struct ListSigner {
  // The client that signs; nullopt: the caller's client (it holds an identity already).
  std::optional<RelayClient> client;
  std::string alias;  // the alias to sign as; "" when this machine has none
};

// The admin listing; when the relay refuses it (401/403) and dead leases are not needed, a /list
// signed by signer(). A refusal is kUnauthorized, with the refusing reply in *refusal; a signer
// with an identity but no alias is kUnauthorized naming the admin token (nothing is sent).
// Unreachable relay or unreadable answer: that error.
Result<PeerList> list_peers_as_allowed(RelayClient& client, bool need_dead,
                                       const std::function<ListSigner()>& signer,
                                       RelayReply* refusal);

size_t count_alive(const PeerList& list);

}  // namespace c2c::relay
