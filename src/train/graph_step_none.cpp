// CPU-only LibTorch: there are no CUDA graphs to capture.
#include <c10/util/Exception.h>

#include "step_runner.h"

namespace propnet::train::detail {
namespace {
[[noreturn]] void no_cuda() {
  TORCH_CHECK_VALUE(false, "train.cuda_graph: this propnet was built against a CPU-only LibTorch; "
                           "rebuild with a CUDA LibTorch (scripts/build.sh --torch pip) or drop --cuda-graph");
}
}  // namespace

std::unique_ptr<StepRunner> make_cuda_graph_train_runner(Model, MultiTensorSGD&, const TrainSpec&,
                                                         const c10::Device&) {
  no_cuda();
}

std::unique_ptr<StepRunner> make_cuda_graph_eval_runner(Model, const TrainSpec&, const c10::Device&) {
  no_cuda();
}

}  // namespace propnet::train::detail
