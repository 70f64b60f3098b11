#include "shop/node/price_book.hpp"

#include "annal/runtime.hpp"

namespace shop::node {

price_book::price_book(annal::runtime& rt) : rt_(rt) {}

annal::result<std::optional<product_state>> price_book::current(const std::string& sku) {
  auto head = rt_.store().stream_head(annal::aggregate_traits<product>::stream_id(sku));
  if (!head)
    return std::move(head).error();
  if (head->head == 0 || head->deleted)
    return std::optional<product_state>{};
  {
    std::lock_guard<std::mutex> guard{mx_};
    auto i = entries_.find(sku);
    if (i != entries_.end() && i->second.version == head->head)
      return std::optional<product_state>{i->second.state};
  }
  // Stale or unknown here (changed by a command whose answer this node did not see, or
  // not looked up since the start): the journal says what it is now.
  auto loaded = rt_.load<product>(sku);
  if (!loaded) {
    if (loaded.error().code == annal::errc::not_found || loaded.error().code == annal::errc::stream_deleted)
      return std::optional<product_state>{};
    return std::move(loaded).error();
  }
  if (!loaded->state.exists)
    return std::optional<product_state>{};
  store(sku, loaded->version, loaded->state);
  return std::optional<product_state>{std::move(loaded->state)};
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
