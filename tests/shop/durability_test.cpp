// Durability: kill -9 in the middle of a concurrent workload, restart on the same data.
// Every acknowledged command must be in the journal where its reply said, fulfilment must
// finish what it started, the invariants must hold, and the read models must equal a
// rebuild from the journal.
#include <catch2/catch.hpp>

#include <filesystem>
#include <mutex>
#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "annal/runtime.hpp"
#include "invariants.hpp"
#include "shop/model.hpp"
#include "shop_fixture.hpp"

using namespace shop::test;
using nlohmann::json;

namespace {

// An acknowledged command: where its event is, and which type it has.
struct ack {
  std::string stream;
  uint64_t version = 0;
  uint64_t position = 0;
  std::string type;
};

const std::vector<std::string> skus = {"a", "b", "c"};

// Every row of every shop table, by table and key.
using table_dump = std::map<std::string, std::map<std::string, std::string>>;

table_dump dump(const annal::read_model_store& store) {
  auto& s = const_cast<annal::read_model_store&>(store);
  table_dump out;
  for (const char* name : {shop::catalog_table, shop::inventory_table, shop::orders_table,
                           shop::customer_orders_table, shop::customer_order_keys_table,
                           shop::sales_table, shop::sales_pending_table}) {
    auto t = s.table(name);
    REQUIRE(t);
    auto& rows = out[name];
    REQUIRE(store.read([&](const annal::read_model_txn& txn) {
      return txn.scan(*t, "", [&](std::string_view k, std::string_view v) {
        rows.emplace(std::string{k}, std::string{v});
        return true;
      });
    }));
  }
  return out;
}

// The read models a fresh runtime builds from (a copy of) the journal in `data`.
table_dump rebuild(const std::filesystem::path& data, const std::filesystem::path& scratch) {
  std::filesystem::create_directories(scratch / "journal");
  std::filesystem::copy_file(data / "journal" / "data.mdb", scratch / "journal" / "data.mdb");
  annal::runtime_config cfg;
  cfg.data_dir = scratch;
  cfg.caf_args = {"--scheduler.max-threads=2"};
  auto rt = annal::runtime::open(cfg);
  REQUIRE(rt);
  REQUIRE(shop::register_aggregates(**rt));
  REQUIRE(shop::add_read_models(**rt)); // no fulfilment: only the read models
  REQUIRE((*rt)->start());
  auto head = (*rt)->store().last_position();
  REQUIRE(head);
  for (const auto& name : shop::read_model_names())
    REQUIRE((*rt)->await_projection(name, *head, std::chrono::seconds(60)));
  auto out = dump((*rt)->read_models());
  REQUIRE((*rt)->stop());
  return out;
}

} // namespace

TEST_CASE("kill -9 under load loses no acknowledged command and read models equal a rebuild",
          "[shop][durability]") {
  shop_fixture f;
  auto c = f.client();
  for (const auto& sku : skus) {
    REQUIRE(c.create_product(sku, "Item " + sku, 100 + static_cast<int64_t>(sku[0])).status == 201);
    REQUIRE(c.restock(sku, 40).status == 200);
  }

  std::mutex mx;
  std::vector<ack> acks;
  std::atomic<bool> stop{false};
  auto record = [&](const reply& r, std::string stream, std::string type) {
    if (!r.ok())
      return;
    std::lock_guard<std::mutex> guard{mx};
    acks.push_back({std::move(stream), r.json["version"].get<uint64_t>(),
                    r.json["position"].get<uint64_t>(), std::move(type)});
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < 6; ++t)
    workers.emplace_back([&, t] {
      auto w = f.client();
      std::mt19937 rng(static_cast<unsigned>(100 + t));
      std::vector<std::string> mine;
      for (int i = 0; !stop; ++i) {
        // A steady load rather than a flood: fulfilment (a few fsyncs per order) must be
        // able to finish the backlog after the restart in reasonable time.
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        auto pick = rng() % 10;
        if (pick < 6 || mine.empty()) {
          auto id = "w" + std::to_string(t) + "-" + std::to_string(i);
          std::vector<std::pair<std::string, int64_t>> lines{{skus[rng() % 3], 1 + rng() % 3}};
          auto r = w.place_order("cust" + std::to_string(t), lines, id);
          record(r, "order-" + id, "OrderPlaced");
          if (r.ok())
            mine.push_back(id);
        } else if (pick < 8) {
          const auto& id = mine[rng() % mine.size()];
          auto o = w.order(id);
          if (o.status == 200 && o.json["status"] == "confirmed")
            record(w.post("/orders/" + id + "/pay", {{"amount_cents", o.json["total_cents"]}}),
                   "order-" + id, "OrderPaid");
          else if (o.status == 200 && o.json["status"] == "paid")
            record(w.post("/orders/" + id + "/ship", json::object()), "order-" + id, "OrderShipped");
        } else if (pick < 9) {
          const auto& id = mine[rng() % mine.size()];
          record(w.post("/orders/" + id + "/cancel", json::object()), "order-" + id, "OrderCancelled");
        } else {
          const auto& sku = skus[rng() % 3];
          record(w.restock(sku, 1 + rng() % 4), "inventory-" + sku, "StockRestocked");
        }
      }
    });
  std::mt19937 rng{std::random_device{}()};
  std::this_thread::sleep_for(std::chrono::milliseconds(1500 + rng() % 1500));
  f.node->kill9();
  stop = true;
  for (auto& w : workers)
    w.join();
  INFO(acks.size() << " acknowledged commands before the kill");
  REQUIRE(acks.size() > 20);

  f.start();
  c = f.client();
  for (const auto& a : acks) {
    auto e = c.get("/streams/" + a.stream + "/events?from=" + std::to_string(a.version) + "&limit=1");
    INFO(a.stream << " v" << a.version << " at " << a.position << " (" << a.type << ")");
    REQUIRE(e.status == 200);
    REQUIRE(e.json["events"].size() == 1);
    CHECK(e.json["events"][0]["version"] == a.version);
    CHECK(e.json["events"][0]["position"] == a.position);
    CHECK(e.json["events"][0]["type"] == a.type);
  }
  auto placed = c.placed_order_ids();
  REQUIRE(placed);
  auto orders = *placed;
  REQUIRE(await_quiet(c, orders));
  auto broken = check_invariants(c, skus, orders);
  for (const auto& b : broken)
    UNSCOPED_INFO(b);
  CHECK(broken.empty());

  REQUIRE(f.node->terminate() == 0);
  annal::store_options ro;
  ro.dir = f.dir / "data" / "read-models";
  ro.read_only = true;
  auto live = annal::read_model_store::open(ro);
  REQUIRE(live);
  auto served = dump(**live);
  auto rebuilt = rebuild(f.dir / "data", f.dir / "rebuild");
  CHECK(served.at(shop::orders_table).size() == orders.size());
  for (const auto& [table, rows] : rebuilt) {
    INFO("table " << table);
    CHECK(served.at(table).size() == rows.size());
    CHECK(served.at(table) == rows);
  }
}
