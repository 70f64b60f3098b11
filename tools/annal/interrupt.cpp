#include "interrupt.hpp"

#include <algorithm>
#include <csignal>
#include <thread>

namespace annal::cli {

namespace {

volatile std::sig_atomic_t stop_flag = 0;

extern "C" void on_interrupt(int) {
  stop_flag = 1;
}

} // namespace

void catch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() noexcept {
  return stop_flag != 0;
}

bool sleep_unless_interrupted(std::chrono::milliseconds d) {
  // Short slices: a signal that lands on another thread does not cut our sleep short.
  auto deadline = std::chrono::steady_clock::now() + d;
  while (!interrupted()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
      deadline - now, std::chrono::milliseconds(20)));
  }
  return true;
}

} // namespace annal::cli
