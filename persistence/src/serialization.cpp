#include "annal/serialization.hpp"

#include <algorithm>

namespace annal {

std::string compact_cereal_json(std::string text) {
  text.erase(std::remove(text.begin(), text.end(), '\n'), text.end());
  constexpr std::string_view prefix = "{\"value\": ";
  if (text.size() > prefix.size() && text.compare(0, prefix.size(), prefix) == 0
      && text.back() == '}') {
    text.pop_back();
    text.erase(0, prefix.size());
  }
  return text;
}

} // namespace annal
