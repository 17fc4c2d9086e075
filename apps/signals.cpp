#include "signals.h"

#include <atomic>
#include <csignal>
#include <unistd.h>

namespace propnet::cli {
namespace {

std::atomic<int> requested{0};

extern "C" void on_stop_signal(int signal) {
  if (requested.load() != 0 && signal == SIGINT) {
    constexpr char kNow[] = "\npropnet: second interrupt, exiting now (the last checkpoint is kept)\n";
    (void)!write(STDERR_FILENO, kNow, sizeof(kNow) - 1);
    _exit(128 + signal);
  }
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
