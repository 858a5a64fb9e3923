#include "c2c/crypto/canonical.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace c2c::crypto {

namespace {

constexpr char kUnitSeparator = '\x1f';

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; a '%' not followed by two hex digits stays literal (and is
// re-encoded as %25), so every input has one deterministic canonical form. '+' is kept
// as is: RFC 3986 gives it no special meaning in a query.
std::string pct_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void pct_encode_to(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
}

}  // namespace

std::string canonical_blob(std::string_view ctx, std::initializer_list<std::string_view> fields) {
  size_t size = ctx.size();
  for (const auto f : fields) size += 1 + f.size();
  std::string out;
  out.reserve(size);
  out.append(ctx);
  for (const auto f : fields) {
    out.push_back(kUnitSeparator);
    out.append(f);
  }
  return out;
}

std::string delivery_receipt_blob(std::string_view message_id, std::string_view state,
                                  std::string_view recipient, long long ts_ms) {
  const std::string ts = std::to_string(ts_ms);
  return canonical_blob(kCtxDeliveryReceipt, {message_id, state, recipient, ts});
}

std::string delivery_receipts_blob(std::span<const std::string> message_ids, std::string_view state,
                                   std::string_view recipient, long long ts_ms) {
  std::string out = canonical_blob(kCtxDeliveryReceipts, {state, recipient, std::to_string(ts_ms),
                                                          std::to_string(message_ids.size())});
  for (const auto& id : message_ids) {
    out.push_back(kUnitSeparator);
    out.append(id);
  }
  return out;
}

std::string register_blob_v1(std::string_view alias, std::string_view relay_url,
                             std::string_view identity_pk, std::string_view timestamp,
                             std::string_view nonce) {
  return canonical_blob(kCtxRegister, {alias, relay_url, identity_pk, timestamp, nonce});
}

std::string register_blob_v2(std::string_view alias, std::string_view relay_url,
                             std::string_view identity_pk, std::string_view timestamp,
                             std::string_view nonce, std::string_view node_id,
                             std::string_view session_id, int64_t ttl_seconds) {
  const std::string ttl = std::to_string(ttl_seconds);
  return canonical_blob(
      kCtxRegisterV2, {alias, relay_url, identity_pk, timestamp, nonce, node_id, session_id, ttl});
}

std::string body_hash(std::string_view body) {
  if (body.empty()) return "";
  return sha256_b64u(body);
}

std::string canonical_query(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start <= raw_query.size()) {
    size_t end = raw_query.find('&', start);
    if (end == std::string_view::npos) end = raw_query.size();
    const std::string_view item = raw_query.substr(start, end - start);
    const size_t eq = item.find('=');
    if (eq != std::string_view::npos) {
      pairs.emplace_back(pct_decode(item.substr(0, eq)), pct_decode(item.substr(eq + 1)));
    }
    start = end + 1;
  }
  // Stable: repeated keys keep their order of appearance.
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    pct_encode_to(out, key);
    out.push_back('=');
    pct_encode_to(out, value);
  }
  return out;
}

std::string request_blob(std::string_view method, std::string_view path, std::string_view query,
                         std::string_view body_hash_b64u, std::string_view ts,
                         std::string_view nonce) {
  return canonical_blob(kCtxRequest, {method, path, query, body_hash_b64u, ts, nonce});
}

std::string sign_b64u(const KeyPair& keys, std::string_view blob) {
  return b64u_encode(sign(keys, blob));
}

bool verify_b64u(const PublicKey& pk, std::string_view blob, std::string_view sig_b64u) {
  const auto sig = b64u_decode_fixed<64>(sig_b64u);
  return sig && verify(pk, blob, *sig);
}

}  // namespace c2c::crypto
