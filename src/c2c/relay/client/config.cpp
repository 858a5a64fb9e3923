#include "c2c/relay/client/config.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "c2c/core/env.hpp"
#include "c2c/core/secret_file.hpp"
#include "c2c/core/text.hpp"
#include "c2c/crypto/crypto.hpp"

namespace c2c::relay {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

// True when the saved URL and the resolved one name the same relay (scheme and host compare
// case-insensitively; a trailing '/' does not matter).
bool same_relay(const std::optional<std::string>& saved_url, const std::string& url) {
  if (!saved_url || url.empty()) return false;
  auto saved = normalize_url(*saved_url);
  return saved && casefold(saved.value()) == casefold(url);
}

// Trims a one-line command output.
std::string run_capture(const char* cmd) {
  std::string out;
  FILE* p = ::popen(cmd, "r");
  if (p == nullptr) return out;
  std::array<char, 512> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  ::pclose(p);
  return std::string(trim(out));
}

}  // namespace

HostFacts system_host_facts() {
  HostFacts f;
  f.hostname = [] {
    std::array<char, 256> buf{};
    if (::gethostname(buf.data(), buf.size() - 1) != 0) return std::string("localhost");
    std::string h(buf.data());
    return h.empty() ? std::string("localhost") : h;
  };
  f.git_origin_url = [] { return run_capture("git config --get remote.origin.url 2>/dev/null"); };
  return f;
}

std::string derive_node_id(const HostFacts& facts) {
  std::string host = facts.hostname ? facts.hostname() : std::string();
  if (host.empty()) host = "localhost";
  // Keep the host part usable as the host of alias@host.
  for (char& c : host) {
    if (c == '@' || c == '#' || c == '/' || c == ' ' || static_cast<unsigned char>(c) < 0x20) {
      c = '-';
    }
  }
  const std::string origin = facts.git_origin_url ? std::string(trim(facts.git_origin_url())) : "";
  if (origin.empty()) return host + "-local";
  return host + "-" + crypto::sha256_hex(origin).substr(0, 8);
}

bool is_valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == '@' || c == '#' || c == '/') return false;
  }
  return true;
}

Result<SavedConfig> read_config_file(const fs::path& path, bool check_mode) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!fs::exists(path)) return fail(ErrorCode::kNotFound, "no relay config at " + path.string());
    return fail(ErrorCode::kIo, "cannot read relay config " + path.string());
  }
  std::stringstream ss;
  ss << in.rdbuf();
  // An empty file (a truncated write, `touch relay.json`) holds nothing: an empty config.
  if (trim(ss.str()).empty()) return SavedConfig{};
  ordered_json j;
  try {
    j = ordered_json::parse(ss.str());
  } catch (const std::exception& e) {
    return fail(ErrorCode::kBadRequest, "relay config " + path.string() + " is not valid JSON (" +
                                            e.what() + "); fix it or run 'c2c relay setup' again");
  }
  if (!j.is_object()) {
    return fail(ErrorCode::kBadRequest, "relay config " + path.string() +
                                            " must be a JSON object; fix it or run "
                                            "'c2c relay setup' again");
  }
  SavedConfig c;
  ordered_json extra = ordered_json::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    std::optional<std::string>* slot = nullptr;
    if (key == "url") slot = &c.url;
    if (key == "token") slot = &c.token;
    if (key == "node_id") slot = &c.node_id;
    if (key == "ca_bundle") slot = &c.ca_bundle;
    if (key == "alias") slot = &c.alias;
    if (slot == nullptr) {
      extra[key] = it.value();
      continue;
    }
    if (it.value().is_null()) continue;
    if (!it.value().is_string()) {
      return fail(ErrorCode::kBadRequest,
                  "relay config " + path.string() + ": field '" + key + "' must be a string");
    }
    const auto v = it.value().get<std::string>();
    if (!trim(v).empty()) *slot = v;
  }
  if (c.token && check_mode) {
    // A config holding the token is a secret file: refused when others can read it.
    if (auto mode = check_private_mode(path); !mode) {
      return fail(ErrorCode::kIo, mode.error().message +
                                      ": it holds the relay token; run "
                                      "'chmod 600 " +
                                      path.string() +
                                      "' if no one else has read it, "
                                      "else choose a new token");
    }
  }
  c.extra_json = extra.dump();
  return c;
}

Result<void> write_config_file(const fs::path& path, const SavedConfig& config) {
  ordered_json j = ordered_json::object();
  if (config.url) j["url"] = *config.url;
  if (config.token) j["token"] = *config.token;
  if (config.node_id) j["node_id"] = *config.node_id;
  if (config.ca_bundle) j["ca_bundle"] = *config.ca_bundle;
  if (config.alias) j["alias"] = *config.alias;
  try {
    const auto extra = ordered_json::parse(config.extra_json);
    for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  } catch (const std::exception&) {
    // extra_json always comes from read_config_file; nothing to preserve otherwise.
  }
  const std::string text = j.dump(2) + "\n";

  C2C_TRY(make_private_dirs(path.parent_path()));
  return replace_file(path, text, 0600);  // 0600 whatever the umask: the file holds a token
}

fs::path user_config_dir(const Env& env) {
  return xdg_base_dir(XdgBase::kConfig, env).value_or(".config") / "c2c";
}

fs::path user_data_dir(const Env& env) {
  return xdg_base_dir(XdgBase::kData, env).value_or(fs::path(".local") / "share") / "c2c";
}

Result<void> ensure_user_dirs(const Env& env) {
  const auto home = env_non_blank(env, "HOME");
  // Without HOME the defaults are relative paths: never scatter them into the current directory.
  if (home || env_non_blank(env, "XDG_CONFIG_HOME"))
    C2C_TRY(make_private_dirs(user_config_dir(env)));
  if (home || env_non_blank(env, "XDG_DATA_HOME")) C2C_TRY(make_private_dirs(user_data_dir(env)));
  if (home) C2C_TRY(make_private_dirs(fs::path(*home) / ".local" / "share" / "c2c"));
  return {};
}

namespace {
std::optional<fs::path> broker_root_for_config(const Env& env,
                                               const std::optional<fs::path>& broker_root) {
  if (broker_root && !broker_root->empty()) return broker_root;
  if (auto root = env_non_blank(env, "C2C_MCP_BROKER_ROOT")) return fs::path(*root);
  return std::nullopt;
}
}  // namespace

fs::path config_save_path(const Env& env, const std::optional<fs::path>& broker_root) {
  if (auto p = env_non_blank(env, "C2C_RELAY_CONFIG")) return fs::path(*p);
  if (auto root = broker_root_for_config(env, broker_root)) return *root / "relay.json";
  return user_config_dir(env) / "relay.json";
}

std::vector<fs::path> config_search_paths(const Env& env,
                                          const std::optional<fs::path>& broker_root) {
  std::vector<fs::path> out;
  if (auto p = env_non_blank(env, "C2C_RELAY_CONFIG")) out.emplace_back(*p);
  if (auto root = broker_root_for_config(env, broker_root)) out.push_back(*root / "relay.json");
  out.push_back(user_config_dir(env) / "relay.json");
  return out;
}

Result<std::string> normalize_url(std::string_view url) {
  std::string u(trim(url));
  const bool http = starts_with(casefold(u), "http://");
  const bool https = starts_with(casefold(u), "https://");
  const size_t scheme_len = http ? 7 : (https ? 8 : 0);
  if (scheme_len == 0 || u.size() <= scheme_len || u[scheme_len] == '/') {
    return fail(ErrorCode::kBadRequest,
                "relay URL must look like http://HOST:PORT or "
                "https://HOST (got '" +
                    std::string(url) + "')");
  }
  while (u.size() > scheme_len + 1 && u.back() == '/') u.pop_back();
  return u;
}

Result<std::string> read_token_file(const fs::path& path) {
  // A token file others can read is refused, as an identity key is (docs/quickstart.md: chmod 600).
  auto text = read_secret_file(path);
  if (!text) {
    return fail(ErrorCode::kIo,
                "cannot read token file " + path.string() + ": " +
                    (text.error().code == ErrorCode::kNotFound ? std::string(std::strerror(ENOENT))
                                                               : text.error().message));
  }
  std::string token(trim(*text));
  if (token.empty())
    return fail(ErrorCode::kBadRequest, "token file " + path.string() + " is empty");
  return token;
}

Result<Resolved> resolve(const Flags& flags, const Env& env, const HostFacts& facts) {
  Resolved r;

  const bool explicit_url = (flags.relay_url && !trim(*flags.relay_url).empty()) ||
                            env_non_blank(env, "C2C_RELAY_URL").has_value();

  // The saved config: first existing file among the candidates. A broken one stops only the
  // commands that need it: with the URL given explicitly it is skipped with a note.
  std::optional<SavedConfig> saved;
  for (const auto& p : config_search_paths(env, flags.broker_root)) {
    auto c = read_config_file(p);
    if (c) {
      saved = std::move(c).value();
      r.config_path = p;
      break;
    }
    if (c.error().code == ErrorCode::kNotFound) continue;
    if (!explicit_url) return Unexpected{c.error()};
    r.notes.push_back("ignoring the saved relay config: " + c.error().message);
    break;
  }

  // URL.
  std::string url;
  if (flags.relay_url && !trim(*flags.relay_url).empty()) {
    url = *flags.relay_url;
    r.url_source = "--relay-url";
  } else if (auto v = env_non_blank(env, "C2C_RELAY_URL")) {
    url = *v;
    r.url_source = "C2C_RELAY_URL";
  } else if (saved && saved->url) {
    url = *saved->url;
    r.url_source = r.config_path->string();
  }
  if (!url.empty()) {
    auto n = normalize_url(url);
    if (!n) return fail(ErrorCode::kBadRequest, n.error().message + " [from " + r.url_source + "]");
    r.url = std::move(n).value();
  }

  // Token. The saved token is a credential for the saved relay only: sending it to a URL from
  // a flag or the environment would hand the admin token to whoever runs that host.
  if (flags.token && !trim(*flags.token).empty()) {
    r.token = std::string(trim(*flags.token));
    r.token_source = "--token";
  } else if (flags.token_file && !flags.token_file->empty()) {
    auto t = read_token_file(*flags.token_file);
    if (!t) return Unexpected{t.error()};
    r.token = std::move(t).value();
    r.token_source = "--token-file";
  } else if (auto v = env_non_blank(env, "C2C_RELAY_TOKEN")) {
    r.token = std::string(trim(*v));
    r.token_source = "C2C_RELAY_TOKEN";
  } else if (saved && saved->token) {
    if (same_relay(saved->url, r.url)) {
      r.token = std::string(trim(*saved->token));
      r.token_source = r.config_path->string();
    } else if (!r.url.empty()) {
      r.notes.push_back("not sending the token saved in " + r.config_path->string() +
                        ": it was saved for " + saved->url.value_or("no URL") + ", not " + r.url +
                        " (pass --token-file or set C2C_RELAY_TOKEN for this relay)");
    }
  }
  if (saved && saved->alias) r.alias = std::string(trim(*saved->alias));

  // Node id (D8).
  if (flags.node_id && !trim(*flags.node_id).empty()) {
    r.node_id = std::string(trim(*flags.node_id));
    r.node_id_source = "--node-id";
  } else if (auto v = env_non_blank(env, "C2C_RELAY_NODE_ID")) {
    r.node_id = std::string(trim(*v));
    r.node_id_source = "C2C_RELAY_NODE_ID";
  } else if (saved && saved->node_id) {
    r.node_id = std::string(trim(*saved->node_id));
    r.node_id_source = r.config_path->string();
  } else {
    r.node_id = derive_node_id(facts);
    r.node_id_source = "derived";
  }
  if (!is_valid_node_id(r.node_id)) {
    return fail(ErrorCode::kBadRequest,
                "invalid node id '" + r.node_id + "' [from " + r.node_id_source +
                    "]: use 1-128 printable characters without spaces, '@', '#' or '/'");
  }

  if (saved && saved->ca_bundle) r.ca_bundle = *saved->ca_bundle;

  // Identity file.
  if (flags.identity_path && !flags.identity_path->empty()) {
    r.identity_path = *flags.identity_path;
    r.identity_path_explicit = true;
  } else if (auto v = env_non_blank(env, "C2C_RELAY_IDENTITY_PATH")) {
    r.identity_path = *v;
    r.identity_path_explicit = true;
  } else {
    r.identity_path = user_config_dir(env) / "identity.json";
  }
  return r;
}

}  // namespace c2c::relay
