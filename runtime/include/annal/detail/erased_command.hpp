// Internal: a command of some aggregate type, erased to what the runtime's non-template
// core needs to route it (runtime.cpp): the typed send<A>() builds one and hands it over,
// so a user's translation unit compiles no routing code and no CAF.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <variant>

#include <cereal/details/traits.hpp>

#include "annal/binary_archive.hpp"
#include "annal/command_options.hpp"
#include "annal/serialization.hpp"

namespace annal::detail {

template <class T>
struct is_serializable
  : std::integral_constant<bool, cereal::traits::is_output_serializable<T, binary_output_archive>::value
                                   && cereal::traits::is_input_serializable<T, binary_input_archive>::value> {};

// cereal's variant support accepts any std::variant: look at the alternatives instead.
template <class... Ts>
struct is_serializable<std::variant<Ts...>>
  : std::integral_constant<bool, (is_serializable<Ts>::value && ...)> {};

/// Serializes the command at `cmd` (a C); for commands that go to another node.
using command_encoder = result<std::string> (*)(const void* cmd);

/// The encoder of C, or nullptr when C is not cereal-serializable.
template <class C>
command_encoder encoder_of() {
  if constexpr (is_serializable<C>::value)
    return [](const void* cmd) { return to_bytes(*static_cast<const C*>(cmd)); };
  else
    return nullptr;
}

/// A typed command on its way into the runtime. `command` points to the caller's
/// A::command; the runtime may move from it, during the call only.
struct outgoing_command {
  std::type_index type;
  std::string_view category;
  std::string (*stream_of)(std::string_view id);
  std::string aggregate_id;
  void* command;
  command_encoder encode;
  command_options options;
};

/// Sends the command at `cmd` (an A::command, moved from) to the local router of A;
/// installed per aggregate type by register_aggregate<A>().
using local_sender = std::function<void(std::string aggregate_id, void* cmd, command_options,
                                        std::function<void(command_result)> done)>;

/// Sends a serialized command (aggregate id, cereal bytes, options) to its aggregate;
/// registered per aggregate type. `local_only`: run it here even if a forwarder would
/// send it elsewhere (a command that a peer forwarded to this node).
using command_dispatcher = std::function<void(const std::string& aggregate_id, const std::string& bytes,
                                              command_options, bool local_only,
                                              std::function<void(command_result)>)>;

} // namespace annal::detail
