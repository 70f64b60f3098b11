// projection_options::apply_interval: while live batches keep arriving, a projection
// applies them together at most once per interval (one read-model transaction for many
// journal commits); the first batch after a quiet spell is applied at once.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "bank_runtime.hpp"
#include "memory_position_sink.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace std::chrono_literals;

namespace {

// Records when each apply() that carries events ran, and the positions applied.
class apply_recorder final : public test::memory_position_sink {
public:
  status apply(const std::vector<event_view>& events, global_position through, global_position&) override {
    std::lock_guard<std::mutex> lock{mx_};
    if (!events.empty())
      applies_.push_back(std::chrono::steady_clock::now());
    for (const auto& e : events)
      seen_.push_back(e.position);
    position_ = through;
    return {};
  }
  // A rebuild starts the record of positions over, as it did before the shared base.
  status reset() override {
    auto ok = memory_position_sink::reset();
    std::lock_guard<std::mutex> lock{mx_};
    seen_.clear();
    return ok;
  }

  std::size_t applies_since(std::chrono::steady_clock::time_point t) {
    std::lock_guard<std::mutex> lock{mx_};
    std::size_t n = 0;
    for (auto a : applies_)
      n += a >= t ? 1 : 0;
    return n;
  }
  std::vector<global_position> seen() {
    std::lock_guard<std::mutex> lock{mx_};
    return seen_;
  }

private:
  std::vector<std::chrono::steady_clock::time_point> applies_;
  std::vector<global_position> seen_;
};

std::shared_ptr<apply_recorder> add_recorder(runtime& rt, const char* name, std::chrono::milliseconds interval) {
  auto sink = std::make_shared<apply_recorder>();
  projection_options o;
  o.name = name;
  o.filter = event_filter::types({"bank.deposited"});
  o.apply_interval = interval;
  REQUIRE(rt.add_sink(o, sink));
  return sink;
}

global_position deposit(runtime& rt) {
  auto r = rt.send<bank::account>("s", bank::deposit{1}).get();
  REQUIRE(r);
  return r->position;
}

} // namespace

TEST_CASE("a live projection applies the batches of its apply interval together, and a batch "
          "after a quiet spell at once",
          "[projection]") {
  test::temp_dir dir;
  auto opened = test::open_bank_runtime(dir);
  auto& rt = *opened;
  auto each = add_recorder(rt, "each", 0ms);
  auto grouped = add_recorder(rt, "grouped", 400ms);
  REQUIRE(rt.start());
  REQUIRE(rt.send<bank::account>("s", bank::open{"sam"}).get());
  REQUIRE(rt.await_projection("grouped", rt.store().last_position().value(), 10s));
  std::this_thread::sleep_for(500ms); // a quiet spell longer than the interval

  // After the quiet spell: applied at once, not an interval later.
  auto t0 = std::chrono::steady_clock::now();
  auto first = deposit(rt);
  REQUIRE(rt.await_projection("grouped", first, 10s));
  CHECK(std::chrono::steady_clock::now() - t0 < 300ms);

  // 40 commits spread over more than 400 ms: one apply each without an interval, a few
  // with one.
  auto t1 = std::chrono::steady_clock::now();
  std::vector<global_position> written{first};
  for (int i = 0; i < 40; ++i) {
    written.push_back(deposit(rt));
    std::this_thread::sleep_for(12ms);
  }
  REQUIRE(rt.await_projection("each", written.back(), 10s));
  REQUIRE(rt.await_projection("grouped", written.back(), 10s));
  auto spread = std::chrono::steady_clock::now() - t1;
  INFO("commits spread over " << std::chrono::duration_cast<std::chrono::milliseconds>(spread).count() << " ms");
  CHECK(each->applies_since(t1) >= 20);
  auto bound = static_cast<std::size_t>(spread / 400ms) + 2;
  CHECK(grouped->applies_since(t1) <= bound);
  // Grouping loses nothing and reorders nothing.
  auto seen = grouped->seen();
  REQUIRE(seen.size() >= written.size());
  CHECK(std::vector<global_position>(seen.end() - static_cast<std::ptrdiff_t>(written.size()), seen.end()) == written);
  CHECK(each->seen() == seen);
  REQUIRE(rt.stop());
}
