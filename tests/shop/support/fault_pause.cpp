// Test-only part of shop-node-faults (the shop node with a fault observer; never built into
// shop-node). From the environment:
//   ANNAL_FAULT_AT=<n>         pause at the n-th fault point reached (1 = the first), counting
//                              every point of the process managers and the timer service
//   ANNAL_FAULT_MARKER=<path>  written ("<point> <manager>") when the pause begins
//   ANNAL_FAULT_POINT=<name>   optional: count only this kind of point (command_answered,
//                              batch_committed, timer_answered)
// The paused thread (a process manager's or the timer service's) then waits to be killed
// (kill -9 by the test), so the test can change the world at exactly that step boundary.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "annal/fault_points.hpp"

namespace {

std::atomic<long> remaining{0};
std::string marker;
std::string only; // empty: every kind

const char* name_of(annal::testing::fault_point p) {
  switch (p) {
    case annal::testing::fault_point::command_answered: return "command_answered";
    case annal::testing::fault_point::batch_committed: return "batch_committed";
    case annal::testing::fault_point::timer_answered: return "timer_answered";
  }
  return "?";
}

void observe(annal::testing::fault_point p, std::string_view where) {
  if (!only.empty() && only != name_of(p))
    return;
  if (remaining.fetch_sub(1) != 1)
    return;
  {
    std::ofstream out{marker + ".tmp"};
    out << name_of(p) << ' ' << where << '\n';
  }
  std::rename((marker + ".tmp").c_str(), marker.c_str());
  // Bounded: a test that forgot to kill us must not leave a process behind for long.
  for (int i = 0; i < 600; ++i)
    ::sleep(1);
  std::_Exit(3);
}

struct arm {
  arm() {
    auto at = std::getenv("ANNAL_FAULT_AT");
    auto path = std::getenv("ANNAL_FAULT_MARKER");
    if (at == nullptr || path == nullptr)
      return;
    remaining = std::atol(at);
    marker = path;
    if (auto kind = std::getenv("ANNAL_FAULT_POINT"))
      only = kind;
    if (remaining > 0)
      annal::testing::set_fault_observer(observe);
  }
} armed;

} // namespace
