#include "io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <regex>
#include <stdexcept>
#include <thread>

namespace radius {

namespace {

[[noreturn]] void fail_errno(const std::string& path, const std::string& what, int err) {
  throw std::runtime_error("cannot write '" + path + "': " + what + " (" + std::strerror(err) + ")");
}

// Best effort: some filesystems refuse fsync on a directory, and the new file
// is complete and in place by then either way.
void fsync_directory_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// The crash-test hook (atomic_file.h): read once; 0 when unset.
int write_delay_ms() {
  static const int ms = [] {
    const char* v = std::getenv(kWriteDelayEnv);
    return v ? std::max(0, std::atoi(v)) : 0;
  }();
  return ms;
}

void test_delay(std::FILE* f) {
  if (write_delay_ms() == 0) return;
  if (f) std::fflush(f);  // the partial file is on disk while we sleep
  std::this_thread::sleep_for(std::chrono::milliseconds(write_delay_ms()));
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  // pid + a process-wide counter: concurrent writers never share a temporary.
  static std::atomic<uint64_t> counter{0};
  tmp_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  f_ = std::fopen(tmp_.c_str(), "wb");
  // The error names the user's file and its folder, never the temporary's made-up name.
  if (!f_) {
    const int err = errno;
    const std::string folder = std::filesystem::path(path_).parent_path().string();
    fail_errno(path_, "cannot create a file in " + (folder.empty() ? std::string("the current folder") : "'" + folder + "'"),
               err);
  }
}

AtomicFile::~AtomicFile() {
  if (f_) std::fclose(f_);
  if (!committed_) std::remove(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t bytes) {
  if (!f_) throw std::logic_error(path_ + ": write after commit");
  if (bytes && std::fwrite(data, 1, bytes, f_) != bytes) fail_errno(path_, "write failed", errno);
  test_delay(f_);
}

void AtomicFile::commit() {
  if (!f_) throw std::logic_error(path_ + ": committed twice");
  // Buffered writes surface errors such as ENOSPC only at flush and close.
  bool ok = std::fflush(f_) == 0 && ::fsync(::fileno(f_)) == 0;
  int err = errno;
  if (std::fclose(f_) != 0 && ok) ok = false, err = errno;
  f_ = nullptr;
  if (!ok) fail_errno(path_, "write failed", err);
  test_delay(nullptr);
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail_errno(path_, "cannot replace the file", errno);
  committed_ = true;
  fsync_directory_of(path_);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  AtomicFile f(path);
  f.write(bytes.data(), bytes.size());
  f.commit();
}

void write_file_atomic(const std::string& path, std::span<const uint8_t> bytes) {
  write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

int remove_stale_temporaries(const std::string& dir) {
  static const std::regex temporary(R"(.+\.tmp\.(\d+)\.\d+)");
  int removed = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    std::smatch m;
    if (!e.is_regular_file(ec) || !std::regex_match(name, m, temporary)) continue;
    const long pid = std::strtol(m[1].str().c_str(), nullptr, 10);
    const bool running = pid == long(::getpid()) || (::kill(pid_t(pid), 0) == 0 || errno == EPERM);
    if (!running && std::filesystem::remove(e.path(), ec)) ++removed;
  }
  return removed;
}

}  // namespace radius
