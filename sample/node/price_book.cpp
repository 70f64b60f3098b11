#include "shop/node/price_book.hpp"

#include "annal/cluster/remote_load.hpp"
#include "annal/runtime.hpp"

namespace shop::node {

namespace {

using lookup = annal::result<std::optional<product_state>>;

// A product that was never created or was deleted is "none", not an error.
bool means_absent(const annal::error& e) {
  return e.code == annal::errc::not_found || e.code == annal::errc::stream_deleted;
}

} // namespace

price_book::price_book(annal::runtime& rt, const annal::cluster::cluster_node* cluster)
  : rt_(rt), cluster_(cluster) {}

void price_book::current(const std::string& sku, lookup_done done) {
  if (cluster_ != nullptr && cluster_->is_remote(annal::aggregate_traits<product>::stream_id(sku)))
    return current_remote(sku, std::move(done));
  done(current_local(sku));
}

lookup price_book::current_local(const std::string& sku) {
  auto head = rt_.store().stream_head(annal::aggregate_traits<product>::stream_id(sku));
  if (!head)
    return std::move(head).error();
  if (head->head == 0 || head->deleted)
    return std::optional<product_state>{};
  std::optional<annal::aggregate_view<product_state>> held;
  {
    std::lock_guard<std::mutex> guard{mx_};
    auto i = entries_.find(sku);
    if (i != entries_.end() && i->second.version == head->head)
      return std::optional<product_state>{i->second.state};
    if (i != entries_.end() && i->second.version < head->head)
      held = annal::aggregate_view<product_state>{i->second.state, i->second.version, 0};
  }
  // Stale (changed by a command whose answer this node has not seen yet) or unknown here
  // (not looked up since the start): the journal says what it is now. A stale entry
  // needs only the events after it; a product's history is mostly price changes, and a
  // load would replay up to a snapshot interval of them.
  auto loaded = held ? rt_.catch_up<product>(sku, std::move(*held)) : rt_.load<product>(sku);
  if (!loaded && held && loaded.error().code == annal::errc::corrupt)
    loaded = rt_.load<product>(sku); // the events after the entry are gone: start afresh
  if (!loaded) {
    if (means_absent(loaded.error()))
      return std::optional<product_state>{};
    return std::move(loaded).error();
  }
  if (!loaded->state.exists)
    return std::optional<product_state>{};
  store(sku, loaded->version, loaded->state);
  return std::optional<product_state>{std::move(loaded->state)};
}

void price_book::current_remote(const std::string& sku, lookup_done done) {
  // The owner sends only the events after what this node holds (usually none).
  annal::aggregate_view<product_state> base{annal::aggregate_traits<product>::initial_state(), 0, 0};
  {
    std::lock_guard<std::mutex> guard{mx_};
    auto i = entries_.find(sku);
    if (i != entries_.end()) {
      base.state = i->second.state;
      base.version = i->second.version;
    }
  }
  annal::cluster::load_remote<product>(
    *cluster_, rt_.registry(), sku, std::move(base),
    [this, sku, done = std::move(done)](annal::result<annal::aggregate_view<product_state>> r) {
      if (!r)
        return done(means_absent(r.error()) ? lookup{std::optional<product_state>{}}
                                            : lookup{std::move(r).error()});
      if (!r->state.exists)
        return done(std::optional<product_state>{});
      store(sku, r->version, r->state);
      done(std::optional<product_state>{std::move(r->state)});
    });
}

void price_book::created(const std::string& sku, product_state state) {
  store(sku, 1, state);
}

void price_book::priced(const std::string& sku, uint64_t version, int64_t price_cents) {
  std::lock_guard<std::mutex> guard{mx_};
  auto i = entries_.find(sku);
  // Without an entry the name is unknown here: the next lookup loads the product.
  if (i == entries_.end() || i->second.version > version)
    return;
  i->second.version = version;
  i->second.state.price_cents = price_cents;
}

void price_book::store(const std::string& sku, uint64_t version, const product_state& state) {
  std::lock_guard<std::mutex> guard{mx_};
  auto& e = entries_[sku];
  if (e.version > version)
    return; // a newer state arrived meanwhile
  e.version = version;
  e.state = state;
}

} // namespace shop::node
