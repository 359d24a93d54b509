// core/atomic_file: unique temporary names, cleanup of failed and dead writers, special files
// written in place (never replaced), links written through, outputs committed together.
#include "core/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/scratch_dir.hpp"

using namespace lensflow::core;
namespace fs = std::filesystem;
using Scratch = lensflow::test::ScratchDir;

namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The pid of a process that has exited (so no process has it, barring reuse).
pid_t dead_pid() {
  const pid_t p = ::fork();
  if (p == 0) ::_exit(0);
  int st = 0;
  ::waitpid(p, &st, 0);
  return p;
}

}  // namespace

TEST(AtomicFile, TemporaryNamesAreUniqueAndCommitReplacesTheTarget) {
  Scratch s("atomic");
  std::ofstream(s / "out.csv") << "old\n";
  TextOutput a(s / "out.csv"), b(s / "out.csv");
  EXPECT_NE(a.file().path(), b.file().path());
  const std::string name = fs::path(a.file().path()).filename().string();
  EXPECT_EQ(name.rfind("out.csv.tmp-", 0), 0u) << name;
  EXPECT_NE(name.find("-" + std::to_string(::getpid()) + "-"), std::string::npos) << name;
  a.stream() << "from a\n";
  b.stream() << "from b\n";
  EXPECT_EQ(slurp(s / "out.csv"), "old\n") << "the target changes only at commit";
  a.commit();
  EXPECT_EQ(slurp(s / "out.csv"), "from a\n");
  b.commit();
  EXPECT_EQ(slurp(s / "out.csv"), "from b\n");
  EXPECT_EQ(s.names(), std::vector<std::string>{"out.csv"});
}

TEST(AtomicFile, ConcurrentWritersNeverMixTheirRows) {
  Scratch s("atomic");
  const std::string target = s / "rows.csv";
  auto writer = [&](char c) {
    for (int round = 0; round < 20; ++round)
      write_text_file(target, [&](std::ostream& o) {
        for (int i = 0; i < 2000; ++i) o << std::string(40, c) << '\n';
      });
  };
  std::thread t1(writer, 'a'), t2(writer, 'b');
  t1.join();
  t2.join();
  const std::string text = slurp(target);
  ASSERT_EQ(text.size(), 2000u * 41u);
  EXPECT_TRUE(text.find('a') == std::string::npos || text.find('b') == std::string::npos) << "rows of both writers";
  EXPECT_EQ(s.names(), std::vector<std::string>{"rows.csv"});
}

TEST(AtomicFile, FailedOrAbandonedWritersLeaveNothing) {
  Scratch s("atomic");
  std::ofstream(s / "keep.txt") << "keep\n";
  {
    TextOutput out(s / "keep.txt");
    out.stream() << "partial";
  }  // destroyed without commit
  EXPECT_EQ(slurp(s / "keep.txt"), "keep\n");
  EXPECT_THROW(write_text_file(s / "keep.txt", [](std::ostream&) { throw std::runtime_error("boom"); }),
               std::runtime_error);
  EXPECT_EQ(slurp(s / "keep.txt"), "keep\n");
  EXPECT_EQ(s.names(), std::vector<std::string>{"keep.txt"});
}

TEST(AtomicFile, StaleTemporariesOfDeadProcessesAreRemoved) {
  Scratch s("atomic");
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::string h;
  for (const char* p = host; *p; ++p)
    if (std::isalnum(static_cast<unsigned char>(*p)) || *p == '.' || *p == '_') h += *p;
  const std::string dead = "ck.h5.tmp-" + h + "-" + std::to_string(dead_pid()) + "-0123456789abcdef";
  const std::string alive = "ck.h5.tmp-" + h + "-" + std::to_string(::getppid()) + "-0123456789abcdef";
  const std::string other_host = "ck.h5.tmp-elsewhere-" + std::to_string(dead_pid()) + "-0123456789abcdef";
  const std::string other_file = "other.h5.tmp-" + h + "-" + std::to_string(dead_pid()) + "-0123456789abcdef";
  for (const auto& n : {dead, alive, other_host, other_file}) std::ofstream(s / n) << "x";
  write_text_file(s / "ck.h5", [](std::ostream& o) { o << "new"; });
  const auto names = s.names();
  EXPECT_EQ(std::count(names.begin(), names.end(), dead), 0) << "a dead writer's file was kept";
  EXPECT_EQ(std::count(names.begin(), names.end(), alive), 1) << "a live process's file was removed";
  EXPECT_EQ(std::count(names.begin(), names.end(), other_host), 1) << "another host's file was removed";
  EXPECT_EQ(std::count(names.begin(), names.end(), other_file), 1) << "another target's file was removed";
}

TEST(AtomicFile, SpecialFilesAreWrittenInPlaceOrRefusedNeverReplaced) {
  Scratch s("atomic");
  const std::string fifo = s / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = slurp(fifo); });
  write_text_file(fifo, [](std::ostream& o) { o << "through the pipe\n"; });
  reader.join();
  EXPECT_EQ(got, "through the pipe\n");
  struct stat st;
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced by a regular file";
  // A target that must be a regular file (an HDF5 file): refused, the node kept.
  EXPECT_THROW(AtomicFile f(fifo, SpecialFiles::refuse), OutputError);
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  // A directory is never a valid target.
  fs::create_directories(s / "adir");
  try {
    TextOutput out(s / "adir");
    FAIL() << "a directory accepted as output";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
}

TEST(AtomicFile, SymbolicLinksAreWrittenThrough) {
  Scratch s("atomic");
  std::ofstream(s / "real.csv") << "old";
  fs::create_symlink(s / "real.csv", s / "link.csv");
  write_text_file(s / "link.csv", [](std::ostream& o) { o << "new"; });
  EXPECT_TRUE(fs::is_symlink(s / "link.csv"));
  EXPECT_EQ(slurp(s / "real.csv"), "new");
}

TEST(AtomicFile, CommitAllReplacesNothingWhenOneTargetCannotBeReplaced) {
  Scratch s("atomic");
  std::ofstream(s / "a.txt") << "old a";
  TextOutput a(s / "a.txt"), b(s / "b.txt");
  a.stream() << "new a";
  b.stream() << "new b";
  a.close();
  b.close();
  fs::create_directories(s / "b.txt");  // the second target turns into a directory meanwhile
  EXPECT_THROW(commit_all({&a.file(), &b.file()}), OutputError);
  EXPECT_EQ(slurp(s / "a.txt"), "old a");
}
