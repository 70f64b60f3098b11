// Snapshot spacing: every snapshot_every events while snapshots are small; past
// large_snapshot_bytes, a growing state is snapshotted only once its events since hold as
// many bytes as its last snapshot, so snapshots never write more than the events whose
// replay they spare (the shop's skus hold thousands of open reservations).
#include <catch2/catch.hpp>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "annal/aggregate_host.hpp"
#include "temp_dir.hpp"
#include "write_side_helpers.hpp"

using namespace annal;

namespace {

// A state that only grows: every line ever added.
struct ledger_state {
  std::vector<std::string> lines;
  template <class Archive>
  void serialize(Archive& ar) { ar(lines); }
};

struct line_added {
  static constexpr std::string_view event_type = "LineAdded";
  std::string text;
  template <class Archive>
  void serialize(Archive& ar) { ar(text); }
};

struct add_line {
  std::string text;
};

struct ledger {
  using state = ledger_state;
  using command = std::variant<add_line>;
  using event = std::variant<line_added>;
  static constexpr std::string_view category = "ledger";
  static decision<event> decide(const state&, const command& c) { return line_added{std::get<add_line>(c).text}; }
  static void evolve(state& s, const event& e) { s.lines.push_back(std::get<line_added>(e).text); }
};

// The snapshots the journal writer stored while ledger "l" took `n` lines of 100 bytes,
// one command at a time. (The writer stores a stream's newest queued snapshot only, so
// this counts at most those the instance took.)
uint64_t snapshots_written(std::size_t large_snapshot_bytes, stream_version n) {
  test::temp_dir dir;
  aggregate_options opts;
  opts.snapshot_every = 1;
  opts.large_snapshot_bytes = large_snapshot_bytes;
  auto rt = test::start_runtime<ledger>(test::config_in(dir), opts);
  REQUIRE(rt);
  auto before = rt->metrics().snapshots_written.load();
  for (stream_version i = 1; i <= n; ++i)
    REQUIRE(test::get_within(rt->send<ledger>("l", add_line{std::string(100, 'a')})));
  REQUIRE(rt->stop()); // writes what is queued
  return rt->metrics().snapshots_written.load() - before;
}

} // namespace

TEST_CASE("past large_snapshot_bytes a snapshot waits until the events since hold as many bytes",
          "[aggregate][snapshot]") {
  aggregate_options o;
  o.snapshot_every = 10;
  o.large_snapshot_bytes = 1000;
  // Small snapshots: every snapshot_every events, however few bytes came since.
  CHECK(detail::snapshot_due(o, 10, 0, 0, 0));
  CHECK(detail::snapshot_due(o, 20, 10, 1000, 1));
  CHECK_FALSE(detail::snapshot_due(o, 19, 10, 1000, 1'000'000));
  // A large one: also the bytes.
  CHECK_FALSE(detail::snapshot_due(o, 20, 10, 5000, 4999));
  CHECK(detail::snapshot_due(o, 20, 10, 5000, 5000));
  CHECK_FALSE(detail::snapshot_due(o, 500, 10, 5000, 4999));
  // 0: the count alone.
  o.large_snapshot_bytes = 0;
  CHECK(detail::snapshot_due(o, 20, 10, 5000, 0));
  o.snapshot_every = 0;
  CHECK_FALSE(detail::snapshot_due(o, 20, 10, 0, 0));
}

TEST_CASE("a growing state is snapshotted less often once its snapshots are large", "[aggregate][snapshot]") {
  // Lines of 100 bytes: the state passes 1,000 bytes at its tenth line; from then on a
  // snapshot of k lines waits for about k more lines (versions ~10, ~20, ~40, ~80).
  auto spaced = snapshots_written(1000, 100);
  CHECK(spaced >= 5);
  CHECK(spaced < 20);
  // Without the byte rule every event's snapshot is taken. Fewer are stored: a snapshot
  // queued behind appends is replaced by the next one of its stream, the more often the
  // busier the machine (24 of 40 seen under ctest -j3), hence the margin.
  auto unspaced = snapshots_written(0, 100);
  CHECK(unspaced >= 30);
  CHECK(unspaced > 2 * spaced);
}
