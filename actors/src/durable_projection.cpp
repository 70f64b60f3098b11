#include "annal/durable_projection.hpp"

#include <cstring>

namespace annal {

namespace {

class durable_sink final : public projection_sink {
public:
  durable_sink(read_model_store& store, std::string name, std::vector<table_id> tables,
               table_id parked, durable_handler handler)
    : store_(store), name_(std::move(name)), tables_(std::move(tables)), parked_(parked),
      handler_(std::move(handler)) {}

  result<global_position> resume_position() override {
    return store_.load_checkpoint(name_);
  }

  status apply(const std::vector<event_view>& events, global_position through,
               global_position& failed_at) override {
    // A batch without matching events changes nothing worth a write (and an fsync): the
    // checkpoint lags, which only means re-reading those events after a restart.
    if (events.empty())
      return {};
    return store_.write([&](read_model_txn& t) -> status {
      for (const auto& e : events) {
        status ok;
        try {
          ok = handler_(t, e);
        } catch (const std::exception& ex) {
          ok = make_error(errc::rejected, std::string{"handler threw: "} + ex.what());
        } catch (...) {
          ok = make_error(errc::rejected, "handler threw a non-standard exception");
        }
        if (!ok) {
          failed_at = e.position;
          return ok;
        }
      }
      return t.save_checkpoint(name_, through);
    });
  }

  status reset() override {
    return store_.write([&](read_model_txn& t) -> status {
      for (auto table : tables_)
        if (auto ok = t.clear(table); !ok)
          return ok;
      return t.save_checkpoint(name_, 0);
    });
  }

  status park(global_position position, const error& why) override {
    std::string key = name_;
    key.push_back('\0');
    char be[8];
    for (int i = 7; i >= 0; --i, position >>= 8)
      be[i] = static_cast<char>(position & 0xff);
    key.append(be, 8);
    auto text = why.to_string();
    return store_.write([&](read_model_txn& t) { return t.put(parked_, key, text); });
  }

private:
  read_model_store& store_;
  std::string name_;
  std::vector<table_id> tables_;
  table_id parked_;
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
  auto parked = store.table(parked_table_name);
  if (!parked)
    return std::move(parked).error();
  return std::shared_ptr<projection_sink>{
    std::make_shared<durable_sink>(store, spec.options.name, std::move(tables), *parked, spec.apply)};
}

} // namespace annal
