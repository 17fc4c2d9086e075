#include "signals.h"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <unistd.h>

namespace propnet::cli {
namespace {

std::atomic<int> requested{0};
std::atomic<int64_t> first_at_ns{0};

// Interrupts this close together are one: `timeout -s INT` and `kill -INT -- -PGID` signal the process and
// its group, so one stop request arrives twice. A person's second Ctrl-C comes much later than this.
constexpr int64_t kSameInterruptNs = 250'000'000;

int64_t monotonic_ns() {  // clock_gettime is async-signal-safe
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

extern "C" void on_stop_signal(int signal) {
  const int64_t now = monotonic_ns();
  if (requested.load() != 0 && now - first_at_ns.load() < kSameInterruptNs) return;
  if (requested.load() != 0 && signal == SIGINT) {
    constexpr char kNow[] = "\npropnet: second interrupt, exiting now (the last checkpoint is kept)\n";
    (void)!write(STDERR_FILENO, kNow, sizeof(kNow) - 1);
    _exit(128 + signal);
  }
  first_at_ns.store(now);
  requested.store(signal);
  constexpr char kSoon[] = "\npropnet: stopping after this step and writing a checkpoint (Ctrl-C again to quit now)\n";
  (void)!write(STDERR_FILENO, kSoon, sizeof(kSoon) - 1);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int stop_signal() { return requested.load(); }

}  // namespace propnet::cli
