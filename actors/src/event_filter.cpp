#include "annal/event_filter.hpp"

namespace annal {

std::string_view category_of(std::string_view stream_id) noexcept {
  auto dash = stream_id.find('-');
  return dash == std::string_view::npos ? stream_id : stream_id.substr(0, dash);
}

event_filter event_filter::categories(std::vector<std::string> cats) {
  return event_filter{}.with_categories(std::move(cats));
}

event_filter event_filter::types(std::vector<std::string> types) {
  return event_filter{}.with_types(std::move(types));
}

event_filter event_filter::tags(std::vector<std::string> tags) {
  return event_filter{}.with_tags(std::move(tags));
}

event_filter& event_filter::with_categories(std::vector<std::string> cats) {
  categories_.insert(cats.begin(), cats.end());
  return *this;
}

event_filter& event_filter::with_types(std::vector<std::string> types) {
  types_.insert(types.begin(), types.end());
  return *this;
}

event_filter& event_filter::with_tags(std::vector<std::string> tags) {
  tags_.insert(tags.begin(), tags.end());
  return *this;
}

void event_filter::bind_tags(const category_tags& declared) {
  tagged_categories_.clear();
  for (const auto& [category, tags] : declared)
    for (const auto& t : tags)
      if (tags_.count(t) > 0)
        tagged_categories_.insert(category);
}

bool event_filter::matches(std::string_view stream_id, std::string_view type) const {
  if (!types_.empty() && types_.find(type) == types_.end())
    return false;
  if (categories_.empty() && tags_.empty())
    return true;
  auto cat = category_of(stream_id);
  if (!categories_.empty() && categories_.find(cat) == categories_.end())
    return false;
  if (!tags_.empty() && tagged_categories_.find(cat) == tagged_categories_.end())
    return false;
  return true;
}

} // namespace annal
