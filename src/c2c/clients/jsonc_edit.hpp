#pragma once
// Edits one member of a JSON or JSONC (JSON with comments and trailing commas) document in
// place: every byte outside the edited member stays as it was (comments, key order,
// indentation). The document is parsed by a small span-recording parser; each edit is then
// checked by parsing the result again and comparing it with the expected value, so a wrong
// edit is refused rather than written (docs/clients.md "How install edits files").

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/core/result.hpp"

namespace c2c::clients {

// Parses JSON/JSONC text (comments `//` and `/* */`, trailing commas) into a value with its
// key order. An empty or whitespace-only text is an empty object. Errors name the line and
// column: "line 3, column 7: expected ':' after an object key".
Result<nlohmann::ordered_json> parse_jsonc(std::string_view text);

// Sets path[0]...path[n-1] = value (creating the missing objects on the way) and returns the
// new text. Refuses when an object on the path is not an object, or a key is duplicated.
Result<std::string> jsonc_set(std::string_view text, const std::vector<std::string>& path,
                              const nlohmann::ordered_json& value);

// Removes path[n-1] from its object; the text is returned unchanged when it is absent.
Result<std::string> jsonc_remove(std::string_view text, const std::vector<std::string>& path);

}  // namespace c2c::clients
