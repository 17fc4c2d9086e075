#include "seed_session.h"

#include <iostream>

#include <fmt/format.h>

#include <propnet/runtime.h>
#include <propnet/train/device.h>

#include "dist_setup.h"
#include "experiment_setup.h"
#include "log.h"
#include "cli.h"
#include "signals.h"

namespace propnet::cli {

std::string Launch::describe(const std::string& detail) const {
  return fmt::format("data parallel: {} ranks ({}, {}), {}{}", env.world_size, env.launcher,
                     group ? group->backend() : "no group", detail, dist::describe(env));
}

train::TrainerHooks reporter_hooks(ProgressReporter& reporter, int64_t epochs) {
  train::TrainerHooks hooks;
  hooks.on_progress = [&reporter](const train::StepProgress& p) { reporter.progress(p); };
  hooks.on_epoch = [&reporter, epochs](const train::EpochMetrics& m) { reporter.epoch(m, epochs); };
  hooks.stop_requested = [] { return stop_signal() != 0; };
  hooks.on_message = [&reporter](const std::string& text) { reporter.message(text); };
  return hooks;
}

Launch start_launch(const ExperimentConfig& config) {
  Launch launch;
  launch.env = dist::detect_launch();
  check_launch(config, launch.env);
  launch.device = rank_device(train::resolve_device(config.train.device), config.train.device, launch.env);
  launch.threads = configure_threads(rank_threads(config.train.threads, launch.device, launch.env));
  return launch;
}

void connect(Launch& launch, const cxxopts::ParseResult& flags) {
  launch.group = make_group(launch.env, launch.device, dist_timeout_of(flags));
}

int run_session(const SeedSession& session, const experiment::RunFolder& folder, const std::vector<int64_t>& seeds,
                const Launch& launch, ProgressReporter& reporter,
                const std::function<experiment::SeedOutcome(int64_t seed)>& run_one, int argc, char** argv) {
  const bool rank0 = launch.rank0();
  experiment::SeedLoopOptions options;
  options.what = session.what;
  options.group = launch.group.get();
  options.hooks.on_begin = [&](int64_t seed) {
    if (rank0) reporter.begin_seed(folder.seed_dir(seed) / session.log_name);
  };
  options.hooks.on_end = [&](int64_t) {  // the summary after every seed: tools see each seed's status at once
    if (!rank0) return;
    reporter.end_seed();
    session.write_summary();
  };
  options.hooks.on_message = [&](const std::string& text) { reporter.message(text); };
  options.hooks.on_warning = [&](const std::string& text) { reporter.warn(text); };
  install_stop_handlers();
  const experiment::SeedLoopResult result = experiment::run_seeds(folder, seeds, run_one, options);
  if (result.stopped_seed) {  // on_end has written the summary with the stopped seed
    if (rank0) {
      log::warn(fmt::format("{} {} {}; checkpoint written. Resume with:\n  {}{}", session.what, *result.stopped_seed,
                            result.stop_message, launch.group ? "<the same launch of> " : "",
                            shell_command(session.command, argc, argv)));
    }
    if (launch.group) launch.group->barrier();
    return 128 + (stop_signal() != 0 ? stop_signal() : 2);  // a rank stopped by another's signal: as SIGINT
  }
  if (rank0) std::cout << session.write_summary() << "\n";
  if (launch.group) launch.group->barrier();  // every rank leaves once rank 0 has written the summary
  return result.any_failed ? kExitFailure : kExitOk;
}

}  // namespace propnet::cli
