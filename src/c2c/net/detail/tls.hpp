#pragma once
// Internal to c2c_net: OpenSSL contexts for the server and the client, with readable errors.

#include <memory>
#include <string>

#include "c2c/core/result.hpp"
#include "c2c/net/detail/asio.hpp"
#include "c2c/net/http_server.hpp"

namespace c2c::net::detail {

// TLS 1.2+ server context from a PEM certificate chain and private key.
Result<std::shared_ptr<asio::ssl::context>> make_server_tls_context(const TlsFiles& files);
// Client context verifying peers against `ca_bundle` (PEM) or the system trust store.
Result<std::shared_ptr<asio::ssl::context>> make_client_tls_context(const std::string& ca_bundle);

// "certificate verify failed: self-signed certificate" rather than an OpenSSL error number.
std::string describe_tls_error(const error_code& ec);

}  // namespace c2c::net::detail
