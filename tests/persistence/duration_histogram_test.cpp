// The commit-duration histogram behind the journal's and the read models' commit metrics.
#include <catch2/catch.hpp>

#include <chrono>

#include "annal/duration_histogram.hpp"

using namespace annal;
using namespace std::chrono_literals;

TEST_CASE("a duration lands in the first bucket whose bound holds it", "[metrics]") {
  duration_histogram h;
  h.record(10us);     // on the first bound: first bucket
  h.record(10001ns);  // just past it: second
  h.record(20us);     // on the second bound: second
  h.record(-5us);     // a clock step back counts as zero
  h.record(11s);      // past the last bound: the extra bucket
  auto c = h.read();
  CHECK(c.buckets[0] == 2);
  CHECK(c.buckets[1] == 2);
  CHECK(c.buckets.back() == 1);
  CHECK(c.count == 5);
  CHECK(c.sum == 10us + 10001ns + 20us + 11s);
}

TEST_CASE("a quantile is interpolated inside the bucket that holds it", "[metrics]") {
  duration_histogram h;
  CHECK(h.read().quantile(0.5) == 0us); // nothing recorded
  for (int i = 0; i < 100; ++i)
    h.record(150us); // bucket (100, 200] µs
  CHECK(h.read().quantile(0.5) == 150us);
  CHECK(h.read().quantile(1.0) == 200us);
  for (int i = 0; i < 100; ++i)
    h.record(3ms); // bucket (2, 5] ms
  auto c = h.read();
  CHECK(c.quantile(0.25) == 150us);
  CHECK(c.quantile(0.75) == 3500us); // the middle of (2, 5] ms
  h.record(20s);
  CHECK(h.read().quantile(1.0) == 10s); // beyond the last bound: the last bound
}

TEST_CASE("a window's counts are the records made in it", "[metrics]") {
  duration_histogram h;
  h.record(1ms);
  auto before = h.read();
  h.record(40ms);
  h.record(40ms);
  auto window = h.read().since(before);
  CHECK(window.count == 2);
  CHECK(window.sum == 80ms);
  CHECK(window.quantile(0.5) == 35ms); // (20, 50] ms, half way
  CHECK(window.buckets[6] == 0);       // the 1 ms record is before the window
}
