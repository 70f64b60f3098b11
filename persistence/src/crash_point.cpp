#include "crash_point.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

namespace annal::detail {

namespace {

struct target {
  std::string name;
  std::atomic<long> remaining{0};
};

target* configured() {
  static target* t = [] () -> target* {
    const char* v = std::getenv("ANNAL_JOURNAL_CRASH_AT");
    if (v == nullptr || *v == '\0')
      return nullptr;
    auto* out = new target; // lives as long as the process
    std::string s{v};
    auto colon = s.find(':');
    out->name = s.substr(0, colon);
    out->remaining = colon == std::string::npos ? 1 : std::atol(s.c_str() + colon + 1);
    return out;
  }();
  return t;
}

} // namespace

void crash_point(const char* name) noexcept {
  auto* t = configured();
  if (t == nullptr || t->name != name)
    return;
  if (t->remaining.fetch_sub(1) <= 1)
    std::raise(SIGKILL);
}

} // namespace annal::detail
