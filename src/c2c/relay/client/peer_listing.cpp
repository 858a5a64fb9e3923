#include "c2c/relay/client/peer_listing.hpp"

#include <algorithm>

namespace c2c::relay {
namespace {

// The peers of an ok /list reply, as the listing says; a signed /list shows live peers only and
// sends no alive flag, so they are marked alive.
Result<PeerList> peers_of(const RelayReply& reply, bool includes_dead) {
  auto parsed = protocol::ListResponse::from_json(reply.body);
  if (!parsed) return Unexpected{parsed.error()};
  if (!includes_dead) {
    for (auto& p : parsed->peers) p.alive = true;
  }
  return PeerList{std::move(parsed->peers), includes_dead};
}

}  // namespace

Result<PeerList> list_peers_as_allowed(RelayClient& client, bool need_dead,
                                       const std::function<ListSigner()>& signer,
                                       RelayReply* refusal) {
  auto all = client.list_all_peers();
  if (!all) return Unexpected{all.error()};
  if (all->ok()) return peers_of(*all, /*includes_dead=*/true);
  if (need_dead || !all->auth_refused()) {
    *refusal = all.value();
    return fail(ErrorCode::kUnauthorized, all->describe());
  }
  // Prod relay, no admin token: sign /list as an alias of this machine.
  ListSigner s = signer();
  RelayClient& signing = s.client ? *s.client : client;
  if (s.alias.empty() && signing.has_identity()) {
    return fail(ErrorCode::kUnauthorized,
                "listing peers on a prod relay needs the admin token (--token-file or "
                "C2C_RELAY_TOKEN) or an alias of this machine registered on the relay to sign as "
                "(the local broker has none)");
  }
  auto peers = signing.list_peers(s.alias);
  if (!peers) return Unexpected{peers.error()};
  if (!peers->ok()) {
    *refusal = peers.value();
    return fail(ErrorCode::kUnauthorized, peers->describe());
  }
  return peers_of(*peers, /*includes_dead=*/false);
}

size_t count_alive(const PeerList& list) {
  return static_cast<size_t>(
      std::count_if(list.peers.begin(), list.peers.end(), [](const auto& p) { return p.alive; }));
}

}  // namespace c2c::relay
