// Read models record the journal they reflect. A journal deleted (or emptied, or replaced)
// beside existing read models started silently: new events got positions from 1 again
// while the checkpoints sat far ahead, so nothing new was ever applied. Now the node
// refuses to start, naming `annal rebuild --all`, verify reports it, and the rebuild
// recovers.
#include <catch2/catch.hpp>

#include "annal/read_model_store.hpp"
#include "annal/runtime.hpp"
#include "cli_json.hpp"
#include "shop/domain/product.hpp"
#include "shop/model.hpp"
#include "shop_store.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace annal::test;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<runtime> open_shop(const temp_dir& data) {
  runtime_config cfg;
  cfg.data_dir = data.path();
  cfg.mode = durability::no_sync;
  auto rt = runtime::open(cfg);
  if (!rt)
    FAIL(rt.error().to_string());
  REQUIRE(shop::register_aggregates(**rt));
  REQUIRE(shop::add_read_models(**rt));
  return std::move(*rt);
}

} // namespace

TEST_CASE("read models beside a deleted journal are refused at start, and rebuild --all "
          "recovers them", "[cli][rebuild][identity]") {
  temp_dir data;
  auto last = write_shop_folder(data.path());
  REQUIRE(last > 5);
  std::filesystem::remove_all(data / "journal");

  auto node = run_shop_node(data.path().string(), std::chrono::seconds(30));
  INFO("node stderr: " << node.err);
  REQUIRE(node.signal == 0);
  REQUIRE(node.exit_code == 1);
  CHECK(node.err.find((data / "read-models").string()) != std::string::npos);
  CHECK(node.err.find("annal rebuild --all") != std::string::npos);

  // The node created the new (empty) journal before it refused: verify names the mismatch.
  auto v = run_annal({"--data", data.path().string(), "--json", "verify"});
  INFO("verify: " << v.out << v.err);
  REQUIRE(v.exit_code == 1);
  auto problems = of_kind(json_lines(v), "problem");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0]["check"] == "read_models");

  auto rebuilt = run_annal({"--data", data.path().string(), "rebuild", "--all"});
  INFO("rebuild: " << rebuilt.out << rebuilt.err);
  REQUIRE(rebuilt.exit_code == 0);
  CHECK(run_annal({"--data", data.path().string(), "verify"}).exit_code == 0);

  // A new product is applied again (it was acked at position 1 and never appeared).
  auto rt = open_shop(data);
  REQUIRE(rt->start());
  auto created = rt->send<shop::product>("sku-9", shop::create_product{"sku-9", "Nine", 900}).get();
  REQUIRE(created);
  CHECK(created->position == 1);
  REQUIRE(rt->await_projection("catalog", created->position, 20s));
  REQUIRE(rt->stop());
}

TEST_CASE("read models ahead of their journal are refused, and rebuild --all is refused while a "
          "node runs", "[cli][rebuild][identity]") {
  temp_dir data;
  auto last = write_shop_folder(data.path());
  {
    // As if the journal were restored from an older backup: a checkpoint beyond its end.
    store_options o;
    o.dir = data / "read-models";
    auto rm = read_model_store::open(o);
    REQUIRE(rm);
    REQUIRE((*rm)->save_checkpoint("catalog", last + 100));
  }
  runtime_config cfg;
  cfg.data_dir = data.path();
  auto rt = runtime::open(cfg);
  REQUIRE_FALSE(rt);
  CHECK(rt.error().code == errc::corrupt);
  CHECK(rt.error().message.find("'catalog' is at position " + std::to_string(last + 100))
        != std::string::npos);
  CHECK(rt.error().message.find("annal rebuild --all") != std::string::npos);

  auto rebuilt = run_annal({"--data", data.path().string(), "--json", "rebuild", "--all"});
  INFO("rebuild: " << rebuilt.out << rebuilt.err);
  REQUIRE(rebuilt.exit_code == 0);
  auto opened = open_shop(data);
  REQUIRE(opened->start());
  for (const auto& name : shop::read_model_names())
    REQUIRE(opened->await_projection(name, last, 20s));
  auto busy = run_annal({"--data", data.path().string(), "rebuild", "--all"});
  CHECK(busy.exit_code == 4);
  REQUIRE(opened->stop());
}
