#include "annal/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace annal {

namespace {

std::atomic<log_level> threshold{log_level::info};

log_sink& sink() {
  static log_sink instance;
  return instance;
}

void default_sink(log_level level, std::string_view message) {
  static std::mutex mx;
  std::lock_guard<std::mutex> guard{mx};
  std::fprintf(stderr, "[annal] %s: %.*s\n", to_string(level), static_cast<int>(message.size()),
               message.data());
}

} // namespace

const char* to_string(log_level level) noexcept {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
  }
  return "?";
}

void set_log_sink(log_sink s) {
  sink() = std::move(s);
}

void set_log_threshold(log_level level) noexcept {
  threshold = level;
}

void log(log_level level, std::string_view message) {
  if (level < threshold.load(std::memory_order_relaxed))
    return;
  if (auto& s = sink())
    s(level, message);
  else
    default_sink(level, message);
}

} // namespace annal
