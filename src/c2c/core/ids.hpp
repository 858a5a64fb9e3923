#pragma once
// Identifiers: random UUIDv4 message ids.

#include <string>
#include <string_view>

namespace c2c {

// A random RFC 4122 version-4 UUID, lower-case, 36 chars ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx").
std::string new_uuid_v4();

// True if `s` has the shape of a UUID (8-4-4-4-12 lower/upper hex).
bool looks_like_uuid(std::string_view s);

}  // namespace c2c
