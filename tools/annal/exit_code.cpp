#include "exit_code.hpp"

namespace annal::cli {

failure store_failure(const error& e) {
  switch (e.code) {
    case errc::not_found:
    case errc::corrupt:
      return failure{exit_code::no_store, e.message};
    case errc::unavailable: // the folder lock of a running runtime
      return failure{exit_code::locked, e.message};
    default:
      return failure{exit_code::failed, e.message};
  }
}

} // namespace annal::cli
