// core/fs.hpp — file-system helpers of the programs: creating output directories, and refusing an
// output that would overwrite one of the run's inputs.
//
// Two paths name the same file when they are equal after resolving symbolic links, "." and ".."
// (std::filesystem::weakly_canonical), or when both exist and are the same inode (hard links,
// bind mounts). Every program checks its outputs against its inputs before doing any work.
#pragma once
#include <string>
#include <vector>

namespace lensflow::core {

// mkdir -p: creates `dir` and its missing parents (mode 0777 less the umask). Throws
// std::runtime_error naming the directory that cannot be created, or `dir` when it is not a
// writable directory afterwards; std::invalid_argument for an empty name.
void make_dirs(const std::string& dir);

// True when something (file, directory, link target) exists at `path`.
bool path_exists(const std::string& path);

// The directory of the running program (from /proc/self/exe); "" when it cannot be read.
std::string executable_dir();

bool same_file(const std::string& a, const std::string& b);

struct NamedPath {
  std::string role;  // how the user gave it, e.g. "--out" or "the checkpoint's setup.h5"
  std::string path;
};

// Throws std::invalid_argument naming both when an output is the same file as an input (or as
// another output). Empty paths are ignored.
void refuse_overlaps(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs);

}  // namespace lensflow::core
