#include "progress_bar.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>

#include "human_format.hpp"

namespace annal::cli {

namespace {

constexpr int bar_width = 30;

} // namespace

progress_bar::progress_bar(std::string label, std::string unit, bool terminal, std::ostream& out)
  : label_(std::move(label)), unit_(std::move(unit)), terminal_(terminal), out_(out) {}

std::string progress_bar::render(uint64_t done, uint64_t total, bool with_bar) const {
  using namespace std::chrono;
  double elapsed = duration<double>(steady_clock::now() - start_).count();
  double fraction = total == 0 ? 1.0 : std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  std::string s = label_ + ": ";
  if (with_bar) {
    int filled = static_cast<int>(fraction * bar_width);
    s += '[' + std::string(static_cast<std::size_t>(filled), '#')
         + std::string(static_cast<std::size_t>(bar_width - filled), '.') + "] ";
  }
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%5.1f%% %llu/%llu %s, %.0f %s/s", fraction * 100,
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                unit_.c_str(), rate, unit_.c_str());
  s += buf;
  if (done < total && rate > 0)
    s += ", ETA " + format_duration(static_cast<double>(total - done) / rate);
  else if (done >= total)
    s += ", took " + format_duration(elapsed);
  return s;
}

void progress_bar::clear_line() {
  if (terminal_ && drawn_)
    out_ << "\r\033[K";
}

void progress_bar::update(uint64_t done, uint64_t total) {
  auto now = std::chrono::steady_clock::now();
  auto every = terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(1000);
  if (drawn_ && now - last_draw_ < every)
    return;
  last_draw_ = now;
  if (terminal_) {
    clear_line();
    out_ << render(done, total, true) << std::flush;
  } else {
    out_ << render(done, total, false) << std::endl;
  }
  drawn_ = true;
}

void progress_bar::message(const std::string& text) {
  clear_line();
  out_ << text << '\n';
  drawn_ = false; // redraw on the next update
  last_draw_ = {};
}

void progress_bar::finish(uint64_t done, uint64_t total) {
  clear_line();
  out_ << render(done, total, terminal_) << std::endl;
  drawn_ = false;
}

} // namespace annal::cli
