// The scratch folder of a benchmark run: a fresh folder on a real disk (durability
// figures measured on tmpfs would be meaningless), removed when the run ends.
//
// Default parent: /var/tmp, or the folder of the executable (the build tree) when
// /var/tmp is missing or memory-backed. Never /tmp, which is often tmpfs.
#pragma once

#include <sys/vfs.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

namespace annal::bench {

/// Name of the file system holding `p` ("ext4/ext3/ext2", "xfs", "tmpfs", ...), from statfs.
inline std::string fs_type(const std::filesystem::path& p) {
  struct statfs s {};
  if (::statfs(p.c_str(), &s) != 0)
    return "unknown";
  switch (static_cast<uint64_t>(s.f_type)) {
    case 0xEF53: return "ext4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x858458F6: return "ramfs";
    case 0x794C7630: return "overlayfs";
    case 0x2FC12FC1: return "zfs";
    case 0x6969: return "nfs";
    case 0x65735546: return "fuse";
    default: return "other";
  }
}

/// True when `p` lives in memory (tmpfs, ramfs): fsync there costs nothing.
inline bool memory_backed(const std::filesystem::path& p) {
  auto t = fs_type(p);
  return t == "tmpfs" || t == "ramfs";
}

/// A fresh folder `<parent>/<name>-<pid>`, removed (with its content) on destruction
/// unless keep() was called.
class bench_dir {
public:
  /// Creates the folder under `parent`, or under the default parent when `parent` is
  /// empty. Check ok() / error().
  bench_dir(std::filesystem::path parent, const std::string& name) {
    if (parent.empty())
      parent = default_parent();
    path_ = parent / (name + "-" + std::to_string(::getpid()));
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    std::filesystem::create_directories(path_, ec);
    if (ec)
      error_ = "cannot create " + path_.string() + ": " + ec.message();
  }
  ~bench_dir() {
    if (!keep_ && error_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  bench_dir(const bench_dir&) = delete;
  bench_dir& operator=(const bench_dir&) = delete;

  bool ok() const noexcept { return error_.empty(); }
  const std::string& error() const noexcept { return error_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  /// Leaves the folder behind when the run ends (for inspection).
  void keep() noexcept { keep_ = true; }

  /// /var/tmp when it exists on a disk, else the executable's folder.
  static std::filesystem::path default_parent() {
    std::error_code ec;
    std::filesystem::path var_tmp = "/var/tmp";
    if (std::filesystem::is_directory(var_tmp, ec) && !memory_backed(var_tmp)
        && ::access(var_tmp.c_str(), W_OK) == 0)
      return var_tmp;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec)
      return exe.parent_path();
    return std::filesystem::current_path(ec);
  }

private:
  std::filesystem::path path_;
  std::string error_;
  bool keep_ = false;
};

} // namespace annal::bench
