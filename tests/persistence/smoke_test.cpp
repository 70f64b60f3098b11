#include <catch2/catch.hpp>

#include "annal/event_store.hpp"
#include "temp_dir.hpp"

using namespace annal;

TEST_CASE("a fresh store appends and reads back one stream") {
  test::temp_dir dir;
  auto store = event_store::open({dir.path()});
  REQUIRE(store);
  auto& s = **store;
  std::vector<new_event> evs;
  for (int i = 0; i < 3; ++i)
    evs.push_back(new_event{"t", 1, "payload" + std::to_string(i), {"c", "", ""}, 0});
  auto r = s.append("a-1", expected_version::no_stream(), evs);
  REQUIRE(r);
  CHECK(r->next_expected_version == 3);
  CHECK(r->first_position == 1);
  CHECK(r->last_position == 3);
  auto back = s.read_stream("a-1");
  REQUIRE(back);
  REQUIRE(back->size() == 3);
  CHECK((*back)[2].payload == "payload2");
  CHECK((*back)[2].version == 3);
  CHECK_FALSE((*back)[2].corrupt);
  auto again = s.append("a-1", expected_version::exact(2), evs);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::conflict);
  auto all = s.read_all(0, 10);
  REQUIRE(all);
  CHECK(all->size() == 3);
  auto bw = s.read_stream_backward("a-1", 0, 2);
  REQUIRE(bw);
  REQUIRE(bw->size() == 2);
  CHECK((*bw)[0].version == 3);
  REQUIRE(s.truncate_stream("a-1", 2));
  auto tr = s.read_stream("a-1");
  REQUIRE(tr);
  CHECK(tr->size() == 1);
  REQUIRE(s.delete_stream("a-1"));
  CHECK(s.read_stream("a-1").code() == errc::stream_deleted);
}
