// cereal archives used for every payload Annal stores. The byte format is exactly that of
// cereal::BinaryOutputArchive (raw little-endian arithmetic values, 64-bit size tags), so
// stored payloads stay readable with plain cereal. They differ in two ways: the output
// archive appends to a std::string without an ostream, and the input archive reads from
// a byte span and refuses any size tag larger than the bytes left, so that hostile or
// damaged input can never make a decoder allocate without bound.
#pragma once

#include <cereal/cereal.hpp>

#include <cstring>
#include <string>
#include <string_view>

namespace annal {

/// Appends cereal-serialized values to a std::string.
/// Thread safety: one archive per thread; the string must outlive the archive.
class binary_output_archive
  : public cereal::OutputArchive<binary_output_archive, cereal::AllowEmptyClassElision> {
public:
  explicit binary_output_archive(std::string& out)
    : cereal::OutputArchive<binary_output_archive, cereal::AllowEmptyClassElision>(this),
      out_(out) {}

  void save_binary(const void* data, std::size_t size) {
    out_.append(static_cast<const char*>(data), size);
  }

private:
  std::string& out_;
};

/// Reads cereal-serialized values from a byte span; throws cereal::Exception on truncated
/// input or on a size tag that exceeds the remaining bytes (annal's decoders catch it).
class binary_input_archive
  : public cereal::InputArchive<binary_input_archive, cereal::AllowEmptyClassElision> {
public:
  explicit binary_input_archive(std::string_view in)
    : cereal::InputArchive<binary_input_archive, cereal::AllowEmptyClassElision>(this),
      in_(in) {}

  void load_binary(void* data, std::size_t size) {
    if (size > in_.size() - pos_)
      throw cereal::Exception("input ends before the value does");
    if (size != 0)
      std::memcpy(data, in_.data() + pos_, size);
    pos_ += size;
  }

  /// Bytes not consumed yet.
  std::size_t remaining() const noexcept { return in_.size() - pos_; }

private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T>>
CEREAL_SAVE_FUNCTION_NAME(binary_output_archive& ar, const T& t) {
  ar.save_binary(std::addressof(t), sizeof(t));
}

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T>>
CEREAL_LOAD_FUNCTION_NAME(binary_input_archive& ar, T& t) {
  ar.load_binary(std::addressof(t), sizeof(t));
}

// A bool is one byte of 0 or 1; any other value is damage (and loading it into a bool
// would be undefined behaviour).
inline void CEREAL_LOAD_FUNCTION_NAME(binary_input_archive& ar, bool& b) {
  unsigned char byte = 0;
  ar.load_binary(&byte, 1);
  if (byte > 1)
    throw cereal::Exception("invalid bool value");
  b = byte == 1;
}

template <class Archive, class T>
inline CEREAL_ARCHIVE_RESTRICT(binary_input_archive, binary_output_archive)
CEREAL_SERIALIZE_FUNCTION_NAME(Archive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}

template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(binary_output_archive& ar, const cereal::SizeTag<T>& t) {
  ar(t.size);
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(binary_input_archive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
  // Every element of a sized container takes at least one byte in any payload we write
  // (and a container of empty types is not worth a bound): a larger count is damage.
  if (static_cast<std::size_t>(t.size) > ar.remaining())
    throw cereal::Exception("size tag exceeds the remaining input");
}

template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(binary_output_archive& ar, const cereal::BinaryData<T>& bd) {
  ar.save_binary(bd.data, static_cast<std::size_t>(bd.size));
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(binary_input_archive& ar, cereal::BinaryData<T>& bd) {
  ar.load_binary(bd.data, static_cast<std::size_t>(bd.size));
}

} // namespace annal

CEREAL_REGISTER_ARCHIVE(annal::binary_output_archive)
CEREAL_REGISTER_ARCHIVE(annal::binary_input_archive)
CEREAL_SETUP_ARCHIVE_TRAITS(annal::binary_input_archive, annal::binary_output_archive)
