#include "process_shard.hpp"

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <vector>

#include "annal/serialization.hpp"

namespace annal::detail {

namespace {

std::string shard_prefix(uint16_t shard) {
  return {static_cast<char>(shard >> 8), static_cast<char>(shard & 0xff)};
}

// The full keys of `shard`'s state rows.
result<std::vector<std::string>> state_keys(const read_model_txn& t, const process_tables& tables,
                                            uint16_t shard) {
  std::vector<std::string> keys;
  auto ok = t.scan(tables.state_shards, shard_prefix(shard), [&](std::string_view key, std::string_view) {
    keys.emplace_back(key.substr(2));
    return true;
  });
  if (!ok)
    return std::move(ok).error();
  return keys;
}

// The full keys and due times of `shard`'s timers. The index holds the pending timers
// only, so reading all of it is short.
result<std::vector<std::pair<std::string, timestamp_ns>>>
timer_keys(const read_model_txn& t, const process_tables& tables, uint16_t shard) {
  std::vector<std::pair<std::string, timestamp_ns>> keys;
  auto ok = t.scan(tables.timers.index, "", [&](std::string_view key, std::string_view value) {
    auto e = decode_timer_entry(value);
    if (e && e->shard == shard)
      keys.emplace_back(std::string{key}, e->due);
    return true;
  });
  if (!ok)
    return std::move(ok).error();
  return keys;
}

} // namespace

result<process_tables> open_process_tables(read_model_store& store) {
  process_tables out;
  auto state = store.table(process_state_table_name);
  if (!state)
    return std::move(state).error();
  auto shards = store.table(process_state_shards_table_name);
  if (!shards)
    return std::move(shards).error();
  auto timers = open_timer_tables(store);
  if (!timers)
    return std::move(timers).error();
  return process_tables{*state, *shards, *timers};
}

status write_state(read_model_txn& t, const process_tables& tables, const std::string& full_key,
                   uint16_t shard, const std::optional<std::string>& value) {
  auto index_key = shard_prefix(shard) + full_key;
  if (!value) {
    if (auto ok = t.erase(tables.state, full_key); !ok)
      return ok;
    return t.erase(tables.state_shards, index_key);
  }
  if (auto ok = t.put(tables.state, full_key, *value); !ok)
    return ok;
  return t.put(tables.state_shards, index_key, {});
}

result<process_shard_state> collect_process_shard(const read_model_txn& t, const process_tables& tables,
                                                  uint16_t shard) {
  process_shard_state out;
  auto states = state_keys(t, tables, shard);
  if (!states)
    return std::move(states).error();
  for (auto& key : *states) {
    auto v = t.get(tables.state, key);
    if (!v)
      return std::move(v).error();
    if (*v)
      out.state.push_back({std::move(key), std::string{**v}});
  }
  auto timers = timer_keys(t, tables, shard);
  if (!timers)
    return std::move(timers).error();
  for (auto& [key, due] : *timers) {
    auto v = t.get(tables.timers.timers, timer_row_key(due, key));
    if (!v)
      return std::move(v).error();
    if (!*v)
      continue;
    auto cmd = from_bytes<stored_command>(**v);
    if (!cmd)
      return make_error(errc::corrupt, "the timer '" + key + "' is undecodable: " + cmd.error().message);
    out.timers.push_back({std::move(key), due, std::move(*cmd)});
  }
  return out;
}

status drop_process_shard(read_model_txn& t, const process_tables& tables, uint16_t shard) {
  auto states = state_keys(t, tables, shard);
  if (!states)
    return std::move(states).error();
  for (const auto& key : *states)
    if (auto ok = write_state(t, tables, key, shard, std::nullopt); !ok)
      return ok;
  auto timers = timer_keys(t, tables, shard);
  if (!timers)
    return std::move(timers).error();
  for (const auto& [key, due] : *timers)
    if (auto ok = write_timer(t, tables.timers, key, shard, due, nullptr); !ok)
      return ok;
  return {};
}

status replace_process_shard(read_model_txn& t, const process_tables& tables, uint16_t shard,
                             const process_shard_state& rows) {
  if (auto ok = drop_process_shard(t, tables, shard); !ok)
    return ok;
  for (const auto& r : rows.state)
    if (auto ok = write_state(t, tables, r.key, shard, r.value); !ok)
      return ok;
  for (const auto& r : rows.timers)
    if (auto ok = write_timer(t, tables.timers, r.key, shard, r.due, &r.command); !ok)
      return ok;
  return {};
}

} // namespace annal::detail
