#include <openssl/err.h>
#include <openssl/ssl.h>

#include <filesystem>
#include <fstream>

#include "c2c/net/detail/tls.hpp"

namespace c2c::net::detail {
namespace {

Unexpected<> tls_fail(const std::string& what, const std::string& path, const std::string& why) {
  return fail(ErrorCode::kUnavailable, what + " '" + path + "': " + why);
}

// A file we can open, or why not (missing, unreadable), for messages better than OpenSSL's.
std::string check_readable(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return "no such file";
  std::ifstream in(path);
  if (!in) return "cannot open file";
  return "";
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> make_server_tls_context(const TlsFiles& files) {
  if (auto why = check_readable(files.cert_path); !why.empty()) {
    return tls_fail("cannot load TLS certificate", files.cert_path, why);
  }
  if (auto why = check_readable(files.key_path); !why.empty()) {
    return tls_fail("cannot load TLS private key", files.key_path, why);
  }
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  error_code ec;
  ctx->use_certificate_chain_file(files.cert_path, ec);
  if (ec) return tls_fail("cannot load TLS certificate", files.cert_path, ec.message());
  ctx->use_private_key_file(files.key_path, asio::ssl::context::pem, ec);
  if (ec) return tls_fail("cannot load TLS private key", files.key_path, ec.message());
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return tls_fail("TLS private key does not match certificate", files.key_path, "key mismatch");
  }
  return ctx;
}

Result<std::shared_ptr<asio::ssl::context>> make_client_tls_context(const std::string& ca_bundle) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  error_code ec;
  if (ca_bundle.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) {
      return fail(ErrorCode::kUnavailable, "cannot load the system CA store: " + ec.message());
    }
  } else {
    if (auto why = check_readable(ca_bundle); !why.empty()) {
      return tls_fail("cannot load CA bundle", ca_bundle, why);
    }
    ctx->load_verify_file(ca_bundle, ec);
    if (ec) return tls_fail("cannot load CA bundle", ca_bundle, ec.message());
  }
  ctx->set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

std::string describe_tls_error(const error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    // OpenSSL packs library and reason into the value; the reason string is the useful part.
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (reason != nullptr) return reason;
  }
  if (ec == asio::ssl::error::stream_truncated) return "connection closed during TLS";
  return ec.message();
}

}  // namespace c2c::net::detail
