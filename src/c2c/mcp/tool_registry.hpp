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

// MCP tool annotations: hints a client may use to decide whether to ask the user first.
struct ToolHints {
  bool read_only = false;    // readOnlyHint: changes nothing
  bool destructive = false;  // destructiveHint: may delete something that cannot be recreated
  bool idempotent = false;   // idempotentHint: repeating the same call has no further effect
  bool open_world = false;   // openWorldHint: reaches other agents (messages leave this tool)
};

struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::json input_schema;  // {"type":"object","properties":{...},"required":[...]}
  ToolHandler handler;
  // May block for long (wait_for_message): the stdio server runs it on its own thread so
  // other requests (ping, notifications/cancelled) keep being answered meanwhile.
  bool blocking = false;
  // Set with output(): the tool's title and annotations, and the JSON Schema of its
  // structuredContent (docs/mcp.md "Tool results"). A successful result carries
  // structuredContent = the handler's payload when it is an object, else
  // {wrap_key: payload}; the text block stays the payload as JSON (or the plain text).
  std::string title;
  ToolHints hints;
  nlohmann::json output_schema;  // null: the tool has no structured output
  std::string wrap_key;
  // Optional: the text block for an object payload, when it is not the payload's JSON.
  std::function<std::string(const nlohmann::json&)> text;

  // Declares the tool's title, annotations and output, e.g.
  //   r.add({"send", "...", object(...), send_tool})
  //       .output("Send a message", {.open_world = true}, schema::out_object(...));
  ToolSpec& output(std::string tool_title, ToolHints tool_hints, nlohmann::json schema,
                   std::string wrap = "");
  // {"content":[{"type":"text","text":...}],"structuredContent"?:...,"isError":false}.
  nlohmann::json success_result(const nlohmann::json& payload) const;
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

// Output schemas: result objects may gain fields later, so they allow extra properties.
// {"type":"object","properties":props,"required":required}
nlohmann::json out_object(nlohmann::json props, std::vector<std::string> required);
nlohmann::json out_array(nlohmann::json items);  // {"type":"array","items":items}
nlohmann::json out(const char* type);            // {"type":type}
nlohmann::json out_nullable(const char* type);   // {"type":[type,"null"]}
nlohmann::json out_strings();                    // array of strings
}  // namespace schema

class ToolRegistry {
 public:
  ToolSpec& add(ToolSpec spec);
  const ToolSpec* find(std::string_view name) const;
  const std::vector<ToolSpec>& tools() const { return tools_; }
  // {"tools":[{"name","title","description","inputSchema","outputSchema"?,"annotations"}...]}
  // in registration order.
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
