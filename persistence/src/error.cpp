#include "annal/error.hpp"

namespace annal {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::conflict: return "conflict";
    case errc::rejected: return "rejected";
    case errc::not_found: return "not_found";
    case errc::already_exists: return "already_exists";
    case errc::stream_deleted: return "stream_deleted";
    case errc::storage_full: return "storage_full";
    case errc::io_error: return "io_error";
    case errc::corrupt: return "corrupt";
    case errc::unknown_event_type: return "unknown_event_type";
    case errc::bad_request: return "bad_request";
    case errc::timeout: return "timeout";
    case errc::unavailable: return "unavailable";
    case errc::overloaded: return "overloaded";
    case errc::handler_fault: return "handler_fault";
  }
  return "unknown_error";
}

bool is_transient(errc code) noexcept {
  switch (code) {
    case errc::storage_full:
    case errc::io_error:
    case errc::timeout:
    case errc::unavailable:
    case errc::overloaded:
      return true;
    default:
      return false;
  }
}

error make_conflict(const std::string& subject, expected_version expected, stream_version actual) {
  return error{errc::conflict,
               subject + ": expected version " + expected.to_string() + ", actual version "
                 + std::to_string(actual),
               version_conflict{expected, actual}};
}

std::string error::to_string() const {
  std::string out{annal::to_string(code)};
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

} // namespace annal
