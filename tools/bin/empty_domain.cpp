// A build without the sample shop knows no domain: every event type is shown generically,
// snapshots get structural checks only, and there is nothing to rebuild.
#include "shipped_domain.hpp"

namespace annal::cli {

domain shipped_domain() {
  return {};
}

} // namespace annal::cli
