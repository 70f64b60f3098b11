// The deterministic write path of one aggregate (decide -> journal -> evolve on the
// calling thread), with a fault injected into its journal.
#include <catch2/catch.hpp>

#include "annal/testing/aggregate_harness.hpp"
#include "annal/testing/faulty_journal.hpp"
#include "bank_account.hpp"

namespace aggregate_harness_cases {

using namespace annal;
namespace at = annal::testing;

TEST_CASE("aggregate harness: decide, journal and evolve finish within send()",
          "[testing][harness]") {
  at::aggregate_harness<bank::account> h;
  auto version_after = [&](bank::account::command c) -> stream_version {
    auto r = h.send("7", c);
    REQUIRE(r);
    return *r;
  };
  CHECK(version_after(bank::open{"ann"}) == 1);
  CHECK(version_after(bank::deposit{5}) == 2);
  CHECK(version_after(bank::touch{}) == 2); // no event
  auto refused = h.send("7", bank::withdraw{50});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::rejected);
  auto boom = h.send("7", bank::explode{});
  REQUIRE_FALSE(boom);
  CHECK(boom.error().code == errc::handler_fault);
  auto s = h.state("7");
  REQUIRE(s);
  CHECK(s->balance == 5);
  auto stored = h.journal().read_stream("account-7");
  REQUIRE(stored);
  CHECK(stored->size() == 2);
}

TEST_CASE("aggregate harness: a journal fault fails the command and writes nothing",
          "[testing][harness][faults]") {
  auto faults = std::make_shared<at::journal_faults>();
  at::aggregate_harness<bank::account> h{at::make_faulty_journal(make_memory_event_store(), faults)};
  REQUIRE(h.send("7", bank::open{"ann"}));
  faults->fail_streams("account-7", errc::io_error);
  auto r = h.send("7", bank::deposit{5});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::io_error);
  faults->clear();
  REQUIRE(h.send("7", bank::deposit{1}));
  CHECK(h.state("7")->balance == 1);
}

} // namespace aggregate_harness_cases
