// The durable projection shared by the exactly-once tests (tests/read_side/
// exactly_once_test.cpp) and their crash child (projection_crash_child.cpp): a read model
// in which applying an event twice, or losing one, is visible.
//
// Table "crash_model" (filter: category "account"):
//   "p" + be64(position)  -> how many times the event at `position` was applied ("1")
//   "s" + stream id       -> "<events applied> <sum of their positions>"
// expected_model() computes the same table by folding the journal read directly.
#pragma once

#include <map>
#include <string>

#include "annal/runtime.hpp"
#include "read_side_helpers.hpp"

namespace crash_model {

inline constexpr const char* projection_name = "crash_model";
inline constexpr const char* table_name = "crash_model";

inline std::string stream_value(uint64_t count, uint64_t sum) {
  return std::to_string(count) + " " + std::to_string(sum);
}

inline std::pair<uint64_t, uint64_t> parse_stream_value(std::string_view v) {
  auto sp = v.find(' ');
  if (sp == std::string_view::npos)
    return {0, 0};
  return {annal::test::to_u64(v.substr(0, sp)), annal::test::to_u64(v.substr(sp + 1))};
}

/// The handler of the projection over table `t`.
inline annal::durable_handler handler(annal::table_id t) {
  return [t](annal::read_model_txn& tx, const annal::event_view& e) -> annal::status {
    auto pkey = "p" + annal::test::be64(e.position);
    auto cur = tx.get(t, pkey);
    if (!cur)
      return std::move(cur).error();
    uint64_t n = *cur ? annal::test::to_u64(**cur) : 0;
    if (auto ok = tx.put(t, pkey, std::to_string(n + 1)); !ok)
      return ok;
    auto skey = "s" + std::string{e.stream_id};
    auto s = tx.get(t, skey);
    if (!s)
      return std::move(s).error();
    auto [count, sum] = *s ? parse_stream_value(**s) : std::pair<uint64_t, uint64_t>{0, 0};
    return tx.put(t, skey, stream_value(count + 1, sum + e.position));
  };
}

/// Registers the projection (before rt.start()).
inline annal::status add_projection(annal::runtime& rt, std::size_t chunk_events) {
  auto t = rt.read_models().table(table_name);
  if (!t)
    return std::move(t).error();
  annal::durable_projection dp;
  dp.options.name = projection_name;
  dp.options.filter = annal::event_filter::categories({"account"});
  dp.options.chunk_events = chunk_events;
  dp.tables = {table_name};
  dp.apply = handler(*t);
  return rt.add_projection(dp);
}

/// The table as it must be after applying every account event of `log` with a position
/// <= `through`, each exactly once.
inline std::map<std::string, std::string> expected_model(const std::vector<annal::test::logged>& log,
                                                         annal::global_position through) {
  std::map<std::string, std::string> out;
  std::map<std::string, std::pair<uint64_t, uint64_t>> streams;
  for (const auto& e : log) {
    if (e.position > through || annal::test::category_part(e.stream_id) != "account")
      continue;
    out["p" + annal::test::be64(e.position)] = "1";
    auto& s = streams[e.stream_id];
    ++s.first;
    s.second += e.position;
  }
  for (const auto& [id, s] : streams)
    out["s" + id] = stream_value(s.first, s.second);
  return out;
}

/// A readable key: "p<position>" or "s<stream>".
inline std::string key_text(const std::string& k) {
  if (k.size() == 9 && k[0] == 'p')
    return "p" + std::to_string(annal::test::from_be64(std::string_view{k}.substr(1)));
  return k;
}

/// The differences between two tables ("" when equal), at most `limit` of them, e.g.
/// "p1234: got 2, want 1; saccount-c3: got -, want 5 9123".
inline std::string diff(const std::map<std::string, std::string>& got,
                        const std::map<std::string, std::string>& want, std::size_t limit = 12) {
  std::string out;
  std::size_t n = 0;
  auto note = [&](const std::string& k, const std::string* g, const std::string* w) {
    if (n++ < limit)
      out += key_text(k) + ": got " + (g ? *g : "-") + ", want " + (w ? *w : "-") + "; ";
  };
  for (const auto& [k, v] : got) {
    auto i = want.find(k);
    if (i == want.end())
      note(k, &v, nullptr);
    else if (i->second != v)
      note(k, &v, &i->second);
  }
  for (const auto& [k, v] : want)
    if (got.count(k) == 0)
      note(k, nullptr, &v);
  if (n > limit)
    out += "... " + std::to_string(n) + " differences in all";
  return out;
}

/// The table's content, read in one transaction of `store`.
inline annal::result<std::map<std::string, std::string>> read_model(annal::read_model_store& store) {
  auto t = store.table(table_name);
  if (!t)
    return std::move(t).error();
  std::map<std::string, std::string> out;
  auto ok = store.read([&](const annal::read_model_txn& tx) {
    return tx.scan(*t, "", [&](std::string_view k, std::string_view v) {
      out.emplace(std::string{k}, std::string{v});
      return true;
    });
  });
  if (!ok)
    return std::move(ok).error();
  return out;
}

} // namespace crash_model
