// A shard moved between two nodes in one process carries what its events cannot: streams
// deleted on the old owner stay deleted on the new one (their appends refused), streams
// truncated there are truncated here, and the old owner refuses deleting or truncating the
// shard's streams once it moved.
#include <catch2/catch.hpp>

#include <future>

#include "annal/aggregate_host.hpp"
#include "cluster_harness.hpp"
#include "counter_aggregate.hpp"

namespace shard_move_records_cases {

using namespace annal;
using annal::test::two_nodes;

TEST_CASE("a moved shard keeps its deleted and truncated streams so on the new owner",
          "[cluster][move]") {
  two_nodes nodes;
  auto map = nodes.a.node->status().shards;
  // Three counters of one shard a owns.
  std::vector<std::string> ids;
  uint16_t shard = 0;
  for (int i = 0; ids.size() < 3 && i < 100000; ++i) {
    auto id = "c" + std::to_string(i);
    auto s = map.shard_of(aggregate_traits<ctr::counter>::stream_id(id));
    if (map.owner(s).node != "a" || (!ids.empty() && s != shard))
      continue;
    shard = s;
    ids.push_back(id);
  }
  REQUIRE(ids.size() == 3);
  for (const auto& id : ids)
    annal::test::add_n(nodes.a, id, 4);
  auto stream = [](const std::string& id) { return aggregate_traits<ctr::counter>::stream_id(id); };
  auto& a_store = nodes.a.rt->store();
  REQUIRE(a_store.delete_stream(stream(ids[0])));
  REQUIRE(a_store.truncate_stream(stream(ids[1]), 2));

  auto moved = annal::test::move_now(*nodes.a.node, shard, "b");
  INFO((moved ? std::string{} : moved.error().to_string()));
  REQUIRE(moved);
  auto& b_store = nodes.b.rt->store();
  // Deleted on a: deleted on b (it never had its events), and commands for it refused.
  auto gone = b_store.read_stream(stream(ids[0]));
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == errc::stream_deleted);
  auto refused = nodes.b.rt->send<ctr::counter>(ids[0], ctr::add{1, "t"}).get();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::stream_deleted);
  // Truncated on a: the same on b.
  auto head = b_store.stream_head(stream(ids[1]));
  REQUIRE(head);
  CHECK(head->truncated_through == 2);
  CHECK(head->head == 4);
  auto kept = b_store.read_stream(stream(ids[1]));
  REQUIRE(kept);
  REQUIRE(kept->size() == 2);
  CHECK(kept->front().version == 3);
  // Untouched on a: whole on b, and it continues there.
  REQUIRE(b_store.read_stream(stream(ids[2]))->size() == 4);
  auto more = nodes.a.rt->send<ctr::counter>(ids[2], ctr::add{1, "t"}).get(); // forwarded to b
  REQUIRE(more);
  CHECK(more->version == 5);
  // The old owner no longer changes the shard's streams.
  auto no_delete = a_store.delete_stream(stream(ids[2]));
  REQUIRE_FALSE(no_delete);
  CHECK(no_delete.code() == errc::unavailable);
  CHECK(a_store.truncate_stream(stream(ids[2]), 1).error().code == errc::unavailable);
}

} // namespace shard_move_records_cases
