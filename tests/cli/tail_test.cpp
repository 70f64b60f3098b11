// tail follows the log: it prints events committed after it started, as they come, and
// ends cleanly on Ctrl-C.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "annal_process.hpp"
#include "shop_store.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace annal::test;
using namespace std::chrono_literals;

TEST_CASE("tail prints events committed after it started", "[cli][tail]") {
  temp_dir data;
  write_shop_journal(data.path());
  annal_process tail{{"--data", data.path().string(), "--json", "tail", "--interval-ms", "20"}};
  REQUIRE(tail.wait_for_stderr("following after position 41", 20s));
  {
    auto store = open_test_journal(data.path());
    append_order(*store, "late-1");
    append_order(*store, "late-2");
  }
  std::vector<nlohmann::json> seen;
  while (seen.size() < 6) {
    auto line = tail.read_line(20s);
    REQUIRE(line);
    seen.push_back(nlohmann::json::parse(*line));
  }
  for (std::size_t i = 0; i < seen.size(); ++i)
    CHECK(seen[i]["position"] == shop_events + 1 + i);
  CHECK(seen[0]["stream"] == "order-late-1");
  CHECK(seen[0]["type"] == "OrderPlaced");
  CHECK(seen[3]["stream"] == "order-late-2");
  // Nothing older was printed, and nothing more comes.
  CHECK_FALSE(tail.read_line(200ms));
  tail.interrupt();
  CHECK(tail.wait(20s) == 0);
}

TEST_CASE("tail --after replays from a position, then follows", "[cli][tail]") {
  temp_dir data;
  write_shop_journal(data.path());
  annal_process tail{{"--data", data.path().string(), "tail", "--after", "39", "--interval-ms", "20"}};
  REQUIRE(tail.wait_for_stderr("following after position 39", 20s));
  auto header = tail.read_line(20s);
  REQUIRE(header);
  CHECK(header->find("POSITION") != std::string::npos);
  auto first = tail.read_line(20s);
  REQUIRE(first);
  CHECK(first->find("order-o-10") != std::string::npos);
  REQUIRE(tail.read_line(20s)); // position 41
  {
    auto store = open_test_journal(data.path());
    append_order(*store, "late");
  }
  auto late = tail.read_line(20s);
  REQUIRE(late);
  CHECK(late->find("order-late") != std::string::npos);
  CHECK(late->find("OrderPlaced") != std::string::npos);
  tail.interrupt();
  CHECK(tail.wait(20s) == 0);
}
