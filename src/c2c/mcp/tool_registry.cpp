#include "c2c/mcp/tool_registry.hpp"

#include <stdexcept>

#include "c2c/mcp/tools/tools.hpp"

namespace c2c::mcp {

using nlohmann::json;

namespace schema {
json string_prop(std::string description) {
  return {{"type", "string"}, {"description", std::move(description)}};
}
json enum_prop(std::vector<std::string> values, std::string description) {
  return {{"type", "string"}, {"enum", std::move(values)}, {"description", std::move(description)}};
}
json bool_prop(std::string description) {
  return {{"type", "boolean"}, {"description", std::move(description)}};
}
json int_prop(std::string description) {
  return {{"type", "integer"}, {"description", std::move(description)}};
}
json number_prop(std::string description) {
  return {{"type", "number"}, {"description", std::move(description)}};
}
json string_array_prop(std::string description) {
  return {
      {"type", "array"}, {"items", {{"type", "string"}}}, {"description", std::move(description)}};
}
json object(json props, std::vector<std::string> required) {
  if (props.is_null()) props = json::object();
  return {{"type", "object"},
          {"properties", std::move(props)},
          {"required", std::move(required)},
          {"additionalProperties", false}};
}
json out_object(json props, std::vector<std::string> required) {
  return {{"type", "object"}, {"properties", std::move(props)}, {"required", std::move(required)}};
}
json out_array(json items) {
  return {{"type", "array"}, {"items", std::move(items)}};
}
json out(const char* type) {
  return {{"type", type}};
}
json out_nullable(const char* type) {
  return {{"type", json::array({type, "null"})}};
}
json out_strings() {
  return out_array(out("string"));
}
}  // namespace schema

ToolSpec& ToolSpec::output(std::string tool_title, ToolHints tool_hints, json schema,
                           std::string wrap) {
  title = std::move(tool_title);
  hints = tool_hints;
  output_schema = std::move(schema);
  wrap_key = std::move(wrap);
  return *this;
}

json ToolSpec::success_result(const json& payload) const {
  const auto dump = [](const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  };
  std::string body;
  if (payload.is_string()) {
    body = payload.get<std::string>();
  } else if (payload.is_object() && text) {
    body = text(payload);
  } else {
    body = dump(payload);
  }
  json result = {{"content", json::array({{{"type", "text"}, {"text", std::move(body)}}})}};
  if (!output_schema.is_null()) {
    result["structuredContent"] =
        payload.is_object() || wrap_key.empty() ? payload : json{{wrap_key, payload}};
  }
  result["isError"] = false;
  return result;
}

ToolSpec& ToolRegistry::add(ToolSpec spec) {
  if (find(spec.name) != nullptr) throw std::logic_error("duplicate MCP tool: " + spec.name);
  tools_.push_back(std::move(spec));
  return tools_.back();
}

const ToolSpec* ToolRegistry::find(std::string_view name) const {
  for (const auto& t : tools_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

json ToolRegistry::list_json() const {
  json tools = json::array();
  for (const auto& t : tools_) {
    json tool = {{"name", t.name}};
    if (!t.title.empty()) tool["title"] = t.title;
    tool["description"] = t.description;
    tool["inputSchema"] = t.input_schema;
    if (!t.output_schema.is_null()) tool["outputSchema"] = t.output_schema;
    json annotations = {{"readOnlyHint", t.hints.read_only},
                        {"destructiveHint", t.hints.destructive},
                        {"idempotentHint", t.hints.idempotent},
                        {"openWorldHint", t.hints.open_world}};
    if (!t.title.empty()) annotations["title"] = t.title;
    tool["annotations"] = std::move(annotations);
    tools.push_back(std::move(tool));
  }
  return {{"tools", std::move(tools)}};
}

std::string json_type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "float";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "null";
  }
}

namespace {

bool has_type(const json& value, const std::string& type) {
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "array") return value.is_array();
  if (type == "object") return value.is_object();
  return true;
}

std::string article_type(const std::string& type) {
  return (type == "integer" || type == "array" || type == "object") ? "an " + type : "a " + type;
}

}  // namespace

Result<void> validate_arguments(const json& schema, const json& args) {
  const json& props = schema.at("properties");
  for (const auto& name : schema.value("required", json::array())) {
    const std::string key = name.get<std::string>();
    if (!args.contains(key) || args.at(key).is_null()) {
      const std::string type = props.at(key).value("type", "string");
      return fail(ErrorCode::kBadRequest, "missing required " + type + " argument '" + key + "'");
    }
  }
  for (const auto& [key, value] : args.items()) {
    if (!props.contains(key)) continue;  // tolerated: agents sometimes add extra keys
    if (value.is_null()) continue;       // null means "not given" for optional arguments
    const json& prop = props.at(key);
    const std::string type = prop.value("type", "string");
    if (!has_type(value, type)) {
      return fail(ErrorCode::kBadRequest, "argument '" + key + "' must be " + article_type(type) +
                                              ", got " + json_type_name(value));
    }
    if (type == "array" && prop.contains("items")) {
      const std::string item_type = prop["items"].value("type", "string");
      for (const auto& item : value) {
        if (!has_type(item, item_type)) {
          return fail(ErrorCode::kBadRequest, "argument '" + key + "' must be an array of " +
                                                  item_type + "s, got an element of type " +
                                                  json_type_name(item));
        }
      }
    }
    if (prop.contains("enum")) {
      bool allowed = false;
      for (const auto& v : prop["enum"]) allowed = allowed || v == value;
      if (!allowed) {
        std::string choices;
        for (const auto& v : prop["enum"]) {
          if (!choices.empty()) choices += ", ";
          choices += v.get<std::string>();
        }
        return fail(ErrorCode::kBadRequest, "argument '" + key + "' must be one of: " + choices +
                                                " (got " + value.dump() + ")");
      }
    }
  }
  return {};
}

const ToolRegistry& default_tools() {
  static const ToolRegistry registry = [] {
    ToolRegistry r;
    tools::register_identity_tools(r);
    tools::register_messaging_tools(r);
    tools::register_rooms_tools(r);
    tools::register_maintenance_tools(r);
    return r;
  }();
  return registry;
}

}  // namespace c2c::mcp
