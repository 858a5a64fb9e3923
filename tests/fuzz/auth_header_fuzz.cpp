// Fuzzes the Ed25519 Authorization header parser and the encodings it relies on.
// Properties: never crashes; a parsed header survives format -> parse unchanged; verification of
// arbitrary parsed input never succeeds against a fixed key it was not signed with.
#include <cstdint>
#include <string_view>

#include "c2c/crypto/canonical.hpp"
#include "c2c/crypto/crypto.hpp"
#include "c2c/crypto/request_auth.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace c2c::crypto;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  (void)b64u_decode(in);
  (void)canonical_query(in);

  auto parsed = parse_ed25519_header(in);
  if (!parsed) return 0;
  auto again = parse_ed25519_header(format_ed25519_header(*parsed));
  if (!again || again->alias != parsed->alias || again->ts != parsed->ts ||
      again->nonce != parsed->nonce || again->sig != parsed->sig) {
    __builtin_trap();
  }
  static const KeyPair keys = KeyPair::from_seed(Seed{});
  if (verify_request(keys.public_key, *parsed, "POST", "/send", "", "{}")) __builtin_trap();
  return 0;
}
