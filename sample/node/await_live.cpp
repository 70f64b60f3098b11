#include "shop/node/await_live.hpp"

#include <thread>

#include "annal/log.hpp"
#include "annal/runtime.hpp"

namespace shop::node {

bool await_live(annal::runtime& rt, std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  auto next_report = start + std::chrono::seconds(5);
  while (true) {
    std::string behind;
    for (const auto& p : rt.projections()) {
      auto s = p.state;
      if (s == annal::projection_state::catching_up || s == annal::projection_state::rebuilding)
        behind += " " + p.name + "@" + std::to_string(p.position) + "(lag " + std::to_string(p.lag_events) + ")";
    }
    if (behind.empty())
      return true;
    auto now = clock::now();
    if (now - start > timeout) {
      annal::log(annal::log_level::warning, "shop-node: serving although still catching up:" + behind);
      return false;
    }
    if (now > next_report) {
      annal::log(annal::log_level::info, "shop-node: catching up:" + behind);
      next_report = now + std::chrono::seconds(5);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

} // namespace shop::node
