#pragma once
// The declarative tool table (Dragonfly's command families, clangd's LSPBinder): each tool is
// one row of name, description, JSON Schema and handler. tools/list is generated from the
// table, and tools/call validates arguments against the same schema before the handler runs,
// so a handler only ever sees well-typed arguments.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "c2c/core/result.hpp"

namespace c2c::mcp {

class ToolContext;

// A handler returns the tool's payload: a JSON string is sent as plain text, anything else
// as compact JSON text. An error becomes an isError result carrying its message.
using ToolHandler = std::function<Result<nlohmann::json>(ToolContext&, const nlohmann::json&)>;

struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::json input_schema;  // {"type":"object","properties":{...},"required":[...]}
  ToolHandler handler;
  // May block for long (wait_for_message): the stdio server runs it on its own thread so
  // other requests (ping, notifications/cancelled) keep being answered meanwhile.
  bool blocking = false;
};

// Schema builders so each family's table reads as one screen.
namespace schema {
nlohmann::json string_prop(std::string description);
nlohmann::json enum_prop(std::vector<std::string> values, std::string description);
nlohmann::json bool_prop(std::string description);
nlohmann::json int_prop(std::string description);
nlohmann::json number_prop(std::string description);
nlohmann::json string_array_prop(std::string description);
// {"type":"object","properties":props,"required":required,"additionalProperties":false}
nlohmann::json object(nlohmann::json props, std::vector<std::string> required = {});
}  // namespace schema

class ToolRegistry {
 public:
  void add(ToolSpec spec);
  const ToolSpec* find(std::string_view name) const;
  const std::vector<ToolSpec>& tools() const { return tools_; }
  // {"tools":[{"name","description","inputSchema"}...]} in registration order.
  nlohmann::json list_json() const;

 private:
  std::vector<ToolSpec> tools_;
};

// Checks `args` against a tool's schema: required properties present, declared properties of
// the declared type (string, boolean, integer, number, array of strings), enum values allowed.
// Undeclared properties are ignored. Error messages name the argument so an agent can fix it:
//   missing required string argument 'to_alias'
//   argument 'limit' must be an integer, got string
Result<void> validate_arguments(const nlohmann::json& schema, const nlohmann::json& args);

// "string", "integer", "float", "boolean", "array", "object", "null" (for error messages).
std::string json_type_name(const nlohmann::json& value);

// The registry with every c2c tool (tools/*.cpp), in tools/list order.
const ToolRegistry& default_tools();

}  // namespace c2c::mcp
