// Identity tools: register, whoami, list (docs/mcp.md).
#include "c2c/core/text.hpp"
#include "c2c/mcp/tools/tools.hpp"

namespace c2c::mcp::tools {

using nlohmann::json;

namespace {

Result<json> collision_error(ToolContext& ctx, const std::string& alias) {
  json err = {{"collision", true}, {"contested_alias", alias}};
  std::string holder_sid = "?";
  if (auto holder = ctx.broker().find_alias(alias); holder && holder->has_value()) {
    holder_sid = (*holder)->session_id;
  }
  err["holder_session_id"] = holder_sid;
  std::string text = "register rejected: alias '" + alias +
                     "' is currently held by an alive session '" + holder_sid + "'.";
  if (auto suggestion = suggest_free_alias(ctx.broker(), alias)) {
    text += " Suggested free alias: '" + *suggestion + "'.";
    err["suggested_alias"] = *suggestion;
  } else {
    err["collision_exhausted"] = true;
  }
  text += " Options: register under another alias, or stop the other session first.";
  err["error"] = text;
  return fail(ErrorCode::kAliasConflict, err.dump());
}

// A server registers only its own session (docs/security.md, issue 8.3): naming another
// session would rename that agent and free its alias for the caller to take with its inbox.
// A server without a session may claim one that is not held by another possibly-live process.
Result<void> check_own_session(ToolContext& ctx, const std::optional<std::string>& current,
                               const std::string& sid) {
  if (current) {
    if (*current == sid) return {};
    return fail(ErrorCode::kBadRequest,
                "register rejected: this server speaks for session '" + *current +
                    "' and may register only that session, not '" + sid + "'");
  }
  auto existing = ctx.broker().find_session(sid);
  if (!existing) return Unexpected{existing.error()};
  if (!existing->has_value()) return {};
  const broker::Registration& reg = **existing;
  const long long pid = registration_pid(ctx.config().client_pid);
  if (ctx.broker().liveness(reg) == broker::Liveness::kDead || reg.pid == pid) return {};
  return fail(ErrorCode::kAliasConflict,
              "register rejected: session '" + sid + "' is registered as '" + reg.alias +
                  "' by another process that may be alive" +
                  (reg.pid ? " (pid " + std::to_string(*reg.pid) + ")" : std::string()) +
                  "; a server may register only its own session");
}

Result<json> register_tool(ToolContext& ctx, const json& args) {
  const std::optional<std::string> current = ctx.session().get();
  std::optional<std::string> sid;
  if (auto arg = opt_string(args, "session_id"); arg && !trim(*arg).empty()) {
    sid = std::string(trim(*arg));
    C2C_TRY(check_own_session(ctx, current, *sid));
  } else {
    sid = current;
  }

  std::string alias;
  if (auto arg = opt_string(args, "alias"); arg && !trim(*arg).empty()) {
    alias = std::string(trim(*arg));
  } else if (sid) {
    // No alias given: keep the session's existing alias rather than renaming it implicitly.
    auto existing = ctx.alias_of(*sid);
    if (!existing) return Unexpected{existing.error()};
    if (existing->has_value()) alias = **existing;
  }
  if (alias.empty()) alias = ctx.config().auto_register_alias;
  if (alias.empty()) {
    return fail(ErrorCode::kBadRequest,
                "alias is required (pass {\"alias\":\"your-name\"} or set "
                "C2C_MCP_AUTO_REGISTER_ALIAS)");
  }
  if (is_reserved_alias(alias)) {
    return fail(ErrorCode::kReservedAlias,
                "register rejected: alias '" + alias + "' is reserved for c2c itself");
  }
  if (!is_valid_alias(alias)) {
    return fail(ErrorCode::kInvalidAlias,
                "register rejected: invalid alias '" + alias +
                    "'. Allowed chars: [A-Za-z0-9._-], 1..64, no leading dot.");
  }
  // Without any session id the alias doubles as the session, as for auto-register.
  if (!sid) sid = alias;
  if (!is_safe_file_component(*sid)) {
    return fail(ErrorCode::kBadRequest, "register rejected: invalid session_id '" + *sid +
                                            "' (1-128 chars of [A-Za-z0-9._:-])");
  }

  broker::RegisterRequest req{*sid,
                              alias,
                              registration_pid(ctx.config().client_pid),
                              ctx.config().client_type,
                              opt_string(args, "role").value_or(""),
                              true};
  auto reg = ctx.broker().register_session(req);
  if (!reg) {
    if (reg.error().code == ErrorCode::kAliasConflict) return collision_error(ctx, alias);
    return Unexpected{reg.error()};
  }
  // A server started without a session id now speaks for the one it registered.
  if (!current) ctx.session().bind(*sid);

  return json_view::registered(*reg, kAgentView);
}

// register's text block: `registered <alias>` (+ how many dead letters came back).
std::string register_text(const json& out) {
  std::string text = "registered " + out.at("alias").get<std::string>();
  if (const size_t n = out.at("redelivered_dead_letters").get<size_t>(); n > 0) {
    text +=
        " (redelivered " + std::to_string(n) + " dead-letter message" + (n == 1 ? "" : "s") + ")";
  }
  return text;
}

// whoami's text block: the alias (empty when unregistered), or {alias, canonical_alias}.
std::string whoami_text(const json& out) {
  if (!out.at("registered").get<bool>()) return "";
  if (out.contains("canonical_alias")) {
    return json{{"alias", out["alias"]}, {"canonical_alias", out["canonical_alias"]}}.dump();
  }
  return out.at("alias").get<std::string>();
}

Result<json> whoami_tool(ToolContext& ctx, const json& args) {
  auto sid = ctx.session_from_args(args, "whoami");
  if (!sid) return Unexpected{sid.error()};
  auto reg = ctx.broker().find_session(*sid);
  if (!reg) return Unexpected{reg.error()};
  // Not registered is not an error (registered: false): the agent should call register next.
  return json_view::whoami(*sid, *reg, kAgentView);
}

Result<json> list_tool(ToolContext& ctx, const json& args) {
  auto regs = ctx.broker().registrations();
  if (!regs) return Unexpected{regs.error()};
  const bool alive_only = opt_bool(args, "alive_only");
  json out = json::array();
  for (const auto& r : *regs) {
    const auto alive = ctx.broker().liveness(r);
    if (alive_only && alive != broker::Liveness::kAlive) continue;
    out.push_back(json_view::peer(r, alive, kAgentView));
  }
  return out;
}

}  // namespace

void register_identity_tools(ToolRegistry& r) {
  using namespace schema;
  r.add(
       {"register",
        "Register this session in the local c2c broker under an alias so other agents can "
        "message you. Call it once at startup unless the server already auto-registered you "
        "(whoami tells). Aliases are 1-64 chars of [A-Za-z0-9._-]; if another live agent holds "
        "the alias, the error names a free one to use instead. Registering again with the same "
        "alias is harmless. Returns 'registered <alias>'.",
        object({{"alias", string_prop("The name other agents will use to reach you. Defaults "
                                      "to C2C_MCP_AUTO_REGISTER_ALIAS or your current alias.")},
                {"session_id", string_prop("Session to register. Defaults to this server's "
                                           "session (C2C_MCP_SESSION_ID); rarely needed.")},
                {"role", string_prop("Optional free-text role shown to peers, e.g. 'reviewer'.")}}),
        register_tool})
      .output("Register under an alias", {.idempotent = true},
              out_object({{"alias", out("string")},
                          {"session_id", out("string")},
                          {"redelivered_dead_letters", out("integer")}},
                         {"alias", "session_id", "redelivered_dead_letters"}))
      .text = register_text;
  r.add({"whoami",
         "Show the alias this session is registered under. Returns the alias as plain text, or "
         "an empty text if this session is not registered yet (then call register).",
         object({{"session_id", string_prop("Session to look up. Defaults to this server's "
                                            "session.")}}),
         whoami_tool})
      .output("Who am I", {.read_only = true, .idempotent = true},
              out_object({{"registered", out("boolean")},
                          {"alias", out("string")},
                          {"session_id", out("string")},
                          {"canonical_alias", out("string")}},
                         {"registered", "alias", "session_id"}))
      .text = whoami_text;
  r.add({"list",
         "List the agents registered in the local broker, as a JSON array of "
         "{session_id, alias, pid?, alive, registered_at?}. alive is true, false (process gone) "
         "or null (unknown: no pid recorded). Use it to find the alias to send to.",
         object({{"alive_only", bool_prop("Only return agents whose process is known alive.")}}),
         list_tool})
      .output("List agents", {.read_only = true, .idempotent = true},
              out_object({{"agents", out_array(out_object({{"session_id", out("string")},
                                                           {"alias", out("string")},
                                                           {"pid", out("integer")},
                                                           {"alive", out_nullable("boolean")},
                                                           {"registered_at", out("number")},
                                                           {"canonical_alias", out("string")}},
                                                          {"session_id", "alias", "alive"}))}},
                         {"agents"}),
              "agents");
}

}  // namespace c2c::mcp::tools
