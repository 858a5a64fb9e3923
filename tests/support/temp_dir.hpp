#pragma once
// A fresh directory under $TMPDIR, removed (recursively) when the object dies.
#include <filesystem>
#include <string>

namespace c2c::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "c2c-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& child) const { return path_ / child; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Reads a whole file ("" if missing).
std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& content);
// write_file, then chmod 600: how a user stores a token (c2c refuses secrets others can read).
void write_private_file(const std::filesystem::path& p, const std::string& content);

}  // namespace c2c::test
