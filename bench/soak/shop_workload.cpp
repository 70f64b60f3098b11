#include "soak/shop_workload.hpp"

#include <deque>
#include <random>
#include <utility>

#include "soak/node_client.hpp"

namespace annal::soak {

using nlohmann::json;
using clock = std::chrono::steady_clock;

namespace {

std::string sku_name(std::size_t i) {
  return "sku" + std::to_string(i);
}

// Records the reply of a command that appends one event of `type` to `stream`.
bool record(soak_ledger& l, const reply& r, const std::string& stream, const char* type,
            const char* or_type = "") {
  if (r.ok()) {
    l.acknowledge({stream, r.json.value("version", uint64_t{0}), r.json.value("position", uint64_t{0}),
                   type, or_type});
    return true;
  }
  if (r.status == 0)
    ++l.no_answer;
  else if (r.status >= 500)
    ++l.failed;
  else
    ++l.refused;
  return false;
}

} // namespace

bool seed_catalog(int port, soak_ledger& ledger, std::size_t count, std::chrono::seconds timeout,
                  std::string& why) {
  auto c = node_client(port, timeout);
  for (std::size_t i = 0; i < count; ++i) {
    auto sku = sku_name(i);
    ledger.add_sku(sku);
    auto p = c.post("/products", {{"sku", sku}, {"name", "Item " + sku}, {"price_cents", 100 + i}});
    if (!record(ledger, p, "product-" + sku, "ProductCreated") && p.error() != "already_exists") {
      why = "create " + sku + ": " + std::to_string(p.status) + " " + p.text;
      return false;
    }
    auto r = c.post("/inventory/" + sku + "/restock", {{"quantity", 50}});
    if (!record(ledger, r, "inventory-" + sku, "StockRestocked")) {
      why = "restock " + sku + ": " + std::to_string(r.status) + " " + r.text;
      return false;
    }
  }
  return true;
}

shop_workload::shop_workload(workload_options o, soak_ledger& ledger, int port, uint64_t seed,
                             int round)
  : o_(std::move(o)), ledger_(ledger), port_(port), seed_(seed), round_(round) {}

shop_workload::~shop_workload() {
  stop();
}

void shop_workload::start() {
  for (int i = 0; i < o_.clients; ++i)
    threads_.emplace_back([this, i] { client(i); });
}

void shop_workload::stop() {
  stop_ = true;
  for (auto& t : threads_)
    t.join();
  threads_.clear();
}

std::string shop_workload::timed_out() const {
  std::lock_guard<std::mutex> g{mx_};
  return timed_out_;
}

void shop_workload::client(int index) {
  std::mt19937_64 rng{seed_ * 1000003 + static_cast<uint64_t>(round_ * 101 + index)};
  auto c = node_client(port_, o_.request_timeout);
  std::deque<std::string> recent; // this client's newest orders
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  // A request without an answer is a hang unless the node is being killed.
  bool unreachable = false; // this request got no answer: the node is down (killed)
  auto watch = [&](const reply& r, clock::time_point sent, const std::string& what) {
    unreachable = unreachable || r.status == 0;
    if (r.status != 0 || killing_ || stop_)
      return;
    if (clock::now() - sent >= o_.request_timeout - std::chrono::seconds(1)) {
      std::lock_guard<std::mutex> g{mx_};
      if (timed_out_.empty())
        timed_out_ = what + " got no answer within " + std::to_string(o_.request_timeout.count()) + " s";
    }
  };
  for (uint64_t n = 0; !stop_; ++n) {
    // A refused connection fails at once: without a pause the clients of a killed node
    // would spin on it, taking the CPU the other nodes (a cluster soak) need.
    if (std::exchange(unreachable, false))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto skus = ledger_.skus();
    auto roll = pick(100);
    auto sent = clock::now();
    if (roll < 40 || recent.empty()) {
      // A multi-line order over distinct skus.
      auto id = o_.run_id + "-r" + std::to_string(round_) + "c" + std::to_string(index) + "n"
                + std::to_string(n);
      json lines = json::array();
      std::set<std::size_t> used;
      auto count = 1 + pick(static_cast<std::size_t>(o_.max_lines));
      for (std::size_t i = 0; i < count && used.size() < skus.size(); ++i) {
        auto s = pick(skus.size());
        if (!used.insert(s).second)
          continue;
        lines.push_back({{"sku", skus[s]}, {"quantity", 1 + pick(3)}});
      }
      auto r = c.post("/orders", {{"order_id", id},
                                  {"customer_id", "cust" + std::to_string(pick(50))},
                                  {"lines", lines}});
      watch(r, sent, "POST /orders");
      bool ok = record(ledger_, r, "order-" + id, "OrderPlaced");
      if (ok || r.status == 0 || r.status >= 500)
        ledger_.touch_order(id, ok); // an unknown outcome may still be in the journal
      if (ok) {
        recent.push_back(id);
        if (recent.size() > 64)
          recent.pop_front();
      }
    } else if (roll < 70) {
      // Move an order on: pay a confirmed one, ship a paid one.
      const auto id = recent[pick(recent.size())];
      auto o = c.get("/orders/" + id);
      watch(o, sent, "GET /orders/" + id);
      if (o.status == 200 && o.json.value("status", "") == "confirmed") {
        auto r = c.post("/orders/" + id + "/pay", {{"amount_cents", o.json["total_cents"]}});
        watch(r, sent, "POST /orders/" + id + "/pay");
        record(ledger_, r, "order-" + id, "OrderPaid");
        ledger_.touch_order(id, false);
      } else if (o.status == 200 && o.json.value("status", "") == "paid") {
        auto r = c.post("/orders/" + id + "/ship", json::object());
        watch(r, sent, "POST /orders/" + id + "/ship");
        record(ledger_, r, "order-" + id, "OrderShipped");
        ledger_.touch_order(id, false);
      }
    } else if (roll < 78) {
      const auto id = recent[pick(recent.size())];
      auto r = c.post("/orders/" + id + "/cancel", {{"reason", "soak"}});
      watch(r, sent, "POST /orders/" + id + "/cancel");
      record(ledger_, r, "order-" + id, "OrderCancelled");
      ledger_.touch_order(id, false);
    } else if (roll < 93) {
      const auto& sku = skus[pick(skus.size())];
      auto r = c.post("/inventory/" + sku + "/restock", {{"quantity", 1 + pick(8)}});
      watch(r, sent, "POST /inventory/" + sku + "/restock");
      record(ledger_, r, "inventory-" + sku, "StockRestocked");
    } else if (roll < 98 || skus.size() >= o_.max_skus) {
      const auto& sku = skus[pick(skus.size())];
      auto r = c.post("/products/" + sku + "/price", {{"price_cents", 50 + pick(500)}});
      watch(r, sent, "POST /products/" + sku + "/price");
      // A price equal to the current one decides no event: the reply then names the newest
      // event, the creation when no change came before.
      record(ledger_, r, "product-" + sku, "ProductPriceChanged", "ProductCreated");
    } else {
      // A new product, then its first stock (both may fail if the node is killed between).
      auto sku = sku_name(skus.size());
      ledger_.add_sku(sku);
      auto p = c.post("/products", {{"sku", sku}, {"name", "Item " + sku}, {"price_cents", 100}});
      watch(p, sent, "POST /products");
      record(ledger_, p, "product-" + sku, "ProductCreated");
      if (p.ok()) {
        auto r = c.post("/inventory/" + sku + "/restock", {{"quantity", 20}});
        record(ledger_, r, "inventory-" + sku, "StockRestocked");
      }
    }
  }
}

} // namespace annal::soak
