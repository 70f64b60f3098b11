#include "annal/event_registry.hpp"

namespace annal {

void event_registry::add_upcaster(const std::string& name, uint32_t from_version, upcaster fn) {
  entries_[name].upcasters[from_version] = std::move(fn);
}

const event_registry::entry* event_registry::find(std::string_view name) const {
  auto i = entries_.find(name);
  return i == entries_.end() || !i->second.render_json ? nullptr : &i->second;
}

bool event_registry::contains(std::string_view name) const {
  return find(name) != nullptr;
}

result<uint32_t> event_registry::current_version(std::string_view name) const {
  if (auto e = find(name))
    return e->current_version;
  return make_error(errc::unknown_event_type, "type '" + std::string{name} + "' is not registered");
}

result<std::string> event_registry::upcast(std::string_view name, uint32_t version,
                                           std::string payload) const {
  const entry* e = find(name);
  if (e == nullptr)
    return make_error(errc::unknown_event_type, "type '" + std::string{name} + "' is not registered");
  if (version > e->current_version)
    return make_error(errc::unknown_event_type,
                      "'" + std::string{name} + "' v" + std::to_string(version)
                        + " is newer than the registered v" + std::to_string(e->current_version));
  for (auto v = version; v < e->current_version; ++v) {
    auto link = e->upcasters.find(v);
    if (link == e->upcasters.end())
      return make_error(errc::unknown_event_type, "no upcaster for '" + std::string{name}
                                                    + "' from v" + std::to_string(v));
    result<std::string> next = make_error(errc::corrupt, "");
    try {
      next = link->second(payload);
    } catch (const std::exception& ex) {
      return make_error(errc::corrupt, "upcaster of '" + std::string{name} + "' v"
                                         + std::to_string(v) + " threw: " + ex.what());
    }
    if (!next)
      return std::move(next).error();
    payload = std::move(*next);
  }
  return payload;
}

result<std::string> event_registry::to_json(std::string_view name, uint32_t version,
                                            std::string_view payload, bool corrupt) const {
  if (corrupt)
    return make_error(errc::corrupt, "event of type '" + std::string{name} + "' failed its checksum");
  auto bytes = upcast(name, version, std::string{payload});
  if (!bytes)
    return std::move(bytes).error();
  return find(name)->render_json(*bytes);
}

} // namespace annal
