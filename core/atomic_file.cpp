// core/atomic_file.cpp — see atomic_file.hpp.
#include "core/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

namespace lensflow::core {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTempTag = ".tmp-";

// This host's name with only [A-Za-z0-9._] kept (it becomes part of a file name).
const std::string& host_tag() {
  static const std::string tag = [] {
    char buf[256] = {0};
    if (::gethostname(buf, sizeof buf - 1) != 0) return std::string("host");
    std::string h;
    for (const char* p = buf; *p; ++p)
      if (std::isalnum(static_cast<unsigned char>(*p)) || *p == '.' || *p == '_') h += *p;
    return h.empty() ? std::string("host") : h;
  }();
  return tag;
}

std::string random_hex() {
  static thread_local std::mt19937_64 gen{[] {
    std::random_device rd;
    return (std::uint64_t(rd()) << 32) ^ rd() ^ std::uint64_t(::getpid());
  }()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

std::string errno_text() { return std::strerror(errno); }

// The file a write to `target` lands on: symbolic links and "." / ".." resolved, so the link
// survives and the temporary file sits in the same directory as the file it replaces.
std::string resolve(const std::string& target) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::path(target), ec);
  return ec || p.empty() ? target : p.string();
}

std::string dir_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Parses "<host>-<pid>-<16 hex>" (the part after ".tmp-").
bool parse_temp_suffix(const std::string& s, std::string& host, long& pid) {
  const auto b = s.find_last_of('-');
  if (b == std::string::npos || b == 0 || s.size() - b - 1 != 16) return false;
  for (std::size_t i = b + 1; i < s.size(); ++i)
    if (!std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  const auto a = s.find_last_of('-', b - 1);
  if (a == std::string::npos || a == 0 || a + 1 == b) return false;
  for (std::size_t i = a + 1; i < b; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  pid = std::stol(s.substr(a + 1, b - a - 1));
  host = s.substr(0, a);
  return true;
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void remove_stale_temps(const std::string& target) {
  const std::string real = resolve(target), dir = dir_of(real), prefix = base_of(real) + kTempTag;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    std::string host;
    long pid = 0;
    if (!parse_temp_suffix(name.substr(prefix.size()), host, pid)) continue;
    // Only this host's processes can be checked; a live pid (maybe reused) keeps its file.
    if (host != host_tag() || pid == long(::getpid())) continue;
    if (::kill(pid_t(pid), 0) == 0 || errno != ESRCH) continue;
    ::unlink((dir + "/" + name).c_str());
  }
  ::closedir(d);
}

AtomicFile::AtomicFile(const std::string& target, SpecialFiles special) : target_(target) {
  if (target.empty()) throw OutputError("empty output path");
  final_ = resolve(target);
  struct stat st;
  if (::stat(final_.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw OutputError(target + ": is a directory, not a file");
    if (!S_ISREG(st.st_mode)) {
      if (special == SpecialFiles::refuse)
        throw OutputError(target + ": is not a regular file (a device, FIFO or socket); this output "
                          "must be a regular file");
      // Devices and FIFOs are written in place: renaming a file onto them would replace the node.
      in_place_ = true;
      write_path_ = final_;
      return;
    }
  }
  remove_stale_temps(final_);
  for (int attempt = 0;; ++attempt) {
    write_path_ = final_ + kTempTag + host_tag() + "-" + std::to_string(::getpid()) + "-" + random_hex();
    const int fd = ::open(write_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      ::close(fd);
      break;
    }
    if (errno != EEXIST || attempt > 8)
      throw OutputError(target + ": cannot create a temporary file in " + dir_of(final_) + " (" + errno_text() + ")");
  }
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() {
  if (done_) return;
  done_ = true;
  if (!in_place_) ::unlink(write_path_.c_str());
}

void AtomicFile::check_committable() const {
  if (done_) throw OutputError(target_ + ": already committed or discarded");
  if (in_place_) return;
  struct stat st;
  if (::stat(write_path_.c_str(), &st) != 0)
    throw OutputError(target_ + ": the temporary file " + write_path_ + " disappeared");
  if (::stat(final_.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw OutputError(target_ + ": is now " + (S_ISDIR(st.st_mode) ? "a directory" : "not a regular file") +
                      "; nothing was replaced");
  if (::access(dir_of(final_).c_str(), W_OK) != 0)
    throw OutputError(target_ + ": directory " + dir_of(final_) + " is not writable; nothing was replaced");
}

void AtomicFile::commit() {
  check_committable();
  if (in_place_) {
    done_ = true;
    return;
  }
  fsync_path(write_path_, O_RDONLY);
  if (std::rename(write_path_.c_str(), final_.c_str()) != 0) {
    const std::string why = errno_text();
    discard();
    throw OutputError(target_ + ": cannot rename the finished file onto it (" + why + "); nothing was replaced");
  }
  done_ = true;
  fsync_path(dir_of(final_), O_RDONLY | O_DIRECTORY);  // make the rename itself durable
}

void commit_all(const std::vector<AtomicFile*>& files) {
  for (const AtomicFile* f : files) f->check_committable();
  for (AtomicFile* f : files) f->commit();
}

TextOutput::TextOutput(const std::string& target, SpecialFiles special) : file_(target, special) {
  out_.open(file_.path(), std::ios::out | std::ios::trunc | std::ios::binary);
  if (!out_) throw OutputError(target + ": cannot open " + file_.path() + " for writing");
  out_.precision(17);
}

void TextOutput::close() {
  if (closed_) return;
  closed_ = true;
  out_.flush();
  const bool ok = bool(out_);
  out_.close();
  if (!ok || out_.fail()) {
    file_.discard();
    throw OutputError(file_.target() + ": write error (disk full?); nothing was replaced");
  }
}

void TextOutput::commit() {
  close();
  file_.commit();
}

void write_text_file(const std::string& target, const std::function<void(std::ostream&)>& fill,
                     SpecialFiles special) {
  TextOutput out(target, special);
  fill(out.stream());
  out.commit();
}

}  // namespace lensflow::core
