// A fresh folder under the system temp dir, removed when the object goes away.
#pragma once

#include <filesystem>
#include <random>
#include <string>

namespace annal::test {

class temp_dir {
public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path()
            / ("annal-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const std::string& sub) const { return path_ / sub; }

private:
  std::filesystem::path path_;
};

} // namespace annal::test
