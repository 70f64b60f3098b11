// The event-type registry: stable names, schema versions, upcasters and JSON rendering
// for every type whose payloads the store holds.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <typeindex>

#include "annal/event_traits.hpp"
#include "annal/recorded_event.hpp"
#include "annal/result.hpp"
#include "annal/serialization.hpp"

namespace annal {

/// Turns the bytes of schema version n of a type into the bytes of version n + 1.
using upcaster = std::function<result<std::string>(std::string_view)>;

/// Registered types by name. Register everything before sharing the registry; after that
/// it is read-only and safe to use from many threads at once.
class event_registry {
public:
  /// Registers T under event_traits<T>::name at its current schema version. Registering a
  /// name twice replaces the earlier entry.
  template <class T>
  void add() {
    add<T>(std::string{event_traits<T>::name}, event_traits<T>::schema_version);
  }

  /// Registers T under `name` at `schema_version`; decode<T> then expects that name and
  /// upcasts to that version (T needs no event_traits).
  template <class T>
  void add(std::string name, uint32_t schema_version) {
    names_[std::type_index{typeid(T)}] = name;
    entry& e = entries_[name];
    e.current_version = schema_version;
    e.render_json = [](std::string_view bytes) -> result<std::string> {
      auto value = from_bytes<T>(bytes);
      if (!value)
        return std::move(value).error();
      return annal::to_json(*value);
    };
  }

  /// Registers a byte-level upcaster from `from_version` to `from_version + 1` of `name`.
  void add_upcaster(const std::string& name, uint32_t from_version, upcaster fn);

  /// Registers a typed upcaster: decodes `Old` (version `from_version`), converts it with
  /// `fn(Old) -> New` and encodes the `New` (version `from_version + 1`).
  template <class Old, class New, class F>
  void add_upcaster(const std::string& name, uint32_t from_version, F fn) {
    add_upcaster(name, from_version,
                 [fn = std::move(fn)](std::string_view bytes) -> result<std::string> {
                   auto old = from_bytes<Old>(bytes);
                   if (!old)
                     return std::move(old).error();
                   return to_bytes<New>(fn(std::move(*old)));
                 });
  }

  /// True when `name` is registered.
  bool contains(std::string_view name) const;

  /// Current schema version of `name`. Errors: unknown_event_type.
  result<uint32_t> current_version(std::string_view name) const;

  /// Brings `payload` of (`name`, `version`) to the current version through the chain of
  /// upcasters. Errors: unknown_event_type (type, or a missing link of the chain, or a
  /// version newer than registered), corrupt (an upcaster could not decode).
  result<std::string> upcast(std::string_view name, uint32_t version, std::string payload) const;

  /// Decodes the payload of `e` as a T (upcasting first). T's name and version are those
  /// it was registered with (add<T>(name, version)), else its event_traits. Errors: corrupt
  /// (damaged event or undecodable payload), unknown_event_type (e.type is not T's name,
  /// or T is neither registered nor has event_traits).
  template <class T>
  result<T> decode(const recorded_event& e) const {
    return decode<T>(e.type, e.schema_version, e.payload, e.corrupt);
  }

  /// As decode(recorded_event), from a view (copy nothing but the decoded value).
  template <class T>
  result<T> decode(const event_view& e) const {
    return decode<T>(e.type, e.schema_version, e.payload, e.corrupt);
  }

  /// As decode(recorded_event), from the parts of an event.
  template <class T>
  result<T> decode(std::string_view type, uint32_t version, std::string_view payload,
                   bool corrupt = false) const {
    if (corrupt)
      return make_error(errc::corrupt, "event of type '" + std::string{type}
                                         + "' failed its checksum");
    auto named = name_of<T>();
    if (!named)
      return make_error(errc::unknown_event_type, "the type to decode '" + std::string{type}
                                                    + "' into is not registered");
    std::string_view name = *named;
    uint32_t current = 0;
    if (auto e = find(name))
      current = e->current_version;
    else if constexpr (detail::has_event_type<T>::value)
      current = event_traits<T>::schema_version;
    if (type != name)
      return make_error(errc::unknown_event_type,
                        "expected '" + std::string{name} + "', got '" + std::string{type} + "'");
    if (version == current)
      return from_bytes<T>(payload);
    auto bytes = upcast(type, version, std::string{payload});
    if (!bytes)
      return std::move(bytes).error();
    return from_bytes<T>(*bytes);
  }

  /// The stored type name of T: the one it was registered under (add<T>(name, version)),
  /// else event_traits<T>::name; none when T has neither.
  template <class T>
  std::optional<std::string_view> name_of() const {
    if (auto n = names_.find(std::type_index{typeid(T)}); n != names_.end())
      return std::string_view{n->second};
    if constexpr (detail::has_event_type<T>::value)
      return event_traits<T>::name;
    else
      return std::nullopt;
  }

  /// Renders any registered event's payload as JSON (after upcasting). Errors as upcast(),
  /// plus corrupt when the payload does not decode or the event failed its checksum.
  result<std::string> to_json(std::string_view name, uint32_t version, std::string_view payload,
                              bool corrupt = false) const;

private:
  struct entry {
    uint32_t current_version = 1;
    std::function<result<std::string>(std::string_view)> render_json;
    std::map<uint32_t, upcaster> upcasters; // from version -> fn
  };
  const entry* find(std::string_view name) const;
  std::map<std::string, entry, std::less<>> entries_;
  std::map<std::type_index, std::string> names_; // the name each C++ type was added under
};

} // namespace annal
