// A shard moving between two runtimes, without the cluster around it: the old owner's
// fence, and the new owner's import through its journal writer (projections see the
// imported events once, in order; process managers pass over them; aggregates continue
// the imported streams and the shard's positions).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "shard_copy.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace std::chrono_literals;

namespace shard_move_cases {

constexpr uint16_t shard_count = 64; // the stores' default

std::unique_ptr<runtime> open_bank(const std::filesystem::path& dir) {
  runtime_config cfg;
  cfg.data_dir = dir;
  auto rt = runtime::open(cfg);
  REQUIRE(rt);
  REQUIRE((*rt)->register_aggregate<bank::account>());
  return std::move(*rt);
}

uint16_t shard_of_account(const std::string& id) {
  return shard_of_stream(aggregate_traits<bank::account>::stream_id(id), shard_count);
}

// Accounts a0.. with the first in shard `shard` and one of another shard.
std::pair<std::string, std::string> accounts_for(uint16_t shard) {
  std::string in, out;
  for (int i = 0; i < 10000 && (in.empty() || out.empty()); ++i) {
    auto id = "a" + std::to_string(i);
    if (shard_of_account(id) == shard) {
      if (in.empty())
        in = id;
    } else if (out.empty()) {
      out = id;
    }
  }
  REQUIRE_FALSE(in.empty());
  REQUIRE_FALSE(out.empty());
  return {in, out};
}

command_result deposit(runtime& rt, const std::string& id, int64_t amount) {
  return rt.send<bank::account>(id, bank::deposit{amount}).get();
}

using test::copy_shard;

struct deposits_by_stream {
  std::map<std::string, int64_t> seen; // stream -> deposits applied
};

TEST_CASE("a shard imported through the writer reaches projections once, process managers "
          "pass over it, and its aggregates continue where the old owner stopped",
          "[shard][import]") {
  test::temp_dir dir;
  auto a = open_bank(dir.path() / "a");
  REQUIRE(a->start());
  auto [in, out] = accounts_for(1);
  REQUIRE(a->send<bank::account>(in, bank::open{"ann"}).get());
  for (int i = 1; i <= 12; ++i)
    REQUIRE(deposit(*a, in, i));
  REQUIRE(a->send<bank::account>(out, bank::open{"olaf"}).get());
  auto a_view = a->load<bank::account>(in);
  REQUIRE(a_view);

  auto b = open_bank(dir.path() / "b");
  memory_projection<deposits_by_stream> mp;
  mp.options.name = "deposits";
  mp.options.filter = event_filter::types({"bank.deposited"});
  mp.apply = [](deposits_by_stream& m, const event_view& e) -> status {
    ++m.seen[std::string{e.stream_id}];
    return {};
  };
  auto view = b->add_projection(mp);
  REQUIRE(view);
  std::atomic<int> handled{0};
  process_manager pm;
  pm.options.name = "watcher";
  pm.options.filter = event_filter::types({"bank.deposited"});
  pm.handle = [&handled](process_context&, const event_view&) -> status {
    ++handled;
    return {};
  };
  REQUIRE(b->add_process_manager(pm));
  REQUIRE(b->start());
  // b's own history first: the import lands after it.
  REQUIRE(b->send<bank::account>("b-own", bank::open{"bo"}).get());

  auto copied = copy_shard(a->store(), *b, 1);
  CHECK(copied.imported >= 13);
  auto stream = aggregate_traits<bank::account>::stream_id(in);
  auto seen = view->query([&](const deposits_by_stream& m) { return m.seen; },
                          copied.last_position, 5000ms);
  REQUIRE(seen);
  CHECK((*seen)[stream] == 12);
  REQUIRE(b->await_projection("watcher", copied.last_position, 5000ms));
  CHECK(handled == 0);

  // The aggregate on b continues the stream: version and shard position follow a's.
  auto more = deposit(*b, in, 100);
  REQUIRE(more);
  CHECK(more->version == a_view->version + 1);
  CHECK(more->shard == 1);
  CHECK(more->shard_position == copied.head + 1);
  auto b_view = b->load<bank::account>(in);
  REQUIRE(b_view);
  CHECK(b_view->state.balance == a_view->state.balance + 100);
  // A command committed on b is b's: its process managers handle it, projections see it.
  REQUIRE(b->await_projection("watcher", more->position, 5000ms));
  CHECK(handled == 1);
  seen = view->query([&](const deposits_by_stream& m) { return m.seen; }, more->position, 5000ms);
  REQUIRE(seen);
  CHECK((*seen)[stream] == 13);
  REQUIRE(b->stop());
  REQUIRE(a->stop());
}

TEST_CASE("events reach projections and process managers with the shard and shard position the "
          "journal gives them",
          "[shard]") {
  test::temp_dir dir;
  auto rt = open_bank(dir.path());
  memory_projection<std::vector<std::pair<uint16_t, uint64_t>>> mp;
  mp.options.name = "places";
  mp.apply = [](std::vector<std::pair<uint16_t, uint64_t>>& m, const event_view& e) -> status {
    m.emplace_back(e.shard, e.shard_position);
    return {};
  };
  auto view = rt->add_projection(mp);
  REQUIRE(view);
  REQUIRE(rt->start());
  auto [in, out] = accounts_for(5);
  REQUIRE(rt->send<bank::account>(in, bank::open{"ann"}).get());
  REQUIRE(rt->send<bank::account>(out, bank::open{"olaf"}).get());
  auto last = deposit(*rt, in, 3);
  REQUIRE(last);
  auto seen = view->query([](const auto& m) { return m; }, last->position, 5000ms);
  REQUIRE(seen);
  auto log = rt->store().read_all(0, 100);
  REQUIRE(log);
  std::vector<std::pair<uint16_t, uint64_t>> stored;
  for (const auto& e : *log)
    stored.emplace_back(e.shard, e.shard_position);
  REQUIRE(stored.size() == 3);
  CHECK(stored[0] == std::make_pair(shard_of_account(in), uint64_t{1}));
  CHECK(stored[2] == std::make_pair(shard_of_account(in), uint64_t{2}));
  CHECK(*seen == stored);
  REQUIRE(rt->stop());
}

TEST_CASE("a fenced shard's commands fail with unavailable and write nothing while other "
          "shards commit, until the fence is lifted",
          "[shard][fence]") {
  test::temp_dir dir;
  auto a = open_bank(dir.path() / "a");
  REQUIRE(a->start());
  auto [in, out] = accounts_for(2);
  REQUIRE(a->send<bank::account>(in, bank::open{"ann"}).get());
  REQUIRE(a->send<bank::account>(out, bank::open{"olaf"}).get());
  REQUIRE(a->store().fence_shard(2, true));
  auto last = a->store().last_position().value();
  auto refused = deposit(*a, in, 5);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::unavailable);
  CHECK(a->store().last_position().value() == last);
  CHECK(deposit(*a, out, 5));
  REQUIRE(a->store().fence_shard(2, false));
  // The instance whose append was refused reloads; the account is where it was.
  auto again = deposit(*a, in, 7);
  REQUIRE(again);
  CHECK(a->load<bank::account>(in)->state.balance == 7);
  REQUIRE(a->stop());
}

} // namespace shard_move_cases
