// Internal: CAF inspect() overloads for Annal's value types that travel in messages as
// replies, so that they are proper (serializable) CAF message types.
#pragma once

#include <caf/meta/type_name.hpp>

#include "annal/command_options.hpp"

namespace annal {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command_reply& x) {
  return f(caf::meta::type_name("annal.command_reply"), x.version, x.position, x.duplicate,
           x.shard, x.shard_position);
}

} // namespace annal
