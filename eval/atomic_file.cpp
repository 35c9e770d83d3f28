#include "eval/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace radius {
namespace {

[[noreturn]] void fail_errno(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what + " (" + std::strerror(errno) + ")");
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes) {
  // The pid keeps two processes writing the same target from sharing a temp.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail_errno(path, "cannot create '" + tmp + "'");
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  // Buffered writes surface errors such as ENOSPC only at flush/close.
  ok = ok && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    const int saved = errno;
    std::remove(tmp.c_str());
    errno = saved;
    fail_errno(path, "write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    std::remove(tmp.c_str());
    errno = saved;
    fail_errno(path, "cannot replace the file");
  }
  // Make the rename itself durable; best effort (some filesystems refuse
  // fsync on a directory, and the file is complete either way).
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

}  // namespace radius
