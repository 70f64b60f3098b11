#include "domain_catalog.hpp"

#include <algorithm>

namespace annal::cli {

void domain_catalog::add_projections(std::vector<std::string> names, projection_installer install) {
  projections_ = std::move(names);
  install_ = std::move(install);
}

const snapshot_replayer* domain_catalog::replayer(std::string_view snapshot_type) const {
  auto i = replayers_.find(snapshot_type);
  return i == replayers_.end() ? nullptr : &i->second;
}

bool domain_catalog::knows_projection(std::string_view name) const {
  return std::find(projections_.begin(), projections_.end(), name) != projections_.end();
}

} // namespace annal::cli
