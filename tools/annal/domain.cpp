#include "annal/cli/domain.hpp"

#include <algorithm>

namespace annal::cli {

void domain::add_read_models(std::vector<std::string> names, read_model_installer install) {
  projections_ = std::move(names);
  install_ = std::move(install);
}

const snapshot_replayer* domain::replayer(std::string_view snapshot_type) const {
  auto i = replayers_.find(snapshot_type);
  return i == replayers_.end() ? nullptr : &i->second;
}

bool domain::knows_projection(std::string_view name) const {
  return std::find(projections_.begin(), projections_.end(), name) != projections_.end();
}

} // namespace annal::cli
