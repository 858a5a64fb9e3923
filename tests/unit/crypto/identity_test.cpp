#include "c2c/crypto/identity.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "support/temp_dir.hpp"
#include "vectors.hpp"

namespace c2c::crypto {
namespace {

namespace fs = std::filesystem;
using c2c::test::read_file;
using c2c::test::TempDir;
using c2c::test::write_file;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// Writes `text` as an identity file with safe permissions, so only the content is tested.
fs::path write_private(const TempDir& dir, const std::string& text) {
  const fs::path p = dir / "identity.json";
  write_file(p, text);
  ::chmod(p.c_str(), 0600);
  return p;
}

nlohmann::json example_json() {
  return {{"version", 1},
          {"alg", "ed25519"},
          {"public_key", std::string(test::kExamplePk)},
          {"private_key", b64u_encode(test::example_seed())},
          {"fingerprint", std::string(test::kExampleFingerprint)},
          {"created_at", "2026-04-21T00:05:30Z"},
          {"alias_hint", "alice"}};
}

std::string load_error(const TempDir& dir, const nlohmann::json& j) {
  const auto r = load_identity(write_private(dir, j.dump()));
  if (r) return "<loaded>";
  return r.error().message;
}

// `got` is `want` read back: the same keys (and it signs as `want`), fingerprint, time and hint.
void expect_same_identity(const Identity& got, const Identity& want) {
  EXPECT_EQ(got.keys.seed, want.keys.seed);
  EXPECT_EQ(got.keys.public_key, want.keys.public_key);
  EXPECT_EQ(got.fingerprint, want.fingerprint);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.alias_hint, want.alias_hint);
  EXPECT_TRUE(verify(got.keys.public_key, "m", sign(want.keys, "m")));
}

TEST(NewIdentity, HasFreshKeysFingerprintAndRfc3339Time) {
  const Identity a = new_identity("laptop", 1776730000.9);
  const Identity b = new_identity("", 0);
  EXPECT_NE(a.keys.public_key, b.keys.public_key);
  EXPECT_EQ(a.fingerprint, fingerprint(a.keys.public_key));
  EXPECT_EQ(a.created_at, "2026-04-21T00:06:40Z");
  EXPECT_EQ(a.alias_hint, "laptop");
  EXPECT_EQ(KeyPair::from_seed(a.keys.seed).public_key, a.keys.public_key);
  EXPECT_EQ(a.public_key_b64u(), b64u_encode(a.keys.public_key));
}

TEST(SaveIdentity, RoundTripsThroughLoad) {
  TempDir dir;
  const fs::path p = dir / "cfg" / "c2c" / "identity.json";
  const Identity id = new_identity("alias-hint", 1776730000);
  ASSERT_TRUE(save_identity(p, id));
  const auto loaded = load_identity(p);
  ASSERT_TRUE(loaded) << loaded.error().message;
  expect_same_identity(*loaded, id);
  EXPECT_EQ(loaded->created_at, "2026-04-21T00:06:40Z");
  EXPECT_EQ(loaded->alias_hint, "alias-hint");
}

TEST(SaveIdentity, WritesFile0600InDirectories0700) {
  TempDir dir;
  const fs::path p = dir / "a" / "b" / "identity.json";
  ASSERT_TRUE(save_identity(p, new_identity("", 0)));
  EXPECT_EQ(mode_of(p), 0600u);
  EXPECT_EQ(mode_of(p.parent_path()), 0700u);
  EXPECT_EQ(mode_of(dir / "a"), 0700u);  // created by us, so private too
  EXPECT_FALSE(fs::exists(dir / "a" / "b" / "identity.json.tmp"));
}

TEST(SaveIdentity, TightensAnExistingParentAndOverwritesAtomically) {
  TempDir dir;
  const fs::path parent = dir / "shared";
  fs::create_directory(parent);
  ::chmod(parent.c_str(), 0755);
  const fs::path p = parent / "identity.json";
  write_file(p.string() + ".tmp", "stale");
  ::chmod((p.string() + ".tmp").c_str(), 0644);
  ASSERT_TRUE(save_identity(p, new_identity("first", 0)));
  const Identity second = new_identity("second", 0);
  ASSERT_TRUE(save_identity(p, second));
  EXPECT_EQ(mode_of(parent), 0700u);
  EXPECT_EQ(mode_of(p), 0600u);
  const auto loaded = load_identity(p);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->alias_hint, "second");
  EXPECT_EQ(loaded->keys.public_key, second.keys.public_key);
}

TEST(SaveIdentity, WritesPrettyJsonWithReferenceFieldsInOrder) {
  TempDir dir;
  const fs::path p = dir / "identity.json";
  Identity id;
  id.keys = KeyPair::from_seed(test::example_seed());
  id.fingerprint = fingerprint(id.keys.public_key);
  id.created_at = "2026-04-21T00:05:30Z";
  id.alias_hint = "alice";
  ASSERT_TRUE(save_identity(p, id));
  const std::string text = read_file(p);
  EXPECT_EQ(text,
            "{\n"
            "  \"version\": 1,\n"
            "  \"alg\": \"ed25519\",\n"
            "  \"public_key\": \"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg\",\n"
            "  \"private_key\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\",\n"
            "  \"fingerprint\": \"SHA256:Vkdap1RjR0wChd9dvyvKtz2mUTWIOem3dIGy6rEHcIw\",\n"
            "  \"created_at\": \"2026-04-21T00:05:30Z\",\n"
            "  \"alias_hint\": \"alice\"\n"
            "}\n");
}

TEST(SaveIdentity, ReportsAnUnwritableLocation) {
  TempDir dir;
  write_file(dir / "file", "x");
  const auto r = save_identity(dir / "file" / "identity.json", new_identity("", 0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_NE(r.error().message.find("file"), std::string::npos);
}

TEST(LoadIdentity, LoadsTheSpecExampleFile) {
  TempDir dir;
  const auto r = load_identity(write_private(dir, example_json().dump(2) + "\n"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(b64u_encode(r->keys.public_key), test::kExamplePk);
  EXPECT_EQ(r->keys.seed, test::example_seed());
  EXPECT_EQ(r->fingerprint, test::kExampleFingerprint);
}

TEST(LoadIdentity, MissingFileHasTheReferenceText) {
  TempDir dir;
  const fs::path p = dir / "nope.json";
  const auto r = load_identity(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "identity file not found: " + p.string());
}

TEST(LoadIdentity, RefusesGroupOrWorldReadableFiles) {
  TempDir dir;
  const fs::path p = dir / "identity.json";
  ASSERT_TRUE(save_identity(p, new_identity("", 0)));
  for (const auto& [mode, text] : {std::pair{0644, "0644"}, std::pair{0640, "0640"},
                                   std::pair{0604, "0604"}, std::pair{0601, "0601"}}) {
    ASSERT_EQ(::chmod(p.c_str(), static_cast<mode_t>(mode)), 0);
    const auto r = load_identity(p);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().message,
              "permissions too permissive on " + p.string() + ": " + text + " (expected 0600)");
  }
  ASSERT_EQ(::chmod(p.c_str(), 0400), 0);
  EXPECT_TRUE(load_identity(p));  // read-only for the owner is fine
}

TEST(LoadIdentity, BadJson) {
  TempDir dir;
  for (const std::string text : {"", "{", "not json", "{\"version\":1,}", "{\"version\":1e999}"}) {
    const auto r = load_identity(write_private(dir, text));
    ASSERT_FALSE(r) << text;
    EXPECT_TRUE(r.error().message.starts_with("identity json parse: ")) << r.error().message;
  }
  const auto arr = load_identity(write_private(dir, "[1,2]"));
  ASSERT_FALSE(arr);
  EXPECT_TRUE(arr.error().message.starts_with("identity json parse: "));
}

TEST(LoadIdentity, MissingAndMistypedFields) {
  TempDir dir;
  for (const char* f :
       {"version", "alg", "public_key", "private_key", "fingerprint", "created_at"}) {
    nlohmann::json j = example_json();
    j.erase(f);
    EXPECT_EQ(load_error(dir, j), std::string("missing field: ") + f);
    j[f] = f == std::string("version") ? nlohmann::json("1") : nlohmann::json(7);
    EXPECT_EQ(load_error(dir, j), std::string("field ") + f + ": expected " +
                                      (f == std::string("version") ? "int" : "string"));
  }
  nlohmann::json j = example_json();
  j["version"] = 1.5;
  EXPECT_EQ(load_error(dir, j), "field version: expected int");
}

TEST(LoadIdentity, AliasHintIsOptional) {
  TempDir dir;
  nlohmann::json j = example_json();
  j.erase("alias_hint");
  const auto r = load_identity(write_private(dir, j.dump()));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->alias_hint, "");
}

TEST(LoadIdentity, WrongVersionOrAlg) {
  TempDir dir;
  nlohmann::json j = example_json();
  j["version"] = 2;
  EXPECT_EQ(load_error(dir, j), "unsupported version: 2 (expected 1)");
  j = example_json();
  j["alg"] = "rsa";
  EXPECT_EQ(load_error(dir, j), "unsupported alg: rsa (expected ed25519)");
}

TEST(LoadIdentity, WrongKeyLengthOrEncoding) {
  TempDir dir;
  for (const char* f : {"public_key", "private_key"}) {
    const std::string want = std::string(f) + ": expected 32 bytes after b64url decode";
    for (const std::string& bad :
         {b64u_encode(std::string(31, 'k')), b64u_encode(std::string(33, 'k')), std::string(""),
          std::string("A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=")}) {
      nlohmann::json j = example_json();
      j[f] = bad;
      EXPECT_EQ(load_error(dir, j), want) << bad;
    }
  }
}

TEST(LoadIdentity, PublicKeyMustMatchTheSeed) {
  TempDir dir;
  nlohmann::json j = example_json();
  j["public_key"] = b64u_encode(KeyPair::generate().public_key);
  EXPECT_EQ(load_error(dir, j), "public_key does not match private_key");
}

// The JSON text form (identity_to_json / identity_from_json) is the file's content, without
// the file: what a relay keeps in its database.
TEST(IdentityJson, IsTheFilesTextAndRoundTrips) {
  TempDir dir;
  const Identity id = new_identity("relay-server", 1776730000);
  const std::string text = identity_to_json(id);
  const fs::path p = dir / "identity.json";
  ASSERT_TRUE(save_identity(p, id));
  EXPECT_EQ(text, read_file(p)) << "save_identity writes exactly this text";
  const auto back = identity_from_json(text);
  ASSERT_TRUE(back) << back.error().message;
  expect_same_identity(*back, id);
  EXPECT_EQ(identity_to_json(*back), text);
}

TEST(IdentityJson, RefusesWhatLoadIdentityRefusesWithTheSameTexts) {
  TempDir dir;
  nlohmann::json mismatched = example_json();
  mismatched["public_key"] = b64u_encode(KeyPair::generate().public_key);
  nlohmann::json no_alg = example_json();
  no_alg.erase("alg");
  for (const nlohmann::json& j : {mismatched, no_alg, nlohmann::json::array({1})}) {
    const auto parsed = identity_from_json(j.dump());
    ASSERT_FALSE(parsed) << j.dump();
    EXPECT_EQ(parsed.error().message, load_error(dir, j)) << j.dump();
  }
  for (const std::string text : {"{not json", ""}) {
    const auto parsed = identity_from_json(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().message.rfind("identity json parse: ", 0), 0u)
        << parsed.error().message;
  }
  const auto example = identity_from_json(example_json().dump());
  ASSERT_TRUE(example) << example.error().message;
  EXPECT_EQ(example->public_key_b64u(), test::kExamplePk);
}

class EnvVar {
 public:
  explicit EnvVar(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
  }
  ~EnvVar() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  void set(const char* v) { ::setenv(name_, v, 1); }
  void unset() { ::unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(DefaultIdentityPath, PrefersXdgConfigHomeThenHome) {
  EnvVar xdg("XDG_CONFIG_HOME");
  EnvVar home("HOME");
  xdg.set("/x/cfg");
  home.set("/home/u");
  EXPECT_EQ(default_identity_path(), fs::path("/x/cfg/c2c/identity.json"));
  xdg.unset();
  EXPECT_EQ(default_identity_path(), fs::path("/home/u/.config/c2c/identity.json"));
  xdg.set("");
  EXPECT_EQ(default_identity_path(), fs::path("/home/u/.config/c2c/identity.json"));
  home.unset();
  EXPECT_EQ(default_identity_path(), fs::path("/.config/c2c/identity.json"));
}

}  // namespace
}  // namespace c2c::crypto
