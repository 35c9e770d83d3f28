// Whole-file writes that never leave a half-written file behind.
//
// The bytes go to a temporary file in the same directory (so the rename cannot
// cross a filesystem), are flushed and fsync'ed, and the temporary is renamed
// over the target; then the directory is fsync'ed so the rename survives a
// power cut. A reader (a training run loading its checkpoint, a browser on
// report.html) sees the old file or the new one, and a crash, a kill -9 or a
// full disk keeps the old one. Every error names the target path.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace radius {

// For files written in pieces (safetensors: header, then each tensor).
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // creates the temporary; throws naming `path`
  ~AtomicFile();                          // removes the temporary unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t bytes);  // throws on a short write
  void commit();                               // flush, fsync, rename over the target

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  bool committed_ = false;
};

void write_file_atomic(const std::string& path, std::string_view bytes);
void write_file_atomic(const std::string& path, std::span<const uint8_t> bytes);

// The temporaries AtomicFile leaves when its process is killed (SIGKILL, power cut):
// files "<name>.tmp.<pid>.<n>" in `dir` whose process <pid> is no longer running.
// They are never read as data; a resumed run removes them. Returns how many it removed.
int remove_stale_temporaries(const std::string& dir);

// Test hook, for crash-safety tests only: when the environment variable
// RADIUS_TEST_WRITE_DELAY_MS is a positive number, AtomicFile flushes and sleeps that
// long after every write() and before the rename, so a SIGKILL sent at a random moment
// lands inside a file write often. Unset (always, outside tests) it costs nothing.
inline constexpr const char* kWriteDelayEnv = "RADIUS_TEST_WRITE_DELAY_MS";

}  // namespace radius
