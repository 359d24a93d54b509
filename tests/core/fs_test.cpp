// core/fs: outputs that are inputs under another name; mkdir -p and its failures.
#include "core/fs.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "tests/scratch_dir.hpp"

using namespace lensflow::core;
namespace fs = std::filesystem;
using Scratch = lensflow::test::ScratchDir;

TEST(SameFile, LinksDotDotAndHardLinksAreTheSameFile) {
  Scratch s("fs");
  std::ofstream(s / "in.h5") << "x";
  fs::create_directories(s / "sub");
  fs::create_symlink(s / "in.h5", s / "sym.h5");
  fs::create_hard_link(s / "in.h5", s / "hard.h5");
  EXPECT_TRUE(same_file(s / "in.h5", s / "sub/../in.h5"));
  EXPECT_TRUE(same_file(s / "in.h5", s / "sym.h5"));
  EXPECT_TRUE(same_file(s / "in.h5", s / "hard.h5"));
  EXPECT_FALSE(same_file(s / "in.h5", s / "new.h5"));
  EXPECT_TRUE(same_file(s / "sub/../new.h5", s / "new.h5")) << "not yet existing, same path";
  try {
    refuse_overlaps({{"--out", s / "sym.h5"}}, {{"--model", s / "in.h5"}});
    FAIL() << "overlap not refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--model"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(refuse_overlaps({{"--out", s / "out.h5"}}, {{"--model", s / "in.h5"}}));
}

TEST(MakeDirs, CreatesParentsAcceptsExistingAndNamesWhatFails) {
  Scratch s("fs");
  make_dirs(s / "a/b/c");
  EXPECT_TRUE(fs::is_directory(s / "a/b/c"));
  EXPECT_NO_THROW(make_dirs(s / "a/b/c")) << "an existing directory is fine";
  std::ofstream(s / "file") << "x";
  try {
    make_dirs(s / "file/sub");
    FAIL() << "a directory under a regular file was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create directory"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_dirs(s / "file"), std::runtime_error) << "a regular file is not a directory";
  EXPECT_THROW(make_dirs(""), std::invalid_argument);
}
