#pragma once
// Sets or removes one table (e.g. [mcp_servers.c2c]) of a TOML document, parsed with toml++.
// The parser locates every line the table occupies (its header, keys and values, in whatever
// form: header table, dotted keys or inline table); only those lines change, so comments and
// everything else stay byte for byte. The result is parsed again and compared with the
// expected document before it is returned (docs/clients.md "How install edits files").

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "c2c/core/result.hpp"

namespace c2c::clients {

// A string-valued TOML table as written by install: ordered keys, string or string-array
// values, and one optional inline sub-table of strings (env).
struct TomlEntry {
  std::vector<std::pair<std::string, std::string>> strings;
  std::vector<std::pair<std::string, std::vector<std::string>>> arrays;
  std::string inline_table_key;  // e.g. "env"; empty: none
  std::vector<std::pair<std::string, std::string>> inline_table;
};

// Checks that `text` is valid TOML; the error names line and column.
Result<void> check_toml(std::string_view text);

// Sets table `path` (e.g. {"mcp_servers","c2c"}) to `entry`; unchanged text when it already
// holds exactly that.
Result<std::string> toml_set(std::string_view text, const std::vector<std::string>& path,
                             const TomlEntry& entry);
// Removes table `path`; unchanged text when it is absent.
Result<std::string> toml_remove(std::string_view text, const std::vector<std::string>& path);

// Reads table `path` back as an entry (string values, string arrays and the inline table
// named `inline_key`); nullopt when absent.
Result<std::optional<TomlEntry>> toml_get(std::string_view text,
                                          const std::vector<std::string>& path,
                                          const std::string& inline_key);

}  // namespace c2c::clients
