// The checks of the cluster soak (cluster_soak_main.cpp), against live shop nodes:
//  - lost: every acknowledged command's event is in the journal of the node that owns its
//    stream's shard now (moves keep versions), at the version its reply said, of its type;
//  - maps: every node's shard map is the same, one owner per shard;
//  - converged: every node's read models answer the same for every sku and the sales report;
//  - decided: once the payment timeout passed after the workload stopped, no acknowledged
//    order is still placed (fulfilment never decided it) or confirmed (its payment timer,
//    which moves with the order's shard, never fired).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "soak/node_client.hpp"
#include "soak/soak_ledger.hpp"

namespace annal::soak {

/// A node's view of the shard map: owner id per shard, in shard order, and each member's port.
struct cluster_view {
  std::vector<std::string> owners;
  std::vector<uint64_t> epochs;
};

/// Reads node `c`'s /cluster/status; `error` says why when it cannot (empty view then).
cluster_view read_view(shop_client& c, std::string& error);

/// The shards on which `views` (by member id) disagree, each as "shard S: a b@7, c d@8"
/// (owner@epoch per member); empty when every view is the same.
std::vector<std::string> map_differences(const std::map<std::string, cluster_view>& views);

/// How many acks are missing on their owner; `messages` says which (the first 20).
/// `clients` by member id; `error` is set when an owner did not answer.
std::size_t find_lost_on_owners(std::map<std::string, shop_client>& clients, const cluster_view& view,
                                const std::vector<ack>& acks, std::vector<std::string>& messages,
                                std::string& error);

/// The read models' answers that differ between nodes (empty: converged), for `skus`'
/// inventory and product rows and the sales report.
std::vector<std::string> read_model_differences(std::map<std::string, shop_client>& clients,
                                                const std::vector<std::string>& skus);

/// How the orders `ids` stand on node `c` (count by status; "error" for no answer) and
/// the first 10 of them still placed or confirmed, with their status.
struct order_census {
  std::map<std::string, std::size_t> by_status;
  std::vector<std::string> undecided;
};
order_census census_orders(shop_client& c, const std::vector<std::string>& ids);

} // namespace annal::soak
