#include "annal/durable_projection.hpp"

#include <cstring>

#include "annal/call_user_code.hpp"

namespace annal {

status clear_parked(read_model_txn& t, table_id parked, std::string_view projection) {
  std::string prefix{projection};
  prefix.push_back('\0');
  std::vector<std::string> keys;
  auto ok = t.scan(parked, prefix, [&](std::string_view key, std::string_view) {
    keys.emplace_back(key);
    return true;
  });
  if (!ok)
    return ok;
  for (const auto& k : keys)
    if (auto e = t.erase(parked, k); !e)
      return e;
  return {};
}

namespace {

class durable_sink final : public projection_sink {
public:
  durable_sink(read_model_store& store, std::string name, std::vector<table_id> tables,
               durable_handler handler)
    : store_(store), name_(std::move(name)), tables_(std::move(tables)),
      handler_(std::move(handler)) {}

  result<std::optional<global_position>> stored_position() override {
    return store_.find_checkpoint(name_);
  }

  status store_position(global_position position) override {
    return store_.save_checkpoint(name_, position);
  }

  status apply(const std::vector<event_view>& events, global_position through,
               global_position& failed_at) override {
    // A batch without matching events changes nothing worth a write (and an fsync): the
    // checkpoint lags, which only means re-reading those events after a restart.
    if (events.empty())
      return {};
    return store_.write([&](read_model_txn& t) -> status {
      for (const auto& e : events) {
        auto ok = call_user_code("handler", [&] { return handler_(t, e); });
        if (!ok) {
          failed_at = e.position;
          return ok;
        }
      }
      return t.save_checkpoint(name_, through);
    });
  }

  status reset() override {
    // A rebuild starts over: the read model, the checkpoint and the parked events go (a
    // handler fixed since may now apply them).
    auto parked = store_.table(parked_table_name);
    if (!parked)
      return std::move(parked).error();
    return store_.write([&](read_model_txn& t) -> status {
      for (auto table : tables_)
        if (auto ok = t.clear(table); !ok)
          return ok;
      if (auto ok = clear_parked(t, *parked, name_); !ok)
        return ok;
      return t.save_checkpoint(name_, 0);
    });
  }

  status park(global_position position, const error& why) override {
    return park_event(store_, name_, position, why);
  }

  result<std::vector<global_position>> parked_positions() override {
    return annal::parked_positions(store_, name_);
  }

private:
  read_model_store& store_;
  std::string name_;
  std::vector<table_id> tables_;
  durable_handler handler_;
};

} // namespace

result<std::shared_ptr<projection_sink>> make_durable_sink(read_model_store& store,
                                                           const durable_projection& spec) {
  std::vector<table_id> tables;
  for (const auto& name : spec.tables) {
    auto t = store.table(name);
    if (!t)
      return std::move(t).error();
    tables.push_back(*t);
  }
  return std::shared_ptr<projection_sink>{
    std::make_shared<durable_sink>(store, spec.options.name, std::move(tables), spec.apply)};
}

std::string parked_key(std::string_view projection, global_position position) {
  std::string key{projection};
  key.push_back('\0');
  char be[8];
  for (int i = 7; i >= 0; --i, position >>= 8)
    be[i] = static_cast<char>(position & 0xff);
  key.append(be, 8);
  return key;
}

status park_event(read_model_store& store, std::string_view projection, global_position position,
                  const error& why) {
  auto parked = store.table(parked_table_name);
  if (!parked)
    return std::move(parked).error();
  auto key = parked_key(projection, position);
  auto text = why.to_string();
  return store.write([&](read_model_txn& t) { return t.put(*parked, key, text); });
}

result<std::vector<global_position>> parked_positions(read_model_store& store,
                                                      std::string_view projection) {
  std::vector<global_position> out;
  auto parked = store.table(parked_table_name);
  if (!parked) {
    if (parked.error().code == errc::not_found) // read-only and never created: none
      return out;
    return std::move(parked).error();
  }
  std::string prefix{projection};
  prefix.push_back('\0');
  auto ok = store.read([&](const read_model_txn& t) {
    return t.scan(*parked, prefix, [&](std::string_view key, std::string_view) {
      if (key.size() == prefix.size() + 8) {
        global_position p = 0;
        for (std::size_t i = prefix.size(); i < key.size(); ++i)
          p = (p << 8) | static_cast<unsigned char>(key[i]);
        out.push_back(p);
      }
      return true;
    });
  });
  if (!ok)
    return std::move(ok).error();
  return out;
}

} // namespace annal
