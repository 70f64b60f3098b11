// The current state of each product, as the product aggregates decided it: what orders
// are priced with and what restocks check, without waiting for the catalog read model.
//
// The journal is the authority: every lookup compares the cached version with the
// product stream's head (one point read) and reloads the product when they differ, so an
// order placed after a price change was acknowledged always sees the new price, whichever
// path acknowledged it. Successful product commands feed the cache so that reloads stay
// rare.
//
// Thread safety: every member is safe to call from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "annal/result.hpp"
#include "shop/domain/product.hpp"

namespace annal {
class runtime;
}

namespace shop::node {

class price_book {
public:
  /// `rt` is started and outlives the book.
  explicit price_book(annal::runtime& rt);

  /// The product `sku` as of its newest durable event; none when it does not exist (or
  /// was deleted). Runs on the calling thread (a point read; a load when stale). Errors:
  /// those of the store.
  annal::result<std::optional<product_state>> current(const std::string& sku);

  /// Records a product just created at version 1 (after the command succeeded).
  void created(const std::string& sku, product_state state);
  /// Records that product `sku` costs `price_cents` at `version` (after a successful
  /// change_price that was not a replay).
  void priced(const std::string& sku, uint64_t version, int64_t price_cents);

private:
  struct entry {
    uint64_t version = 0;
    product_state state;
  };
  void store(const std::string& sku, uint64_t version, const product_state& state);

  annal::runtime& rt_;
  std::mutex mx_;
  std::unordered_map<std::string, entry> entries_;
};

} // namespace shop::node
