// The progress bar of long operations (rebuild), tested in-process: on a terminal a bar
// redrawn in place with the percentage and the time left; elsewhere plain lines.
#include <catch2/catch.hpp>

#include <sstream>
#include <thread>

#include "progress_bar.hpp"

using annal::cli::progress_bar;
using namespace std::chrono_literals;

TEST_CASE("the progress bar draws a bar with a percentage and an ETA on a terminal",
          "[cli][progress]") {
  std::ostringstream out;
  progress_bar bar{"rebuild catalog", "events", true, out};
  std::this_thread::sleep_for(20ms); // some time passed: there is a rate to estimate from
  bar.update(50, 100);
  auto drawn = out.str();
  INFO("output: " << drawn);
  CHECK(drawn.rfind("rebuild catalog: ", 0) == 0);
  // Half of the 30 cells filled.
  CHECK(drawn.find('[' + std::string(15, '#') + std::string(15, '.') + ']') != std::string::npos);
  CHECK(drawn.find(" 50.0%") != std::string::npos);
  CHECK(drawn.find("50/100 events") != std::string::npos);
  CHECK(drawn.find("ETA ") != std::string::npos);
  CHECK(drawn.find('\n') == std::string::npos); // redrawn in place, not line by line

  // The next draw (at most 10 a second) clears the line and draws over it.
  std::this_thread::sleep_for(120ms);
  bar.update(75, 100);
  auto redrawn = out.str().substr(drawn.size());
  INFO("redrawn: " << redrawn);
  CHECK(redrawn.rfind("\r\033[K", 0) == 0);
  CHECK(redrawn.find(" 75.0%") != std::string::npos);
  CHECK(redrawn.find("ETA ") != std::string::npos);

  // The end: a full bar, the time it took, and the line ended.
  bar.finish(100, 100);
  auto finished = out.str().substr(drawn.size() + redrawn.size());
  INFO("finished: " << finished);
  CHECK(finished.find('[' + std::string(30, '#') + ']') != std::string::npos);
  CHECK(finished.find("100.0%") != std::string::npos);
  CHECK(finished.find("took ") != std::string::npos);
  CHECK(finished.find("ETA") == std::string::npos);
  CHECK(finished.back() == '\n');
}

TEST_CASE("the progress bar prints plain lines when not on a terminal", "[cli][progress]") {
  std::ostringstream out;
  progress_bar bar{"rebuild catalog", "events", false, out};
  std::this_thread::sleep_for(20ms);
  bar.update(25, 100);
  auto line = out.str();
  INFO("output: " << line);
  CHECK(line.find(" 25.0%") != std::string::npos);
  CHECK(line.find("ETA ") != std::string::npos);
  CHECK(line.find('[') == std::string::npos);
  CHECK(line.find('\033') == std::string::npos);
  CHECK(line.back() == '\n');
}
