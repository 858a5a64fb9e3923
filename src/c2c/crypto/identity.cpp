#include "c2c/crypto/identity.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "c2c/core/env.hpp"
#include "c2c/core/fd_io.hpp"
#include "c2c/core/secret_file.hpp"
#include "c2c/core/text.hpp"

namespace c2c::crypto {

namespace {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

constexpr mode_t kFileMode = 0600;
constexpr mode_t kDirMode = 0700;

Unexpected<> io_error(const std::string& what, const fs::path& p, int err) {
  return fail(ErrorCode::kIo, what + " " + p.string() + ": " + std::strerror(err));
}

// Closes a descriptor on every exit path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Result<std::string> read_all(int fd, const fs::path& p) {
  std::string out;
  if (!read_to_eof(fd, out)) return io_error("cannot read", p, errno);
  return out;
}

Unexpected<> bad(std::string message) {
  return fail(ErrorCode::kBadRequest, std::move(message));
}

Result<std::string> string_field(const ordered_json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end()) return bad(std::string("missing field: ") + name);
  if (!it->is_string()) return bad(std::string("field ") + name + ": expected string");
  return it->get<std::string>();
}

template <size_t N>
Result<std::array<uint8_t, N>> key_field(const std::string& text, const char* name) {
  auto key = b64u_decode_fixed<N>(text);
  if (!key) {
    return bad(std::string(name) + ": expected " + std::to_string(N) +
               " bytes after b64url decode");
  }
  return *key;
}

}  // namespace

Result<Identity> identity_from_json(std::string_view text) {
  ordered_json j;
  try {
    j = ordered_json::parse(text);
  } catch (const ordered_json::exception& e) {  // parse_error, or out_of_range for 1e999
    return bad(std::string("identity json parse: ") + e.what());
  }
  if (!j.is_object()) return bad("identity json parse: expected a JSON object");

  const auto version = j.find("version");
  if (version == j.end()) return bad("missing field: version");
  if (!version->is_number_integer()) return bad("field version: expected int");
  auto alg = string_field(j, "alg");
  if (!alg) return Unexpected{alg.error()};
  auto public_key = string_field(j, "public_key");
  if (!public_key) return Unexpected{public_key.error()};
  auto private_key = string_field(j, "private_key");
  if (!private_key) return Unexpected{private_key.error()};
  auto fp = string_field(j, "fingerprint");
  if (!fp) return Unexpected{fp.error()};
  auto created_at = string_field(j, "created_at");
  if (!created_at) return Unexpected{created_at.error()};
  std::string alias_hint;
  if (j.contains("alias_hint")) {
    auto hint = string_field(j, "alias_hint");
    if (!hint) return Unexpected{hint.error()};
    alias_hint = std::move(*hint);
  }

  // Dump the JSON value rather than casting: 2^40 must not be reported as some other number.
  if (*version != 1) return bad("unsupported version: " + version->dump() + " (expected 1)");
  if (*alg != "ed25519") return bad("unsupported alg: " + *alg + " (expected ed25519)");
  auto pk = key_field<32>(*public_key, "public_key");
  if (!pk) return Unexpected{pk.error()};
  auto seed = key_field<32>(*private_key, "private_key");
  if (!seed) return Unexpected{seed.error()};

  Identity id;
  id.keys = KeyPair::from_seed(*seed);
  // A key pair whose halves disagree would sign requests no relay accepts; say so here.
  if (id.keys.public_key != *pk) return bad("public_key does not match private_key");
  id.fingerprint = std::move(*fp);  // informational; not re-derived (as the original c2c does)
  id.created_at = std::move(*created_at);
  id.alias_hint = std::move(alias_hint);
  return id;
}

Identity new_identity(std::string alias_hint, double now_epoch_seconds) {
  Identity id;
  id.keys = KeyPair::generate();
  id.fingerprint = fingerprint(id.keys.public_key);
  id.created_at = format_rfc3339_utc(now_epoch_seconds);
  id.alias_hint = std::move(alias_hint);
  return id;
}

Result<Identity> load_identity(const fs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      return fail(ErrorCode::kNotFound, "identity file not found: " + path.string());
    }
    return io_error("cannot open", path, errno);
  }
  // Check the open descriptor: the mode checked is the mode of the bytes we read.
  if (auto mode = check_private_mode(fd.get(), path); !mode) return Unexpected{mode.error()};
  auto text = read_all(fd.get(), path);
  if (!text) return Unexpected{text.error()};
  return identity_from_json(*text);
}

std::string identity_to_json(const Identity& id) {
  ordered_json j;
  j["version"] = 1;
  j["alg"] = "ed25519";
  j["public_key"] = b64u_encode(id.keys.public_key);
  j["private_key"] = b64u_encode(id.keys.seed);
  j["fingerprint"] = id.fingerprint;
  j["created_at"] = id.created_at;
  j["alias_hint"] = id.alias_hint;
  return j.dump(2) + "\n";
}

Result<void> save_identity(const fs::path& path, const Identity& id) {
  const fs::path parent = path.parent_path();
  // A bare file name means the current directory, which is not ours to chmod.
  if (!parent.empty()) {
    C2C_TRY(make_private_dirs(parent));
    if (::chmod(parent.c_str(), kDirMode) != 0) return io_error("cannot chmod", parent, errno);
  }

  const std::string text = identity_to_json(id);

  // On failure the previous identity.json is untouched.
  C2C_TRY(replace_file(path, text, kFileMode));
  // Make the rename itself durable.
  Fd dir(::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
  return {};
}

fs::path default_identity_path() {
  return xdg_base_dir(XdgBase::kConfig).value_or(fs::path("/") / ".config") / "c2c" /
         "identity.json";
}

}  // namespace c2c::crypto
