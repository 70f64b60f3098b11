// The current state of each product, as the product aggregates decided it: what orders
// are priced with and what restocks check, without waiting for the catalog read model.
//
// The journal of the product's owner is the authority. On this node's own shards every
// lookup compares the cached version with the product stream's head (one point read) and
// reloads the product when they differ; in a cluster, for a product another node owns, it
// asks that owner for the events after the cached version (one round trip, bounded by the
// cluster's forward timeout). Either way an order placed after a price change was
// acknowledged sees the new price, whichever node acknowledged it. Successful product
// commands feed the cache so that reloads stay rare.
//
// Thread safety: every member is safe to call from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "annal/result.hpp"
#include "shop/domain/product.hpp"

namespace annal {
class runtime;
}
namespace annal::cluster {
class cluster_node;
}

namespace shop::node {

class price_book {
public:
  /// The product as it stands now (none: it does not exist or was deleted), or an error.
  using lookup_done = std::function<void(annal::result<std::optional<product_state>>)>;

  /// `rt` is started and outlives the book; `cluster` (none outside a cluster) is the
  /// node's membership, and it leaves before the book goes (no lookup answers later).
  explicit price_book(annal::runtime& rt, const annal::cluster::cluster_node* cluster = nullptr);

  /// Calls `done` once with the product `sku` as of its newest durable event. A product
  /// of this node's journal is read on the calling thread (a point read; a load when
  /// stale) and `done` runs before this returns; one that another node owns is asked of
  /// that owner and `done` runs later on an actor thread. Errors: those of the store;
  /// unavailable (the owner is unreachable or does not answer within the bound).
  void current(const std::string& sku, lookup_done done);

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
  annal::result<std::optional<product_state>> current_local(const std::string& sku);
  void current_remote(const std::string& sku, lookup_done done);
  void store(const std::string& sku, uint64_t version, const product_state& state);

  annal::runtime& rt_;
  const annal::cluster::cluster_node* cluster_;
  std::mutex mx_;
  std::unordered_map<std::string, entry> entries_;
};

} // namespace shop::node
