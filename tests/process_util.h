// Test helper: start the built `radius` command line as a child process (fork + exec),
// with extra environment variables and an optional file-size limit, its output to a log
// file; wait for it or kill it.
#pragma once
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace radius::test {

struct ChildOptions {
  std::vector<std::pair<std::string, std::string>> env;  // set in the child only
  long file_size_limit = -1;  // bytes: RLIMIT_FSIZE, with SIGXFSZ ignored so writes fail with EFBIG
  std::string log;            // stdout + stderr go here ("" = /dev/null)
};

// Starts RADIUS_CLI with `args`; returns the child's pid.
inline pid_t spawn_radius(const std::vector<std::string>& args, const ChildOptions& o = {}) {
  // Everything is prepared before fork: the child (of a parent that may have OpenMP
  // threads) does only async-signal-safe calls until exec; a failure exits with 127.
  std::vector<std::string> argv_s{RADIUS_CLI};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
  for (const auto& [k, v] : o.env) env_s.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (std::string& a : argv_s) argv.push_back(a.data());
  for (std::string& e : env_s) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  const std::string log = o.log.empty() ? "/dev/null" : o.log;
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid > 0) return pid;
  if (o.file_size_limit >= 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // inherited across exec: a write over the limit fails with EFBIG
    const rlimit lim{rlim_t(o.file_size_limit), rlim_t(o.file_size_limit)};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(127);
  }
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) ::_exit(127);
  ::dup2(fd, 1);
  ::dup2(fd, 2);
  ::execve(argv[0], argv.data(), envp.data());
  ::_exit(127);
}

// Waits for the child; its exit code, or 128 + signal number when a signal ended it.
inline int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace radius::test
