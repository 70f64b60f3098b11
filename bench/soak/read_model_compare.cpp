#include "soak/read_model_compare.hpp"

#include <iostream>
#include <map>

#include "annal/read_model_store.hpp"
#include "annal/runtime.hpp"
#include "shop/model.hpp"
#include "shop/read_models/tables.hpp"

namespace annal::soak {

namespace {

using rows = std::map<std::string, std::string>;

const char* const shop_tables[] = {shop::catalog_table,         shop::inventory_table,
                                   shop::orders_table,          shop::customer_orders_table,
                                   shop::customer_order_keys_table, shop::sales_table,
                                   shop::sales_pending_table};

// Every row of every shop table of the read-model store in `dir` (a missing table is empty).
bool dump(const std::filesystem::path& dir, std::map<std::string, rows>& out, std::string& error) {
  store_options o;
  o.dir = dir / "read-models";
  o.read_only = true;
  auto store = read_model_store::open(o);
  if (!store) {
    error = "open " + o.dir.string() + ": " + store.error().to_string();
    return false;
  }
  for (const char* name : shop_tables) {
    auto& table_rows = out[name];
    auto t = (*store)->table(name);
    if (!t)
      continue; // never written
    auto ok = (*store)->read([&](const read_model_txn& txn) {
      return txn.scan(*t, "", [&](std::string_view k, std::string_view v) {
        table_rows.emplace(std::string{k}, std::string{v});
        return true;
      });
    });
    if (!ok) {
      error = std::string{"scan "} + name + " in " + o.dir.string() + ": " + ok.error().to_string();
      return false;
    }
  }
  return true;
}

std::string printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 80))
    out += (c >= 0x20 && c < 0x7f) ? c : '.';
  return out;
}

} // namespace

int rebuild_child(const std::filesystem::path& data, const std::filesystem::path& into,
                  std::chrono::seconds timeout) {
  std::error_code ec;
  std::filesystem::create_directories(into / "journal", ec);
  std::filesystem::copy_file(data / "journal" / "data.mdb", into / "journal" / "data.mdb", ec);
  if (ec) {
    std::cerr << "soak rebuild: cannot copy the journal: " << ec.message() << "\n";
    return 1;
  }
  runtime_config cfg;
  cfg.data_dir = into;
  cfg.mode = durability::no_sync; // a scratch copy: nothing to keep after a crash
  cfg.caf_args = {"--scheduler.max-threads=2"};
  auto rt = runtime::open(cfg);
  if (!rt) {
    std::cerr << "soak rebuild: open: " << rt.error().to_string() << "\n";
    return 1;
  }
  if (auto ok = shop::register_aggregates(**rt); !ok) {
    std::cerr << "soak rebuild: " << ok.error().to_string() << "\n";
    return 1;
  }
  if (auto ok = shop::add_read_models(**rt); !ok) { // no fulfilment: nothing sends commands
    std::cerr << "soak rebuild: " << ok.error().to_string() << "\n";
    return 1;
  }
  if (auto ok = (*rt)->start(); !ok) {
    std::cerr << "soak rebuild: start: " << ok.error().to_string() << "\n";
    return 1;
  }
  auto head = (*rt)->store().last_position();
  if (!head) {
    std::cerr << "soak rebuild: " << head.error().to_string() << "\n";
    return 1;
  }
  for (const auto& name : shop::read_model_names())
    if (auto ok = (*rt)->await_projection(name, *head, timeout); !ok) {
      std::cerr << "soak rebuild: " << name << " did not reach " << *head << ": "
                << ok.error().to_string() << "\n";
      return 1;
    }
  if (auto ok = (*rt)->stop(); !ok) {
    std::cerr << "soak rebuild: stop: " << ok.error().to_string() << "\n";
    return 1;
  }
  return 0;
}

std::vector<std::string> compare_read_models(const std::filesystem::path& live,
                                             const std::filesystem::path& rebuilt, std::string& error) {
  std::vector<std::string> out;
  std::map<std::string, rows> a;
  std::map<std::string, rows> b;
  if (!dump(live, a, error) || !dump(rebuilt, b, error))
    return out;
  auto note = [&](std::string s) {
    if (out.size() < 20)
      out.push_back(std::move(s));
  };
  for (const char* name : shop_tables) {
    const auto& x = a[name];
    const auto& y = b[name];
    if (x.size() != y.size())
      note(std::string{name} + ": " + std::to_string(x.size()) + " rows served, "
           + std::to_string(y.size()) + " rebuilt");
    for (const auto& [k, v] : x) {
      auto i = y.find(k);
      if (i == y.end())
        note(std::string{name} + " row '" + printable(k) + "' is served but not rebuilt");
      else if (i->second != v)
        note(std::string{name} + " row '" + printable(k) + "' differs: served '" + printable(v)
             + "', rebuilt '" + printable(i->second) + "'");
    }
    for (const auto& [k, v] : y)
      if (x.count(k) == 0)
        note(std::string{name} + " row '" + printable(k) + "' is rebuilt but not served");
  }
  return out;
}

} // namespace annal::soak
