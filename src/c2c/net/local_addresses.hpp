#pragma once
// This machine's network identity, for a relay listening on a wildcard address to know the URLs
// clients may reach it by (relay/server default_public_urls).

#include <string>
#include <vector>

namespace c2c::net {

// The numeric IPv4 and IPv6 addresses of the interfaces that are up (link-local IPv6 addresses
// left out: a URL cannot name one without a zone), in the order the system lists them.
std::vector<std::string> local_interface_addresses();

// gethostname(), "" when it fails.
std::string host_name();

}  // namespace c2c::net
