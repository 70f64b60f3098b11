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

// The key of a write noted while `shard` is pending: kind 's' (state) or 't' (timer).
std::string written_key(uint16_t shard, char kind, const std::string& full_key) {
  return shard_prefix(shard) + kind + full_key;
}

status note_written(read_model_txn& t, const process_tables& tables, uint16_t shard, char kind,
                    const std::string& full_key) {
  if (!tables.expected->contains(shard))
    return {};
  return t.put(tables.written, written_key(shard, kind, full_key), {});
}

result<bool> exists(const read_model_txn& t, table_id table, const std::string& key) {
  auto v = t.get(table, key);
  if (!v)
    return std::move(v).error();
  return v->has_value();
}

// The keys of `table` under `prefix` (without it).
result<std::vector<std::string>> keys_under(const read_model_txn& t, table_id table, const std::string& prefix) {
  std::vector<std::string> keys;
  auto ok = t.scan(table, prefix, [&](std::string_view key, std::string_view) {
    keys.emplace_back(key.substr(prefix.size()));
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

std::string encode_epoch(uint64_t epoch) {
  std::string value(8, '\0');
  for (int i = 0; i < 8; ++i)
    value[static_cast<std::size_t>(i)] = static_cast<char>((epoch >> (56 - 8 * i)) & 0xff);
  return value;
}

// An epoch of a pending mark or a hand-off record; none when malformed (a pending mark of
// stop 29's builds is empty: it expects any epoch).
std::optional<uint64_t> decode_epoch(std::string_view value) {
  if (value.size() != 8)
    return std::nullopt;
  uint64_t epoch = 0;
  for (char c : value)
    epoch = (epoch << 8) | static_cast<unsigned char>(c);
  return epoch;
}

uint16_t decode_shard(std::string_view key) {
  return static_cast<uint16_t>((static_cast<unsigned char>(key[0]) << 8) | static_cast<unsigned char>(key[1]));
}

} // namespace

result<process_tables> open_process_tables(read_model_store& store, std::chrono::milliseconds wait) {
  process_tables out;
  out.expected->set_wait_bound(wait);
  for (auto [id, name] : {std::pair{&out.state, process_state_table_name},
                          std::pair{&out.state_shards, process_state_shards_table_name},
                          std::pair{&out.pending, process_shard_pending_table_name},
                          std::pair{&out.written, process_shard_written_table_name},
                          std::pair{&out.handed, process_shard_handed_table_name},
                          std::pair{&out.deferred, process_deferred_table_name}}) {
    auto t = store.table(name);
    if (!t)
      return std::move(t).error();
    *id = *t;
  }
  auto timers = open_timer_tables(store);
  if (!timers)
    return std::move(timers).error();
  out.timers = *timers;
  auto ok = store.read([&](const read_model_txn& t) {
    return t.scan(out.pending, "", [&](std::string_view key, std::string_view) {
      if (key.size() == 2)
        out.expected->set(decode_shard(key), true);
      return true;
    });
  });
  if (!ok)
    return std::move(ok).error();
  return out;
}

status write_state(read_model_txn& t, const process_tables& tables, const std::string& full_key,
                   uint16_t shard, const std::optional<std::string>& value) {
  if (auto ok = note_written(t, tables, shard, 's', full_key); !ok)
    return ok;
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

status write_shard_timer(read_model_txn& t, const process_tables& tables, const std::string& full_key,
                         uint16_t shard, timestamp_ns due, const stored_command* cmd) {
  if (auto ok = note_written(t, tables, shard, 't', full_key); !ok)
    return ok;
  return write_timer(t, tables.timers, full_key, shard, due, cmd);
}

result<process_shard_state> collect_process_shard(const read_model_txn& t, const process_tables& tables,
                                                  uint16_t shard) {
  process_shard_state out;
  auto states = keys_under(t, tables.state_shards, shard_prefix(shard));
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

result<bool> holds_process_shard(const read_model_txn& t, const process_tables& tables, uint16_t shard) {
  bool any = false;
  auto ok = t.scan(tables.state_shards, shard_prefix(shard), [&](std::string_view, std::string_view) {
    any = true;
    return false;
  });
  if (!ok)
    return std::move(ok).error();
  if (any)
    return true;
  auto timers = timer_keys(t, tables, shard);
  if (!timers)
    return std::move(timers).error();
  return !timers->empty();
}

result<std::vector<uint16_t>> held_process_shards(const read_model_txn& t, const process_tables& tables,
                                                  uint16_t shard_count) {
  std::vector<bool> held(shard_count, false);
  for (uint16_t s = 0; s < shard_count; ++s) {
    auto ok = t.scan(tables.state_shards, shard_prefix(s), [&](std::string_view, std::string_view) {
      held[s] = true;
      return false; // one row says enough
    });
    if (!ok)
      return std::move(ok).error();
  }
  // The index holds the pending timers only: one pass over it is short.
  auto ok = t.scan(tables.timers.index, "", [&](std::string_view, std::string_view value) {
    auto e = decode_timer_entry(value);
    if (e && e->shard && *e->shard < shard_count) // an entry without a shard is nobody's to hand over
      held[*e->shard] = true;
    return true;
  });
  if (!ok)
    return std::move(ok).error();
  std::vector<uint16_t> out;
  for (uint16_t s = 0; s < shard_count; ++s)
    if (held[s])
      out.push_back(s);
  return out;
}

status drop_process_shard(read_model_txn& t, const process_tables& tables, uint16_t shard) {
  auto states = keys_under(t, tables.state_shards, shard_prefix(shard));
  if (!states)
    return std::move(states).error();
  for (const auto& key : *states) {
    if (auto ok = t.erase(tables.state, key); !ok)
      return ok;
    if (auto ok = t.erase(tables.state_shards, shard_prefix(shard) + key); !ok)
      return ok;
  }
  auto timers = timer_keys(t, tables, shard);
  if (!timers)
    return std::move(timers).error();
  for (const auto& [key, due] : *timers)
    if (auto ok = write_timer(t, tables.timers, key, shard, due, nullptr); !ok)
      return ok;
  return {};
}

status record_hand_off(read_model_txn& t, const process_tables& tables, uint16_t shard, uint64_t epoch) {
  return t.put(tables.handed, shard_prefix(shard), encode_epoch(epoch));
}

result<std::map<uint16_t, uint64_t>> hand_offs_done(const read_model_txn& t, const process_tables& tables) {
  std::map<uint16_t, uint64_t> out;
  auto ok = t.scan(tables.handed, "", [&](std::string_view key, std::string_view value) {
    auto epoch = decode_epoch(value);
    if (key.size() == 2 && epoch)
      out[decode_shard(key)] = *epoch;
    return true;
  });
  if (!ok)
    return std::move(ok).error();
  return out;
}

std::string deferred_key(const std::string& name, uint16_t shard, global_position position) {
  std::string key = name;
  key.push_back('\0');
  key += shard_prefix(shard);
  for (int i = 7; i >= 0; --i)
    key.push_back(static_cast<char>((position >> (8 * i)) & 0xff));
  return key;
}

std::optional<deferred_record> decode_deferred_key(std::string_view key) {
  auto nul = key.find('\0');
  if (nul == std::string_view::npos || key.size() != nul + 11)
    return std::nullopt;
  deferred_record r;
  r.name = key.substr(0, nul);
  r.shard = decode_shard(key.substr(nul + 1));
  for (char c : key.substr(nul + 3))
    r.position = (r.position << 8) | static_cast<unsigned char>(c);
  return r;
}

result<std::map<uint16_t, std::vector<global_position>>> deferred_events(const read_model_txn& t,
                                                                         const process_tables& tables,
                                                                         const std::string& name) {
  std::map<uint16_t, std::vector<global_position>> out;
  auto ok = t.scan(tables.deferred, name + std::string(1, '\0'), [&](std::string_view key, std::string_view) {
    if (auto r = decode_deferred_key(key); r && r->name == name)
      out[r->shard].push_back(r->position);
    return true; // anything else is not a key deferred_key() wrote
  });
  if (!ok)
    return std::move(ok).error();
  return out;
}

status expect_process_shard(read_model_txn& t, const process_tables& tables, uint16_t shard, uint64_t epoch) {
  // What this node still holds of the shard from its own earlier ownership is a copy of
  // rows the next owner merged: a shard moves on only after its owner merged its
  // predecessor's rows (cluster/src/shard_move.cpp), so it cannot have come back before.
  if (auto ok = drop_process_shard(t, tables, shard); !ok)
    return ok;
  tables.expected->set(shard, true); // before the commit: a write beside it is noted too
  tables.expected->note_take(shard);  // and a hand-off's drop of what it sent is called off
  return t.put(tables.pending, shard_prefix(shard), encode_epoch(epoch));
}

result<uint64_t> merge_process_shard(read_model_txn& t, const process_tables& tables, uint16_t shard,
                                     uint64_t epoch, const process_shard_state& rows) {
  auto pending = t.get(tables.pending, shard_prefix(shard));
  if (!pending)
    return std::move(pending).error();
  if (!*pending)
    return uint64_t{0};
  auto expected = decode_epoch(**pending);
  if (expected && epoch < *expected)
    return uint64_t{0}; // an earlier hand-off's copy, merged by this shard's owner back then
  if (expected && epoch > *expected)
    return make_error(errc::unavailable, "shard " + std::to_string(shard) + " expects the process state handed "
                                           "over at epoch " + std::to_string(*expected) + ", not "
                                           + std::to_string(epoch));
  uint64_t taken = 0;
  for (const auto& r : rows.state) {
    auto noted = exists(t, tables.written, written_key(shard, 's', r.key));
    auto held = noted && !*noted ? exists(t, tables.state, r.key) : noted;
    if (!held)
      return std::move(held).error();
    if (*held)
      continue;
    if (auto ok = write_state(t, tables, r.key, shard, r.value); !ok)
      return std::move(ok).error();
    ++taken;
  }
  for (const auto& r : rows.timers) {
    auto noted = exists(t, tables.written, written_key(shard, 't', r.key));
    auto held = noted && !*noted ? exists(t, tables.timers.index, r.key) : noted;
    if (!held)
      return std::move(held).error();
    if (*held)
      continue;
    if (auto ok = write_timer(t, tables.timers, r.key, shard, r.due, &r.command); !ok)
      return std::move(ok).error();
    ++taken;
  }
  auto noted = keys_under(t, tables.written, shard_prefix(shard));
  if (!noted)
    return std::move(noted).error();
  for (const auto& k : *noted)
    if (auto ok = t.erase(tables.written, shard_prefix(shard) + k); !ok)
      return std::move(ok).error();
  if (auto ok = t.erase(tables.pending, shard_prefix(shard)); !ok)
    return std::move(ok).error();
  // Inside the transaction: read-model writers take turns, so a manager's commit after
  // this one sees the shard no longer pending (the caller restores it if the commit fails).
  tables.expected->set(shard, false);
  return taken;
}

} // namespace annal::detail
