#include "apps/run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "io/atomic_file.h"

namespace radius::app {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLockName = ".lock";

// Entries other than the lock file.
bool holds_files(const std::string& dir) {
  for (const fs::directory_entry& entry : fs::directory_iterator(dir))
    if (entry.path().filename() != kLockName) return true;
  return false;
}

}  // namespace

void lock_run_folder(const std::string& out, const std::string& command) {
  const std::string path = (fs::path(out) / kLockName).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(command + ": cannot create " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char pid[32] = {};
    const ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) throw std::runtime_error(command + ": cannot lock " + path + ": " + std::strerror(err));
    throw std::runtime_error(command + ": " + out + " is in use by another radius (pid " +
                             (n > 0 ? std::string(pid, size_t(n)) : std::string("?")) +
                             ") training into it: wait for it to finish, or give another --out");
  }
  const std::string me = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != ssize_t(me.size())) {
    // The lock holds without the pid; only the message of a refused second writer lacks it.
  }
  // fd stays open, and the lock held, until the process exits.
}

void prepare_run_folder(const std::string& out, bool overwrite, const std::string& command) {
  std::error_code ec;
  if (!fs::exists(out, ec)) {
    fs::create_directories(out);
    lock_run_folder(out, command);
    return;
  }
  if (!fs::is_directory(out, ec)) throw std::runtime_error(command + " --out " + out + ": exists and is not a folder");
  // A run folder: one with config.json, or the lock every run creates first (a run
  // killed before it wrote config.json). Any other folder is never written into.
  const bool is_run = fs::is_regular_file(fs::path(out) / "config.json", ec) ||
                      fs::is_regular_file(fs::path(out) / kLockName, ec);
  if (!is_run && holds_files(out))
    throw std::runtime_error(command + " --out " + out + ": " +
                             (overwrite ? "not a Radius run folder (no config.json or .lock); --overwrite empties "
                                          "run folders only, so nothing was deleted"
                                        : "is not empty and holds no run; give another --out"));
  lock_run_folder(out, command);  // before anything is removed: a live run refuses here
  if (!holds_files(out)) return;
  if (!overwrite) {
    const bool resumable = fs::is_regular_file(fs::path(out) / "last.ckpt.safetensors", ec);
    throw std::runtime_error(command + " --out " + out +
                             ": holds a run already; give another --out, or --overwrite to replace it" +
                             (resumable ? " (radius train --resume " + out + " continues it)" : ""));
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(out))
    if (entry.path().filename() != kLockName) fs::remove_all(entry.path());
}

std::string copy_spec_into(const std::string& spec, const std::string& out) {
  std::ifstream in(spec, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read model spec '" + spec + "'");
  std::stringstream text;
  text << in.rdbuf();
  const std::string copy = (fs::path(out) / kRunSpecName).string();
  write_file_atomic(copy, text.str());
  return copy;
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(fs::absolute(path), ec);
  return ec ? fs::absolute(path).string() : canonical.string();
}

std::string data_fingerprint(const Dataset& data) {
  // FNV-1a over a canonical text of the listing: stable across machines and runs.
  uint64_t h = 1469598103934665603ull;
  const auto add = [&h](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xffu) * 1099511628211ull;  // a separator no path contains
  };
  for (const std::string& c : data.classes) add(c);
  const fs::path root = fs::is_directory(data.root) ? fs::path(data.root) : fs::path(data.root).parent_path();
  for (const Sample& s : data.samples) {
    add(fs::path(s.path).lexically_relative(root).generic_string());
    add(std::to_string(s.label) + "/" + s.split + "/" + s.group);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

namespace {

char interrupt_message[4096];  // written before the handler is installed; the handler only reads it

extern "C" void say_and_exit(int) {
  // Only async-signal-safe calls here: write and _exit.
  const ssize_t ignored = ::write(STDERR_FILENO, interrupt_message, std::strlen(interrupt_message));
  (void)ignored;
  ::_exit(130);
}

}  // namespace

void on_interrupt_say(const std::string& resume_hint) {
  std::string msg = "\nradius: interrupted";
  msg += resume_hint.empty() ? "\n" : "; the last finished epoch is saved: resume with\n  " + resume_hint + "\n";
  std::snprintf(interrupt_message, sizeof interrupt_message, "%s", msg.c_str());
  std::signal(SIGINT, say_and_exit);
}

}  // namespace radius::app
