#include "peer_registry.hpp"

#include <algorithm>

namespace annal::cluster::detail {

bool peer_registry::add(member m) {
  return add(std::move(m), caf::actor{});
}

bool peer_registry::add(member m, caf::actor link) {
  std::lock_guard<std::mutex> guard{mx_};
  auto same = [&](const member& x) { return x.id == m.id; };
  if (closed_ || std::any_of(members_.begin(), members_.end(), same))
    return false;
  if (link)
    links_.emplace(m.id, std::move(link));
  members_.push_back(std::move(m));
  return true;
}

std::vector<member> peer_registry::members() const {
  std::lock_guard<std::mutex> guard{mx_};
  return members_;
}

bool peer_registry::known(const std::string& id) const {
  std::lock_guard<std::mutex> guard{mx_};
  return std::any_of(members_.begin(), members_.end(), [&](const member& x) { return x.id == id; });
}

caf::actor peer_registry::link(const std::string& id) const {
  std::lock_guard<std::mutex> guard{mx_};
  auto i = links_.find(id);
  return i == links_.end() ? caf::actor{} : i->second;
}

std::vector<caf::actor> peer_registry::links() const {
  std::lock_guard<std::mutex> guard{mx_};
  std::vector<caf::actor> out;
  for (const auto& [id, l] : links_)
    out.push_back(l);
  return out;
}

std::vector<caf::actor> peer_registry::close() {
  std::lock_guard<std::mutex> guard{mx_};
  closed_ = true;
  std::vector<caf::actor> out;
  for (auto& [id, l] : links_)
    out.push_back(std::move(l));
  links_.clear();
  return out;
}

} // namespace annal::cluster::detail
