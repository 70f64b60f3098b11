// Which events a subscriber wants: by aggregate category, event type and tag. Tags come
// from aggregate definitions (a category carries the tags its aggregate declares).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace annal {

/// Category of a stream: the part before the first '-' ("order-42" -> "order").
std::string_view category_of(std::string_view stream_id) noexcept;

/// Tags declared per category (filled by the runtime from aggregate definitions).
using category_tags = std::map<std::string, std::vector<std::string>, std::less<>>;

/// An event matches when every non-empty criterion admits it: its category is listed, its
/// type is listed, and its category carries one of the listed tags. The empty filter
/// matches everything. Value type; thread-safe for concurrent reads.
class event_filter {
public:
  /// Matches every event.
  static event_filter all() { return {}; }
  /// Matches events of streams in the given categories.
  static event_filter categories(std::vector<std::string> cats);
  /// Matches events of the given types.
  static event_filter types(std::vector<std::string> types);
  /// Matches events of categories tagged with any of `tags`.
  static event_filter tags(std::vector<std::string> tags);

  /// Adds criteria (each call narrows the filter).
  event_filter& with_categories(std::vector<std::string> cats);
  event_filter& with_types(std::vector<std::string> types);
  event_filter& with_tags(std::vector<std::string> tags);

  /// Resolves tags against the categories that declare them (done by the runtime).
  void bind_tags(const category_tags& declared);

  /// True when an event of `type` in `stream_id` matches.
  bool matches(std::string_view stream_id, std::string_view type) const;

  /// True when the filter admits every event.
  bool is_all() const noexcept {
    return categories_.empty() && types_.empty() && tags_.empty();
  }

private:
  std::set<std::string, std::less<>> categories_;
  std::set<std::string, std::less<>> types_;
  std::set<std::string, std::less<>> tags_;
  // Categories carrying one of tags_, once bound.
  std::set<std::string, std::less<>> tagged_categories_;
};

} // namespace annal
