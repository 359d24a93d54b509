// Progress: line mode prints plain periodic lines and a final summary; terminal mode redraws in
// place; quiet prints nothing; durations format as h/m/s.
#include "pipeline/progress.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

using lensflow::pipeline::Progress;

TEST(Progress, LinesModePrintsPeriodicLinesAndFinalSummary) {
  std::ostringstream os;
  {
    Progress p("simulate", 100, "events", &os, Progress::Mode::lines, 0.0, 0.0);
    p.update(50);
    p.update(100);
    p.finish();
    p.finish();  // once
  }
  const std::string s = os.str();
  EXPECT_NE(s.find("50.0% 50/100 events"), std::string::npos) << s;
  EXPECT_NE(s.find("simulate: 100/100 events in"), std::string::npos) << s;
  EXPECT_EQ(s.find('\r'), std::string::npos);  // no carriage returns in logs
  EXPECT_EQ(s.find("simulate: 100/100"), s.rfind("simulate: 100/100"));
}

TEST(Progress, TerminalModeRedrawsInPlace) {
  std::ostringstream os;
  Progress p("train", 10, "batches", &os, Progress::Mode::terminal, 0.0, 0.0);
  for (int i = 1; i <= 10; ++i) p.update(i);
  p.finish();
  const std::string s = os.str();
  EXPECT_NE(s.find("\rtrain ["), std::string::npos);
  EXPECT_NE(s.find("ETA"), std::string::npos);
  EXPECT_EQ(s.back(), '\n');
}

TEST(Progress, QuietPrintsNothingAndRateExcludesBaseline) {
  std::ostringstream os;
  Progress p("x", 1000, "events", &os, Progress::Mode::quiet);
  p.set_baseline(900);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  p.update(1000);
  p.finish();
  EXPECT_TRUE(os.str().empty());
  EXPECT_GT(p.rate(), 0.0);
  EXPECT_LT(p.rate(), 100.0 / 0.05 * 1.01);  // 100 new events in >= 50 ms
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(Progress::format_duration(7.25), "7.2s");
  EXPECT_EQ(Progress::format_duration(245), "4m05s");
  EXPECT_EQ(Progress::format_duration(3723), "1h02m03s");
  EXPECT_EQ(Progress::format_duration(-1), "--");
}
