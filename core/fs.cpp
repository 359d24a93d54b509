// core/fs.cpp — see fs.hpp.
#include "core/fs.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace lensflow::core {

namespace fs = std::filesystem;

void make_dirs(const std::string& dir) {
  if (dir.empty()) throw std::invalid_argument("empty directory name");
  std::string cur;
  for (std::size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0777) != 0 && errno != EEXIST)
        throw std::runtime_error("cannot create directory " + cur + ": " + std::strerror(errno));
    }
    if (i < dir.size()) cur += dir[i];
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw std::runtime_error(dir + " is not a directory");
  if (::access(dir.c_str(), W_OK) != 0) throw std::runtime_error("output directory " + dir + " is not writable");
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  std::error_code ea, eb;
  if (fs::exists(a, ea) && fs::exists(b, eb)) {
    std::error_code ec;
    if (fs::equivalent(a, b, ec) && !ec) return true;
  }
  const fs::path ca = fs::weakly_canonical(a, ea), cb = fs::weakly_canonical(b, eb);
  if (ea || eb) return fs::path(a).lexically_normal() == fs::path(b).lexically_normal();
  return ca == cb;
}

void refuse_overlaps(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const NamedPath& out = outputs[i];
    for (const NamedPath& in : inputs)
      if (same_file(out.path, in.path))
        throw std::invalid_argument(out.role + " " + out.path + " is the same file as " + in.role + " " + in.path +
                                    "; writing it would destroy an input: choose another output path");
    for (std::size_t j = i + 1; j < outputs.size(); ++j)
      if (same_file(out.path, outputs[j].path))
        throw std::invalid_argument(out.role + " " + out.path + " and " + outputs[j].role + " " + outputs[j].path +
                                    " are the same file: choose distinct output paths");
  }
}

}  // namespace lensflow::core
