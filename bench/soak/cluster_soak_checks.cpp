#include "soak/cluster_soak_checks.hpp"

#include <algorithm>

#include "annal/cluster/shard_map.hpp"

namespace annal::soak {

using nlohmann::json;

cluster_view read_view(shop_client& c, std::string& error) {
  auto r = c.get("/cluster/status");
  if (r.status != 200 || !r.json.contains("shards")) {
    error = "GET /cluster/status: " + std::to_string(r.status) + " " + r.text.substr(0, 200);
    return {};
  }
  cluster_view v;
  for (const auto& s : r.json["shards"]) {
    v.owners.push_back(s.value("owner", std::string{}));
    v.epochs.push_back(s.value("epoch", uint64_t{0}));
  }
  return v;
}

std::vector<std::string> map_differences(const std::map<std::string, cluster_view>& views) {
  std::vector<std::string> out;
  if (views.empty())
    return out;
  const auto& first = views.begin()->second;
  for (std::size_t s = 0; s < first.owners.size(); ++s) {
    bool same = true;
    for (const auto& [id, v] : views)
      same = same && v.owners.size() == first.owners.size() && v.owners[s] == first.owners[s]
             && v.epochs[s] == first.epochs[s];
    if (same)
      continue;
    std::string line = "shard " + std::to_string(s) + ":";
    for (const auto& [id, v] : views)
      line += " " + id + " "
              + (s < v.owners.size() ? v.owners[s] + "@" + std::to_string(v.epochs[s]) : std::string{"-"});
    out.push_back(std::move(line));
  }
  return out;
}

std::size_t find_lost_on_owners(std::map<std::string, shop_client>& clients, const cluster_view& view,
                                const std::vector<ack>& acks, std::vector<std::string>& messages,
                                std::string& error) {
  // The journals' shard function: any map of the cluster's shard count gives it.
  auto shards = cluster::shard_map::assign({"x"}, static_cast<uint16_t>(view.owners.size()));
  std::map<std::string, std::vector<const ack*>> by_stream;
  for (const auto& a : acks)
    by_stream[a.stream].push_back(&a);
  std::size_t lost = 0;
  auto report = [&](const std::string& m) {
    ++lost;
    if (messages.size() < 20)
      messages.push_back(m);
  };
  for (auto& [stream, list] : by_stream) {
    const auto& owner = view.owners.at(shards.shard_of(stream));
    auto c = clients.find(owner);
    if (c == clients.end()) {
      error = "no client of node '" + owner + "', owner of " + stream;
      return lost;
    }
    std::sort(list.begin(), list.end(), [](const ack* x, const ack* y) { return x->version < y->version; });
    // Pages of the owner's copy of the stream, from the oldest acked version on.
    std::map<uint64_t, std::string> types;
    uint64_t from = list.front()->version, last = list.back()->version;
    while (from <= last) {
      auto r = c->second.get("/streams/" + stream + "/events?from=" + std::to_string(from) + "&limit=1000");
      if (r.status == 404) {
        break; // none there: every ack below reports it
      }
      if (r.status != 200) {
        error = "GET /streams/" + stream + " on '" + owner + "': " + std::to_string(r.status);
        return lost;
      }
      const auto& events = r.json["events"];
      for (const auto& e : events)
        types[e.value("version", uint64_t{0})] = e.value("type", std::string{});
      if (events.empty())
        break;
      from = events.back().value("version", last) + 1;
    }
    for (const auto* a : list) {
      auto t = types.find(a->version);
      if (t == types.end())
        report(a->stream + " version " + std::to_string(a->version) + " (" + a->type + ") is not on its owner '"
               + owner + "'");
      else if (!a->matches(t->second))
        report(a->stream + " version " + std::to_string(a->version) + " on '" + owner + "' is " + t->second
               + ", the reply said " + a->type);
    }
  }
  return lost;
}

std::vector<std::string> read_model_differences(std::map<std::string, shop_client>& clients,
                                                const std::vector<std::string>& skus) {
  std::vector<std::string> targets{"/reports/sales"};
  for (const auto& sku : skus) {
    targets.push_back("/inventory/" + sku);
    targets.push_back("/products/" + sku);
  }
  std::vector<std::string> out;
  for (const auto& t : targets) {
    std::string first_id, first;
    for (auto& [id, c] : clients) {
      auto r = c.get(t);
      auto text = std::to_string(r.status) + " " + (r.status == 200 ? r.json.dump() : r.text);
      if (first_id.empty()) {
        first_id = id;
        first = text;
      } else if (text != first) {
        out.push_back(t + ": '" + first_id + "' says " + first.substr(0, 300) + ", '" + id + "' says "
                      + text.substr(0, 300));
        break;
      }
    }
  }
  return out;
}

order_census census_orders(shop_client& c, const std::vector<std::string>& ids) {
  order_census out;
  for (const auto& id : ids) {
    auto r = c.get("/orders/" + id);
    auto status = r.status == 200 ? r.json.value("status", "?") : r.status == 404 ? "missing" : "error";
    ++out.by_status[status];
    if ((status == "placed" || status == "confirmed") && out.undecided.size() < 10)
      out.undecided.push_back(id + " is " + status);
  }
  return out;
}

} // namespace annal::soak
