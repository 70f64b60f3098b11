// Carrying annal::error across actors as caf::error (category "annal"), and back.
#pragma once

#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "annal/error.hpp"

namespace annal {

/// The caf::error category of Annal's errors.
caf::atom_value error_category() noexcept;

/// Wraps `e` as a caf::error of category "annal" (code = errc, context = message).
caf::error to_caf_error(const error& e);

/// Unwraps an error of category "annal"; maps CAF's own errors (request timeout →
/// timeout, receiver down → unavailable, others → io_error) with CAF's rendering.
error from_caf_error(const caf::error& e);

/// Registers the renderer of Annal's errors in `cfg` (for actor_system::render).
void register_error_category(caf::actor_system_config& cfg);

} // namespace annal
