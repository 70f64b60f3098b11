// projections shows checkpoints against the journal's head; rebuild replays a shop read
// model offline (and refuses while another process has the data folder open).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <map>

#include "annal/event_store.hpp"
#include "annal/read_model_store.hpp"
#include "annal/runtime.hpp"
#include "cli_json.hpp"
#include "shop_store.hpp"
#include "shop/domain/inventory.hpp"
#include "shop/domain/order.hpp"
#include "shop/domain/product.hpp"
#include "shop/model.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace annal::test;
using namespace std::chrono_literals;

namespace {

using table_rows = std::map<std::string, std::string>;

table_rows read_table(const std::filesystem::path& data, const std::string& table) {
  store_options o;
  o.dir = data / "read-models";
  o.read_only = true;
  auto rm = read_model_store::open(o);
  REQUIRE(rm);
  auto t = (*rm)->table(table);
  REQUIRE(t);
  table_rows rows;
  REQUIRE((*rm)->read([&](const read_model_txn& tx) {
    return tx.scan(*t, "", [&](std::string_view k, std::string_view v) {
      rows.emplace(std::string{k}, std::string{v});
      return true;
    });
  }));
  return rows;
}

} // namespace

TEST_CASE("projections lists checkpoints against the journal head", "[cli][projections]") {
  temp_dir data;
  auto last = write_shop_folder(data.path());
  auto r = run_annal({"--data", data.path().string(), "--json", "projections"});
  REQUIRE(r.exit_code == 0);
  std::map<std::string, nlohmann::json> rows;
  for (const auto& row : json_lines(r))
    rows[row["name"]] = row;
  for (const auto& name : shop::read_model_names()) {
    INFO(name);
    REQUIRE(rows.count(name) == 1);
    CHECK(rows[name]["head"] == last);
    CHECK(rows[name]["rebuildable"] == true);
    CHECK(rows[name]["checkpoint"].get<uint64_t>() <= last);
    CHECK(rows[name]["node_pid"].is_null());
  }
  CHECK(rows["catalog"]["checkpoint"].get<uint64_t>() > 0);
  CHECK(rows["catalog"]["status"] != "not started");

  auto table = run_annal({"--data", data.path().string(), "projections"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("CHECKPOINT") != std::string::npos);
  CHECK(table.out.find("order_detail") != std::string::npos);
}

TEST_CASE("rebuild replays a read model offline with progress", "[cli][rebuild]") {
  temp_dir data;
  write_shop_folder(data.path());
  auto before = read_table(data.path(), "shop.catalog");
  REQUIRE(before.size() == 3);
  {
    // Damage the read model behind the projection's back.
    store_options o;
    o.dir = data / "read-models";
    auto rm = read_model_store::open(o);
    REQUIRE(rm);
    auto t = (*rm)->table("shop.catalog");
    REQUIRE(t);
    REQUIRE((*rm)->write([&](read_model_txn& tx) -> status {
      if (auto ok = tx.erase(*t, "sku-1"); !ok)
        return ok;
      return tx.put(*t, "junk", "not a product");
    }));
  }
  REQUIRE(read_table(data.path(), "shop.catalog") != before);

  auto r = run_annal({"--data", data.path().string(), "rebuild", "catalog"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("rebuild catalog:") != std::string::npos);
  CHECK(r.err.find("100.0%") != std::string::npos);
  CHECK(r.out.find("projection") != std::string::npos);
  CHECK(read_table(data.path(), "shop.catalog") == before);

  auto j = run_annal({"--data", data.path().string(), "--json", "rebuild", "order_detail"});
  REQUIRE(j.exit_code == 0);
  auto lines = json_lines(j);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["projection"] == "order_detail");
}

TEST_CASE("rebuild refuses while another process has the data folder open", "[cli][rebuild]") {
  temp_dir data;
  write_shop_folder(data.path());
  std::string me = "process " + std::to_string(::getpid());
  {
    store_options o;
    o.dir = data / "read-models";
    auto rm = read_model_store::open(o);
    REQUIRE(rm);
    auto r = run_annal({"--data", data.path().string(), "rebuild", "catalog"});
    CHECK(r.exit_code == 4);
    CHECK(r.err.find(me) != std::string::npos);
    CHECK(r.err.find('\n') == r.err.size() - 1);
  }
  {
    store_options o;
    o.dir = data / "journal";
    o.read_only = true;
    auto journal = event_store::open(o);
    REQUIRE(journal);
    auto r = run_annal({"--data", data.path().string(), "rebuild", "catalog"});
    CHECK(r.exit_code == 4);
    CHECK(r.err.find(me) != std::string::npos);
    // projections (read-only) works beside it and says who has the store open.
    auto p = run_annal({"--data", data.path().string(), "projections"});
    CHECK(p.exit_code == 0);
    CHECK(p.out.find(me) != std::string::npos);
  }
  // Once the other process let go, the rebuild runs.
  auto ok = run_annal({"--data", data.path().string(), "rebuild", "catalog"});
  CHECK(ok.exit_code == 0);

  auto unknown = run_annal({"--data", data.path().string(), "rebuild", "nope"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("known: catalog") != std::string::npos);
}
