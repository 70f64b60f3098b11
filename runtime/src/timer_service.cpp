#include "timer_service.hpp"

#include <caf/all.hpp>

#include <optional>
#include <set>

#include "annal/detail/atoms.hpp"
#include "annal/detail/service_spawn.hpp"
#include "annal/fault_points.hpp"
#include "annal/log.hpp"
#include "annal/runtime.hpp"

namespace annal::detail {

namespace {

using timer_done_atom = caf::atom_constant<caf::atom("timer_done")>;

uint64_t read_be(std::string_view bytes) {
  uint64_t x = 0;
  for (char c : bytes)
    x = (x << 8) | static_cast<unsigned char>(c);
  return x;
}

struct timer_state {
  runtime* rt = nullptr;
  timer_tables tables;
  shard_predicate owns;
  std::set<std::string> in_flight; // due keys being dispatched
  // On CAF's test coordinator: the virtual time at the start. Timers then fire by the wall
  // clock plus the virtual time a test advanced since, so a test moves them by
  // advance_time() (real time passes too, but a test's milliseconds stay below its timers).
  std::optional<caf::actor_clock::time_point> virtual_start;
  static inline const char* name = "annal.timers";
};

using timer_actor = caf::stateful_actor<timer_state>;

// A timer is done once its command ran or the domain answered it for good; after a
// transient failure (stopping, timeout, overload, full disk, I/O) it stays and fires again
// on a later tick, with the same command id.
bool timer_completed(const command_result& r) {
  return r || !is_transient(r.error().code);
}

// The shard of the timer `full_key` (none for one written before timers had shards).
std::optional<uint16_t> timer_shard(const timer_state& st, const read_model_txn& t, std::string_view full_key) {
  auto idx = t.get(st.tables.index, full_key);
  if (!idx || !*idx)
    return std::nullopt;
  auto entry = decode_timer_entry(**idx);
  return entry ? entry->shard : std::nullopt;
}

// A due timer read from the table, with its shard.
struct due_timer {
  std::string key;
  stored_command cmd;
  std::optional<uint16_t> shard;
};

// Dispatches every due timer not already on its way.
void fire_due(timer_actor* self) {
  auto& st = self->state;
  auto now = now_ns();
  if (st.virtual_start)
    now += std::chrono::duration_cast<std::chrono::nanoseconds>(self->clock().now() - *st.virtual_start).count();
  std::vector<due_timer> found;
  auto ok = st.rt->read_models().read([&](const read_model_txn& t) {
    return t.scan(st.tables.timers, "", [&](std::string_view key, std::string_view value) {
      if (key.size() < 8)
        return true;
      if (static_cast<timestamp_ns>(read_be(key.substr(0, 8))) > now)
        return false;
      std::string k{key};
      if (st.in_flight.count(k) > 0)
        return true;
      auto shard = timer_shard(st, t, key.substr(8));
      auto cmd = from_bytes<stored_command>(value);
      if (!cmd) {
        log(log_level::error, "dropping an undecodable timer: " + cmd.error().to_string());
        found.push_back({std::move(k), stored_command{}, shard});
        return true;
      }
      found.push_back({std::move(k), std::move(*cmd), shard});
      return true;
    });
  });
  if (!ok)
    log(log_level::warning, "cannot scan timers: " + ok.error().to_string());
  // Outside the transaction: ownership asks the journal, which may wait for its writer.
  // A timer of a shard this node gave away (or not yet took) is the other node's to fire.
  std::vector<std::pair<std::string, stored_command>> due;
  for (auto& f : found)
    if (!f.shard || !st.owns || st.owns(*f.shard))
      due.emplace_back(std::move(f.key), std::move(f.cmd));
  for (auto& [key, cmd] : due) {
    st.in_flight.insert(key);
    if (cmd.category.empty()) {
      self->send(self, timer_done_atom::value, key, true);
      continue;
    }
    caf::actor me = caf::actor_cast<caf::actor>(self);
    st.rt->dispatch(cmd, [me, key = key](command_result r) {
      caf::anon_send(me, timer_done_atom::value, key, timer_completed(r));
    });
  }
}

void remove_timer(timer_actor* self, const std::string& key) {
  auto& st = self->state;
  auto ok = st.rt->read_models().write([&](read_model_txn& t) -> status {
    if (auto e = t.erase(st.tables.timers, key); !e)
      return e;
    auto full_key = key.substr(8);
    auto idx = t.get(st.tables.index, full_key);
    if (!idx)
      return std::move(idx).error();
    // Unless a newer schedule of the same key replaced it meanwhile.
    if (*idx && (*idx)->substr(0, 8) == std::string_view{key}.substr(0, 8))
      return t.erase(st.tables.index, full_key);
    return {};
  });
  if (!ok)
    log(log_level::warning, "cannot remove a fired timer: " + ok.error().to_string());
}

caf::behavior timer_service(timer_actor* self, runtime* rt, timer_tables tables, shard_predicate owns) {
  self->state.rt = rt;
  self->state.tables = tables;
  self->state.owns = std::move(owns);
  if (runs_deterministically(self->system()))
    self->state.virtual_start = self->clock().now();
  self->send(self, tick_atom::value);
  return {
    [=](tick_atom) {
      fire_due(self);
      self->delayed_send(self, std::chrono::milliseconds(100), tick_atom::value);
    },
    [=](timer_atom) { fire_due(self); },
    [=](timer_done_atom, const std::string& key, bool done) {
      testing::reach(testing::fault_point::timer_answered, "annal.timers");
      if (done)
        remove_timer(self, key);
      self->state.in_flight.erase(key);
    },
  };
}

} // namespace

result<timer_tables> open_timer_tables(read_model_store& store) {
  auto timers = store.table(timers_table_name);
  if (!timers)
    return std::move(timers).error();
  auto index = store.table(timer_index_table_name);
  if (!index)
    return std::move(index).error();
  return timer_tables{*timers, *index};
}

std::string timer_row_key(timestamp_ns due, const std::string& full_key) {
  std::string key(8, '\0');
  auto x = static_cast<uint64_t>(due);
  for (int i = 7; i >= 0; --i, x >>= 8)
    key[static_cast<std::size_t>(i)] = static_cast<char>(x & 0xff);
  return key + full_key;
}

std::optional<timer_entry> decode_timer_entry(std::string_view value) {
  if (value.size() != 8 && value.size() != 10)
    return std::nullopt;
  timer_entry e;
  e.due = static_cast<timestamp_ns>(read_be(value.substr(0, 8)));
  if (value.size() == 10)
    e.shard = static_cast<uint16_t>(read_be(value.substr(8)));
  return e;
}

status write_timer(read_model_txn& t, const timer_tables& tables, const std::string& full_key,
                   uint16_t shard, timestamp_ns due, const stored_command* cmd) {
  auto old = t.get(tables.index, full_key);
  if (!old)
    return std::move(old).error();
  if (*old) {
    std::string old_key{(*old)->substr(0, 8)};
    old_key += full_key;
    if (auto ok = t.erase(tables.timers, old_key); !ok)
      return ok;
    if (auto ok = t.erase(tables.index, full_key); !ok)
      return ok;
  }
  if (cmd == nullptr)
    return {};
  auto bytes = to_bytes(*cmd);
  if (!bytes)
    return std::move(bytes).error();
  auto key = timer_row_key(due, full_key);
  if (auto ok = t.put(tables.timers, key, *bytes); !ok)
    return ok;
  auto entry = key.substr(0, 8);
  entry += static_cast<char>(shard >> 8);
  entry += static_cast<char>(shard & 0xff);
  return t.put(tables.index, full_key, entry);
}

caf::actor spawn_timer_service(caf::actor_system& sys, runtime& rt, timer_tables tables, shard_predicate owns) {
  return spawn_service(sys, timer_service, &rt, tables, std::move(owns));
}

} // namespace annal::detail
