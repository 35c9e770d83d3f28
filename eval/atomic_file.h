// Whole-file writes that never leave a half-written file behind: the bytes go
// to a temporary file in the same directory (so the rename cannot cross a
// filesystem), are flushed to disk, and the temporary is renamed over the
// target. A reader (a browser on report.html, a script on metrics.json) sees
// the old file or the new one, and a crash or a full disk keeps the old one.
#pragma once
#include <string>
#include <string_view>

namespace radius {

// Throws std::runtime_error naming the path on any failure; the temporary is
// removed then.
void write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace radius
