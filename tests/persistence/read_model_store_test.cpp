// The read-model environment: checkpoints, named tables, atomic writes, reopening.
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "annal/event_store.hpp"
#include "annal/read_model_store.hpp"
#include "temp_dir.hpp"

using namespace annal;

namespace {

std::unique_ptr<read_model_store> open_rm(const std::filesystem::path& dir,
                                          bool read_only = false) {
  store_options o;
  o.dir = dir;
  o.read_only = read_only;
  auto r = read_model_store::open(o);
  REQUIRE(r);
  return std::move(*r);
}

table_id table_of(read_model_store& s, const std::string& name) {
  auto t = s.table(name);
  REQUIRE(t);
  return *t;
}

global_position checkpoint_of(read_model_store& s, std::string_view name) {
  auto p = s.load_checkpoint(name);
  REQUIRE(p);
  return *p;
}

// The value under `key` in `table`, copied out of its transaction.
std::optional<std::string> get(read_model_store& s, table_id table, std::string_view key) {
  std::optional<std::string> out;
  auto ok = s.read([&](const read_model_txn& t) -> status {
    auto v = t.get(table, key);
    if (!v)
      return std::move(v).error();
    if (*v)
      out = std::string{**v};
    return {};
  });
  INFO((ok ? std::string{"ok"} : ok.error().to_string()));
  REQUIRE(ok);
  return out;
}

using kv = std::vector<std::pair<std::string, std::string>>;

kv scan(read_model_store& s, table_id table, std::string_view prefix,
        std::string_view after = {}, std::size_t stop_after = 1000) {
  kv out;
  auto ok = s.read([&](const read_model_txn& t) {
    return t.scan(
      table, prefix,
      [&](std::string_view k, std::string_view v) {
        out.emplace_back(std::string{k}, std::string{v});
        return out.size() < stop_after;
      },
      after);
  });
  REQUIRE(ok);
  return out;
}

status put_all(read_model_store& s, table_id table, const kv& rows) {
  return s.write([&](read_model_txn& t) -> status {
    for (const auto& [k, v] : rows)
      if (auto ok = t.put(table, k, v); !ok)
        return ok;
    return {};
  });
}

} // namespace

TEST_CASE("an unknown checkpoint loads as 0", "[read_model]") {
  test::temp_dir dir;
  auto s = open_rm(dir.path());
  CHECK(checkpoint_of(*s, "orders-projection") == 0);
  auto all = s->checkpoints();
  REQUIRE(all);
  CHECK(all->empty());
}

TEST_CASE("checkpoints are saved, loaded, overwritten, listed and removed", "[read_model]") {
  test::temp_dir dir;
  auto s = open_rm(dir.path());
  REQUIRE(s->save_checkpoint("orders", 42));
  REQUIRE(s->save_checkpoint("carts", 7));
  REQUIRE(s->save_checkpoint("big", 0x0123456789abcdefull));
  CHECK(checkpoint_of(*s, "orders") == 42);
  CHECK(checkpoint_of(*s, "carts") == 7);
  CHECK(checkpoint_of(*s, "big") == 0x0123456789abcdefull);
  REQUIRE(s->save_checkpoint("orders", 43));
  CHECK(checkpoint_of(*s, "orders") == 43);
  using L = std::vector<std::pair<std::string, global_position>>;
  auto all = s->checkpoints();
  REQUIRE(all);
  CHECK(*all == L{{"big", 0x0123456789abcdefull}, {"carts", 7}, {"orders", 43}});
  REQUIRE(s->remove_checkpoint("carts"));
  CHECK(checkpoint_of(*s, "carts") == 0);
  REQUIRE(s->remove_checkpoint("never-saved"));
  auto rest = s->checkpoints();
  REQUIRE(rest);
  CHECK(*rest == L{{"big", 0x0123456789abcdefull}, {"orders", 43}});
  // Inside a transaction too.
  REQUIRE(s->write([](read_model_txn& t) { return t.save_checkpoint("txn", 5); }));
  global_position seen = 0;
  REQUIRE(s->read([&](const read_model_txn& t) -> status {
    auto p = t.checkpoint("txn");
    if (!p)
      return std::move(p).error();
    seen = *p;
    return {};
  }));
  CHECK(seen == 5);
}

TEST_CASE("read-model tables put, get and erase values", "[read_model]") {
  test::temp_dir dir;
  auto s = open_rm(dir.path());
  auto orders = table_of(*s, "orders");
  auto users = table_of(*s, "users");
  CHECK(orders != users);
  CHECK(table_of(*s, "orders") == orders); // opening again yields the same table
  REQUIRE(put_all(*s, orders, {{"o-1", "open"}, {"o-2", std::string("bin\0ary", 7)}}));
  REQUIRE(put_all(*s, users, {{"o-1", "not an order"}}));
  CHECK(get(*s, orders, "o-1") == std::optional<std::string>{"open"});
  CHECK(get(*s, orders, "o-2") == std::optional<std::string>{std::string("bin\0ary", 7)});
  CHECK(get(*s, users, "o-1") == std::optional<std::string>{"not an order"});
  CHECK_FALSE(get(*s, orders, "o-3"));
  REQUIRE(put_all(*s, orders, {{"o-1", "shipped"}}));
  CHECK(get(*s, orders, "o-1") == std::optional<std::string>{"shipped"});
  REQUIRE(s->write([&](read_model_txn& t) -> status {
    if (auto ok = t.erase(orders, "o-1"); !ok)
      return ok;
    return t.erase(orders, "missing"); // erasing a missing key is fine
  }));
  CHECK_FALSE(get(*s, orders, "o-1"));
  CHECK(get(*s, orders, "o-2").has_value());
  CHECK(get(*s, users, "o-1").has_value());
  // Writes see their own earlier writes inside the transaction.
  std::optional<std::string> inside;
  REQUIRE(s->write([&](read_model_txn& t) -> status {
    CHECK(t.writable());
    if (auto ok = t.put(orders, "o-9", "new"); !ok)
      return ok;
    auto v = t.get(orders, "o-9");
    if (!v)
      return std::move(v).error();
    if (*v)
      inside = std::string{**v};
    return {};
  }));
  CHECK(inside == std::optional<std::string>{"new"});
}

TEST_CASE("read-model keys must be 1..511 bytes and tables need a valid name",
          "[read_model]") {
  test::temp_dir dir;
  auto s = open_rm(dir.path());
  auto t = table_of(*s, "t");
  auto empty = put_all(*s, t, {{"", "v"}});
  REQUIRE_FALSE(empty);
  CHECK(empty.code() == errc::bad_request);
  auto long_key = put_all(*s, t, {{std::string(512, 'k'), "v"}});
  REQUIRE_FALSE(long_key);
  CHECK(long_key.code() == errc::bad_request);
  REQUIRE(put_all(*s, t, {{std::string(511, 'k'), "v"}}));
  CHECK(get(*s, t, std::string(511, 'k')).has_value());
  CHECK(s->table("").code() == errc::bad_request);
  CHECK(s->table("checkpoints").code() == errc::bad_request);
}

TEST_CASE("a read-model store holds at most 250 tables", "[read_model]") {
  test::temp_dir dir;
  store_options o;
  o.dir = dir.path();
  o.mode = durability::no_sync;
  auto opened = read_model_store::open(o);
  REQUIRE(opened);
  auto& s = **opened;
  std::set<table_id> ids;
  for (int i = 0; i < 250; ++i) {
    auto t = s.table("t" + std::to_string(i));
    INFO("table " << i);
    REQUIRE(t);
    ids.insert(*t);
  }
  CHECK(ids.size() == 250);
  auto extra = s.table("one-too-many");
  REQUIRE_FALSE(extra);
  CHECK(extra.code() == errc::bad_request);
  // Opening an existing table needs no new slot.
  CHECK(s.table("t0"));
}

TEST_CASE("a read transaction refuses writes", "[read_model]") {
  test::temp_dir dir;
  auto s = open_rm(dir.path());
  auto t = table_of(*s, "t");
  std::optional<errc> put_code, erase_code;
  bool writable = true;
  REQUIRE(s->read([&](const read_model_txn& txn) -> status {
    writable = txn.writable();
    auto& mut = const_cast<read_model_txn&>(txn);
    put_code = mut.put(t, "k", "v").code();
    erase_code = mut.erase(t, "k").code();
    return {};
  }));
  CHECK_FALSE(writable);
  CHECK(put_code == errc::bad_request);
  CHECK(erase_code == errc::bad_request);
  CHECK_FALSE(get(*s, t, "k"));
}

TEST_CASE("a table scan selects by prefix and resumes after a key", "[read_model]") {
  test::temp_dir dir;
  auto s = open_rm(dir.path());
  auto t = table_of(*s, "idx");
  REQUIRE(put_all(*s, t, {{"user/3", "c"}, {"user/1", "a"}, {"order/1", "o"}, {"user/2", "b"},
                          {"user", "bare"}, {"userx/1", "x"}, {"v", "last"}}));
  CHECK(scan(*s, t, "user/") == kv{{"user/1", "a"}, {"user/2", "b"}, {"user/3", "c"}});
  CHECK(scan(*s, t, "user/", "user/1") == kv{{"user/2", "b"}, {"user/3", "c"}});
  CHECK(scan(*s, t, "user/", "user/3").empty());
  CHECK(scan(*s, t, "user/", "a") == kv{{"user/1", "a"}, {"user/2", "b"}, {"user/3", "c"}});
  CHECK(scan(*s, t, "user/", "zzz").empty());
  CHECK(scan(*s, t, "user/", "", 2) == kv{{"user/1", "a"}, {"user/2", "b"}});
  CHECK(scan(*s, t, "user") == kv{{"user", "bare"}, {"user/1", "a"}, {"user/2", "b"},
                                   {"user/3", "c"}, {"userx/1", "x"}});
  CHECK(scan(*s, t, "nothing").empty());
  auto all = scan(*s, t, "");
  REQUIRE(all.size() == 7);
  CHECK(all.front().first == "order/1");
  CHECK(all.back().first == "v");
  CHECK(scan(*s, t, "", "user/3") == kv{{"userx/1", "x"}, {"v", "last"}});
  // Paging through a prefix with `after` visits each key once.
  kv paged;
  std::string after;
  for (;;) {
    auto page = scan(*s, t, "user", after, 2);
    paged.insert(paged.end(), page.begin(), page.end());
    if (page.size() < 2)
      break;
    after = page.back().first;
  }
  CHECK(paged == scan(*s, t, "user"));
}

TEST_CASE("a write whose callback fails commits nothing, not even its checkpoint",
          "[read_model]") {
  test::temp_dir dir;
  auto s = open_rm(dir.path());
  auto t = table_of(*s, "orders");
  REQUIRE(put_all(*s, t, {{"o-1", "open"}}));
  REQUIRE(s->save_checkpoint("orders", 10));
  auto r = s->write([&](read_model_txn& txn) -> status {
    if (auto ok = txn.put(t, "o-1", "shipped"); !ok)
      return ok;
    if (auto ok = txn.put(t, "o-2", "open"); !ok)
      return ok;
    if (auto ok = txn.erase(t, "o-1"); !ok)
      return ok;
    if (auto ok = txn.save_checkpoint("orders", 11); !ok)
      return ok;
    return make_error(errc::rejected, "projection refused the event");
  });
  REQUIRE_FALSE(r);
  CHECK(r.code() == errc::rejected);
  CHECK(r.error().message == "projection refused the event");
  CHECK(get(*s, t, "o-1") == std::optional<std::string>{"open"});
  CHECK_FALSE(get(*s, t, "o-2"));
  CHECK(checkpoint_of(*s, "orders") == 10);
  // A successful write commits rows and checkpoint together.
  REQUIRE(s->write([&](read_model_txn& txn) -> status {
    if (auto ok = txn.put(t, "o-2", "open"); !ok)
      return ok;
    return txn.save_checkpoint("orders", 11);
  }));
  CHECK(get(*s, t, "o-2") == std::optional<std::string>{"open"});
  CHECK(checkpoint_of(*s, "orders") == 11);
}

TEST_CASE("a read-model write grows the map, and past the cap fails with nothing written",
          "[read_model][storage]") {
  test::temp_dir dir;
  store_options o;
  o.dir = dir.path();
  o.initial_map_size = std::size_t{1} << 20;
  o.max_map_size = std::size_t{8} << 20;
  auto opened = read_model_store::open(o);
  REQUIRE(opened);
  auto& s = **opened;
  auto t = table_of(s, "blobs");
  auto write_rows = [&](const std::string& prefix, int rows, global_position checkpoint) {
    return s.write([&](read_model_txn& txn) -> status {
      for (int i = 0; i < rows; ++i) {
        auto key = prefix + std::to_string(1000 + i);
        if (auto ok = txn.put(t, key, std::string(10'000, static_cast<char>('a' + i % 26)));
            !ok)
          return ok;
      }
      return txn.save_checkpoint("blobs", checkpoint);
    });
  };
  // 3 MB in one transaction: the 1 MiB map must grow (the callback runs again).
  REQUIRE(write_rows("a/", 300, 1));
  CHECK(scan(s, t, "a/").size() == 300);
  CHECK(checkpoint_of(s, "blobs") == 1);
  // 10 MB more cannot fit under the 8 MiB cap: storage_full, and nothing of it is kept.
  auto full = write_rows("b/", 1000, 2);
  REQUIRE_FALSE(full);
  CHECK(full.code() == errc::storage_full);
  CHECK(scan(s, t, "b/").empty());
  CHECK(checkpoint_of(s, "blobs") == 1);
  CHECK(scan(s, t, "a/").size() == 300);
  // A write that fits still succeeds.
  REQUIRE(write_rows("c/", 10, 3));
  CHECK(checkpoint_of(s, "blobs") == 3);
}

TEST_CASE("read models and checkpoints survive reopening", "[read_model]") {
  test::temp_dir dir;
  {
    auto s = open_rm(dir.path());
    auto a = table_of(*s, "a");
    auto b = table_of(*s, "b");
    REQUIRE(put_all(*s, a, {{"k1", "a1"}, {"k2", "a2"}}));
    REQUIRE(put_all(*s, b, {{"k1", "b1"}}));
    REQUIRE(s->save_checkpoint("proj", 99));
    REQUIRE(s->flush());
  }
  auto s = open_rm(dir.path());
  auto b = table_of(*s, "b"); // opened in the other order this time
  auto a = table_of(*s, "a");
  CHECK(scan(*s, a, "") == kv{{"k1", "a1"}, {"k2", "a2"}});
  CHECK(scan(*s, b, "") == kv{{"k1", "b1"}});
  CHECK(checkpoint_of(*s, "proj") == 99);
}

TEST_CASE("clearing a table empties it and nothing else", "[read_model]") {
  test::temp_dir dir;
  auto s = open_rm(dir.path());
  auto a = table_of(*s, "a");
  auto b = table_of(*s, "b");
  REQUIRE(put_all(*s, a, {{"k1", "a1"}, {"k2", "a2"}}));
  REQUIRE(put_all(*s, b, {{"k1", "b1"}}));
  REQUIRE(s->save_checkpoint("proj", 5));
  REQUIRE(s->clear(a));
  CHECK(scan(*s, a, "").empty());
  CHECK(scan(*s, b, "") == kv{{"k1", "b1"}});
  CHECK(checkpoint_of(*s, "proj") == 5);
  // The table stays usable.
  REQUIRE(put_all(*s, a, {{"k3", "a3"}}));
  CHECK(scan(*s, a, "") == kv{{"k3", "a3"}});
  CHECK(table_of(*s, "a") == a);
}

TEST_CASE("a read-only read-model store reads but refuses writes", "[read_model]") {
  test::temp_dir dir;
  {
    auto s = open_rm(dir.path());
    REQUIRE(put_all(*s, table_of(*s, "a"), {{"k", "v"}}));
    REQUIRE(s->save_checkpoint("proj", 3));
  }
  auto ro = open_rm(dir.path(), true);
  CHECK(checkpoint_of(*ro, "proj") == 3);
  CHECK(ro->table("missing").code() == errc::not_found);
  CHECK(ro->save_checkpoint("proj", 4).code() == errc::bad_request);
  auto a = table_of(*ro, "a");
  CHECK(put_all(*ro, a, {{"k", "w"}}).code() == errc::bad_request);
  CHECK(checkpoint_of(*ro, "proj") == 3);
  // The table opened read-only must be readable.
  CHECK(get(*ro, a, "k") == std::optional<std::string>{"v"});
  CHECK(scan(*ro, a, "") == kv{{"k", "v"}});
}

TEST_CASE("the read-model store is an environment apart from the journal", "[read_model]") {
  test::temp_dir dir;
  store_options jo;
  jo.dir = dir.path() / "journal";
  auto journal = event_store::open(jo);
  REQUIRE(journal);
  auto rm = open_rm(dir.path() / "read_models");
  std::vector<new_event> evs(1);
  evs[0].type = "T";
  evs[0].payload = "p";
  REQUIRE((*journal)->append("s-1", expected_version::no_stream(), evs));
  // A projection step: read the journal, write the model and the checkpoint atomically.
  auto t = table_of(*rm, "counts");
  auto events = (*journal)->read_all(checkpoint_of(*rm, "counter"), 100);
  REQUIRE(events);
  REQUIRE(events->size() == 1);
  REQUIRE(rm->write([&](read_model_txn& txn) -> status {
    if (auto ok = txn.put(t, "s-1", std::to_string(events->size())); !ok)
      return ok;
    return txn.save_checkpoint("counter", events->back().position);
  }));
  CHECK(checkpoint_of(*rm, "counter") == 1);
  CHECK(get(*rm, t, "s-1") == std::optional<std::string>{"1"});
  // The journal folder holds no read-model table and vice versa.
  CHECK(std::filesystem::exists(dir.path() / "journal" / "data.mdb"));
  CHECK(std::filesystem::exists(dir.path() / "read_models" / "data.mdb"));
  store_options ro;
  ro.dir = dir.path() / "read_models";
  ro.read_only = true;
  auto not_a_journal = event_store::open(ro);
  REQUIRE_FALSE(not_a_journal);
  CHECK(not_a_journal.error().code == errc::corrupt);
}

TEST_CASE("a read-model folder is not taken for a journal", "[read_model]") {
  test::temp_dir dir;
  {
    auto rm = open_rm(dir.path());
    REQUIRE(rm->save_checkpoint("proj", 7));
  }
  store_options o;
  o.dir = dir.path();
  auto journal = event_store::open(o);
  CHECK_FALSE(journal);
  if (!journal)
    CHECK(journal.error().code == errc::corrupt);
  journal = make_error(errc::io_error, "closed"); // release the environment, if opened
  auto rm = open_rm(dir.path());
  CHECK(checkpoint_of(*rm, "proj") == 7);
}
