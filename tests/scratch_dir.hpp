// tests/scratch_dir.hpp — a fresh directory under the system's temporary directory, removed with
// its contents at scope exit (file-handling tests).
#pragma once
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace lensflow::test {

struct ScratchDir {
  std::filesystem::path dir;
  explicit ScratchDir(const std::string& tag = "scratch") {
    dir = std::filesystem::temp_directory_path() / ("lensflow_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~ScratchDir() { std::filesystem::remove_all(dir); }
  std::string operator/(const std::string& name) const { return (dir / name).string(); }
  std::vector<std::string> names() const {
    std::vector<std::string> v;
    for (const auto& e : std::filesystem::directory_iterator(dir)) v.push_back(e.path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
  }
};

}  // namespace lensflow::test
