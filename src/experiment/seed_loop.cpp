#include <propnet/experiment/seed_loop.h>

namespace propnet::experiment {

SeedLoopResult run_seeds(const RunFolder& folder, const std::vector<int64_t>& seeds,
                         const std::function<SeedOutcome(int64_t seed)>& run_one, const SeedLoopOptions& options) {
  const SeedLoopHooks& hooks = options.hooks;
  const bool writer = options.group == nullptr || options.group->rank() == 0;
  SeedLoopResult result;
  for (int64_t seed : seeds) {
    const std::string name = options.what + " " + std::to_string(seed);
    if (folder.done(seed)) {
      if (hooks.on_message) hooks.on_message(name + " already finished; skipping");
      continue;
    }
    if (writer) folder.begin_seed(seed);
    if (hooks.on_begin) hooks.on_begin(seed);
    const SeedOutcome outcome = run_one(seed);
    const bool failed = outcome.status == train::SeedStatus::kFailed;
    if (failed && writer) folder.mark_failed(seed, outcome.message);  // before on_end, which may summarize it
    if (hooks.on_end) hooks.on_end(seed);
    if (options.group) options.group->barrier();  // every rank sees the seed's files before the next check
    if (failed) {
      result.any_failed = true;
      if (hooks.on_warning) hooks.on_warning(name + " failed: " + outcome.message + "; going on with the next seed");
    } else if (outcome.status == train::SeedStatus::kStopped) {
      result.stopped_seed = seed;
      result.stop_message = outcome.message;
      return result;
    }
  }
  return result;
}

}  // namespace propnet::experiment
