// core/atomic_file.hpp — how every lensflow program replaces a file: write a temporary file next to
// the target under a name unique to the process, then rename it onto the target, so the target is
// either the old file or the complete new one, never a mixture and never half written.
//
// Temporary names are "<target>.tmp-<host>-<pid>-<random>", created exclusively (two runs writing
// the same output never share one). A writer that fails, or is destroyed without commit(), removes
// its temporary file; one killed outright (SIGKILL, power loss) leaves it behind, and the next
// writer of the same target on the same host removes the temporaries of processes that no longer
// exist (remove_stale_temps). A target that is a symbolic link is written through the link (the
// file it points to is replaced, the link kept). A target that exists and is not a regular file
// (a character device such as /dev/null, a FIFO) is never replaced: it is written in place when
// the caller allows it (text outputs) and refused otherwise (HDF5 files need a regular file).
// A directory as target is refused.
#pragma once
#include <fstream>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace lensflow::core {

struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class SpecialFiles { write_in_place, refuse };

class AtomicFile {
 public:
  // Checks the target (not a directory; a special file only with write_in_place), removes stale
  // temporaries of dead processes and reserves a unique temporary file. Throws OutputError.
  explicit AtomicFile(const std::string& target, SpecialFiles special = SpecialFiles::write_in_place);
  ~AtomicFile();  // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& target() const { return target_; }  // as given (for messages)
  const std::string& path() const { return write_path_; }  // where to write now (a special file
                                                           // is written in place)

  // Throws OutputError when the rename could not succeed now (target turned into a directory, ...).
  void check_committable() const;
  // Fsyncs the written file and renames it onto the target. Throws OutputError (the temporary
  // file is removed) on failure.
  void commit();
  void discard();  // removes the temporary file now

 private:
  std::string target_, final_, write_path_;
  bool in_place_ = false, done_ = false;
};

// Commits several files as one: every target is checked first, so a problem found before the
// first rename (a target that is a directory, ...) replaces none of them.
void commit_all(const std::vector<AtomicFile*>& files);

// A text output through an AtomicFile: write to stream(), then commit() (or commit_all with
// other outputs after close()). Write errors (disk full) surface as OutputError at close().
class TextOutput {
 public:
  explicit TextOutput(const std::string& target, SpecialFiles special = SpecialFiles::write_in_place);
  std::ostream& stream() { return out_; }
  void close();   // flushes and closes; throws OutputError on a write error
  void commit();  // close() + rename
  AtomicFile& file() { return file_; }

 private:
  AtomicFile file_;
  std::ofstream out_;
  bool closed_ = false;
};

// Writes `fill(stream)` to `target` atomically (precision 17 unless fill sets another).
void write_text_file(const std::string& target, const std::function<void(std::ostream&)>& fill,
                     SpecialFiles special = SpecialFiles::write_in_place);

// Removes "<target>.tmp-<this host>-<pid>-<random>" files whose process is gone. Safe to call at
// any time; errors are ignored (it is housekeeping).
void remove_stale_temps(const std::string& target);

}  // namespace lensflow::core
