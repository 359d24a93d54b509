// Where lensflow-evaluate finds its plot script: a given path, else $LENSFLOW_SCRIPTS, else
// share/lensflow beside the running program (the build tree has it as the install prefix does:
// the test programs sit in <build>/tests, the copy in <build>/share/lensflow).
#include "pipeline/evaluate_run.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/scratch_dir.hpp"

namespace fs = std::filesystem;
using lensflow::pipeline::find_plot_script;

TEST(PlotScript, GivenThenEnvironmentThenBesideTheProgram) {
  const lensflow::test::ScratchDir s("plot_script");
  ::unsetenv("LENSFLOW_SCRIPTS");
  const std::string found = find_plot_script("");
  EXPECT_TRUE(fs::exists(found)) << found;
  EXPECT_EQ(fs::canonical(found), fs::canonical(fs::path(LENSFLOW_BINARY_DIR) / "share/lensflow/plot_evaluation.py"));

  std::ofstream(s / "plot_evaluation.py") << "# stand-in\n";
  EXPECT_EQ(find_plot_script(s / "plot_evaluation.py"), s / "plot_evaluation.py");
  ::setenv("LENSFLOW_SCRIPTS", s.dir.c_str(), 1);
  EXPECT_EQ(find_plot_script(""), s.dir.string() + "/plot_evaluation.py");
  ::setenv("LENSFLOW_SCRIPTS", (s / "nowhere").c_str(), 1);
  try {
    find_plot_script("");
    FAIL() << "a missing script was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nowhere/plot_evaluation.py"), std::string::npos) << e.what();
  }
  ::unsetenv("LENSFLOW_SCRIPTS");
  EXPECT_THROW(find_plot_script(s / "missing.py"), std::runtime_error);
}
