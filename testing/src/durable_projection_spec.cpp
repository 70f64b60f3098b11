#include "annal/testing/durable_projection_spec.hpp"

#include <filesystem>
#include <random>

namespace annal::testing {

namespace {

// A fresh folder removed with the object (one per built model).
class scratch_folder {
public:
  scratch_folder() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path()
            / ("annal-projection-spec-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~scratch_folder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  scratch_folder(const scratch_folder&) = delete;
  scratch_folder& operator=(const scratch_folder&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

private:
  std::filesystem::path path_;
};

result<std::unique_ptr<read_model_store>> open_spec_store(const std::filesystem::path& dir) {
  store_options o;
  o.dir = dir;
  o.mode = durability::no_sync;
  o.initial_map_size = std::size_t{4} << 20;
  return read_model_store::open(o);
}

// Applies the events in (after, through] in batches through a new sink on `store`.
status apply_range(read_model_store& store, const projection_factory& make, const event_log& log,
                   global_position after, global_position through, std::size_t batch) {
  auto projection = make(store);
  if (!projection)
    return std::move(projection).error();
  const auto& p = *projection;
  auto sink = make_durable_sink(store, p);
  if (!sink)
    return std::move(sink).error();
  while (after < through) {
    auto upto = through - after <= batch ? through : after + batch; // no overflow
    global_position failed_at = 0;
    auto ok = (*sink)->apply(log.views(after, upto, &p.options.filter), upto, failed_at);
    if (!ok)
      return make_error(ok.error().code, "event at position " + std::to_string(failed_at) + ": "
                                           + ok.error().message);
    after = upto;
  }
  return {};
}

result<table_dump> dump(read_model_store& store, const projection_factory& make) {
  auto p = make(store);
  if (!p)
    return std::move(p).error();
  table_dump out;
  for (const auto& name : p->tables) {
    auto id = store.table(name);
    if (!id)
      return std::move(id).error();
    auto& rows = out[name];
    auto ok = store.read([&](const read_model_txn& t) {
      return t.scan(*id, "", [&](std::string_view k, std::string_view v) {
        rows.emplace(std::string{k}, std::string{v});
        return true;
      });
    });
    if (!ok)
      return std::move(ok).error();
  }
  return out;
}

// Row counts per table, and the rows themselves (hex values) while the dump is small.
std::string describe(const table_dump& d) {
  static const char* hex = "0123456789abcdef";
  auto show = [](std::string_view bytes) {
    std::string out;
    for (unsigned char c : bytes) {
      out += hex[c >> 4];
      out += hex[c & 15];
    }
    return out;
  };
  std::string out;
  for (const auto& [table, rows] : d) {
    out += table + ": " + std::to_string(rows.size()) + " rows";
    if (rows.size() <= 8) {
      out += " {";
      for (const auto& [k, v] : rows)
        out += " " + show(k) + "=" + show(v);
      out += " }";
    }
    out += "; ";
  }
  return out.empty() ? "no tables; " : out;
}

} // namespace

durable_projection_spec::durable_projection_spec(projection_factory make) : make_(std::move(make)) {}

result<table_dump> durable_projection_spec::build(std::size_t batch) const {
  scratch_folder dir;
  auto store = open_spec_store(dir.path());
  if (!store)
    return std::move(store).error();
  if (auto ok = apply_range(**store, make_, log_, 0, log_.last_position(), batch); !ok)
    return std::move(ok).error();
  return dump(**store, make_);
}

spec_result durable_projection_spec::then(const std::function<status(read_model_store&)>& check) const {
  scratch_folder dir;
  auto store = open_spec_store(dir.path());
  if (!store)
    return spec_result::fail("opening a read-model store: " + store.error().message);
  if (auto ok = apply_range(**store, make_, log_, 0, log_.last_position(), ~std::size_t{0}); !ok)
    return spec_result::fail("applying the events failed: " + ok.error().message);
  if (auto ok = check(**store); !ok)
    return spec_result::fail(ok.error().message);
  return spec_result::pass();
}

spec_result durable_projection_spec::then_tables(const table_dump& expected) const {
  auto d = build();
  if (!d)
    return spec_result::fail("applying the events failed: " + d.error().message);
  if (*d != expected)
    return spec_result::fail("the tables hold " + describe(*d) + "expected " + describe(expected));
  return spec_result::pass();
}

spec_result durable_projection_spec::replays_equal() const {
  auto a = build();
  auto b = build();
  auto c = build(1);
  if (!a || !b || !c)
    return spec_result::fail("applying the events failed");
  if (*a != *b)
    return spec_result::fail("a second replay differs: " + describe(*b) + "vs " + describe(*a));
  if (*a != *c)
    return spec_result::fail("one event per transaction differs from one batch: " + describe(*c)
                             + "vs " + describe(*a));
  return spec_result::pass();
}

spec_result durable_projection_spec::exactly_once_across_crash() const {
  auto whole = build();
  if (!whole)
    return spec_result::fail("applying the events failed: " + whole.error().message);
  auto last = log_.last_position();
  for (global_position cut = 1; cut < last; ++cut) {
    scratch_folder dir;
    {
      auto store = open_spec_store(dir.path());
      if (!store)
        return spec_result::fail(store.error().message);
      if (auto ok = apply_range(**store, make_, log_, 0, cut, ~std::size_t{0}); !ok)
        return spec_result::fail("before the crash: " + ok.error().message);
    } // the store closes: what was committed stays, nothing else
    auto store = open_spec_store(dir.path());
    if (!store)
      return spec_result::fail(store.error().message);
    auto projection = make_(**store);
    if (!projection)
      return spec_result::fail(projection.error().message);
    auto sink = make_durable_sink(**store, *projection);
    if (!sink)
      return spec_result::fail(sink.error().message);
    auto at = (*sink)->stored_position();
    if (!at)
      return spec_result::fail(at.error().message);
    if (!*at || **at != cut)
      return spec_result::fail("after a crash at position " + std::to_string(cut)
                               + " the checkpoint is " + (*at ? std::to_string(**at) : "missing"));
    if (auto ok = apply_range(**store, make_, log_, **at, last, ~std::size_t{0}); !ok)
      return spec_result::fail("after the crash: " + ok.error().message);
    auto d = dump(**store, make_);
    if (!d)
      return spec_result::fail(d.error().message);
    if (*d != *whole)
      return spec_result::fail("a crash after position " + std::to_string(cut) + " gives "
                               + describe(*d) + "one run " + describe(*whole));
  }
  return spec_result::pass();
}

} // namespace annal::testing
