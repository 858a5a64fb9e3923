#include <climits>

#include "c2c/core/text.hpp"
#include "c2c/mcp/tools/tools.hpp"

namespace c2c::mcp {

using nlohmann::json;

std::optional<std::string> opt_string(const json& args, const char* name) {
  const auto it = args.find(name);
  if (it == args.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool opt_bool(const json& args, const char* name) {
  const auto it = args.find(name);
  return it != args.end() && it->is_boolean() && it->get<bool>();
}

std::optional<long long> opt_int(const json& args, const char* name) {
  const auto it = args.find(name);
  if (it == args.end() || !it->is_number_integer()) return std::nullopt;
  if (it->is_number_unsigned()) {
    // Values past LLONG_MAX are clamped rather than wrapped negative.
    const auto u = it->get<unsigned long long>();
    return u > static_cast<unsigned long long>(LLONG_MAX) ? LLONG_MAX : static_cast<long long>(u);
  }
  return it->get<long long>();
}

std::optional<double> opt_number(const json& args, const char* name) {
  const auto it = args.find(name);
  if (it == args.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

json content_prop() {
  return schema::string_prop("Message body (plain text).");
}

json tag_prop() {
  return schema::enum_prop({"fail", "blocking", "urgent"},
                           "Optional priority marker prefixed to the message body.");
}

json message_schema() {
  using namespace schema;
  return out_object({{"from_alias", out("string")},
                     {"to_alias", out("string")},
                     {"content", out("string")},
                     {"ts", out("number")},
                     {"deferrable", out("boolean")},
                     {"enc_status", out("string")}},
                    {"from_alias", "to_alias", "content", "ts"});
}

json room_history_entry_schema() {
  using namespace schema;
  return out_object(
      {{"ts", out("number")}, {"from_alias", out("string")}, {"content", out("string")}},
      {"ts", "from_alias", "content"});
}

Result<std::string> ToolContext::session_from_args(const json& args, std::string_view tool) {
  if (auto arg = opt_string(args, "session_id"); arg && !trim(*arg).empty()) {
    return std::string(trim(*arg));
  }
  return own_session(tool);
}

Result<std::string> ToolContext::own_session(std::string_view tool) {
  if (auto sid = session_.get()) return *sid;
  return fail(ErrorCode::kBadRequest,
              std::string(tool) +
                  ": this MCP server has no session id (set C2C_MCP_SESSION_ID in its "
                  "environment, or call register with an alias first)");
}

Result<std::optional<std::string>> ToolContext::alias_of(const std::string& session_id) {
  auto reg = broker_.find_session(session_id);
  if (!reg) return Unexpected{reg.error()};
  if (!reg->has_value()) return std::optional<std::string>{};
  return std::optional<std::string>{(*reg)->alias};
}

Result<std::string> ToolContext::acting_alias(const json& args, std::string_view tool,
                                              const std::optional<std::string>& session_id,
                                              std::initializer_list<const char*> arg_names,
                                              std::string_view role) {
  if (session_id) {
    auto own = alias_of(*session_id);
    if (!own) return Unexpected{own.error()};
    if (own->has_value()) return **own;
  }
  std::string alias;
  const char* used_arg = "";
  for (const char* name : arg_names) {
    if (auto v = opt_string(args, name); v && !trim(*v).empty()) {
      alias = std::string(trim(*v));
      used_arg = name;
      break;
    }
  }
  if (alias.empty()) {
    return fail(ErrorCode::kBadRequest,
                std::string(tool) + ": missing " + std::string(role) +
                    " alias. Register this session first (register tool) or pass " +
                    *arg_names.begin() + " explicitly.");
  }
  // Impersonation guard: an alias held by another session that is (or may be) alive cannot be
  // borrowed through the arguments.
  auto holder = broker_.find_alias(alias);
  if (!holder) return Unexpected{holder.error()};
  if (holder->has_value() && (*holder)->session_id != session_id.value_or("") &&
      broker_.liveness(**holder) != broker::Liveness::kDead) {
    return fail(ErrorCode::kAliasConflict,
                std::string(tool) + " rejected: " + used_arg + " '" + alias +
                    "' is currently held by alive session '" + (*holder)->session_id +
                    "' — you cannot act as another agent. Register your own alias with the "
                    "register tool.");
  }
  return alias;
}

}  // namespace c2c::mcp
