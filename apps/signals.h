#pragma once
// SIGINT/SIGTERM during training: the first asks the trainer to finish its step and checkpoint,
// a second SIGINT exits at once.
namespace propnet::cli {

/// Installs the handlers (idempotent).
void install_stop_handlers();
/// The signal that asked to stop, or 0.
int stop_signal();

}  // namespace propnet::cli
