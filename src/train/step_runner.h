#pragma once
// One training or evaluation step on a batch, eager or replayed from a CUDA graph. The trainer and
// the benchmark share it; the CUDA graph runners (graph_step_cuda.cpp) exist only in CUDA builds.
#include <functional>
#include <memory>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <propnet/config.h>
#include <propnet/train/sgd.h>

namespace torch::nn {
class AnyModule;
class Module;
}  // namespace torch::nn

namespace propnet::train::detail {

class LossScaler;
class GradientSync;

/// What the trainer trains: a module and its forward, (B, C, H, W) images -> (B, classes) logits.
struct Model {
  std::shared_ptr<torch::nn::Module> module;
  std::function<at::Tensor(const at::Tensor&)> forward;
  /// The module inside `any` (shared, not copied) and a forward through it.
  static Model of(torch::nn::AnyModule any);
};

/// Running sums of a pass, kept on the device so that a step never waits for the host.
struct DeviceSums {
  explicit DeviceSums(const c10::Device& device);
  /// Sets the sums in place (a captured graph keeps adding into the same tensors).
  void reset(double loss_sum = 0, int64_t correct = 0);
  at::Tensor loss_sum;  ///< Sum over images of the cross-entropy, double.
  at::Tensor correct;   ///< Correct top-1 predictions, int64.
};

/// Runs steps and adds each batch's summed loss and correct count to `sums()`.
class StepRunner {
 public:
  virtual ~StepRunner() = default;
  virtual void run(const at::Tensor& images, const at::Tensor& labels) = 0;
  DeviceSums& sums() { return *sums_; }

 protected:
  explicit StepRunner(std::shared_ptr<DeviceSums> sums) : sums_(std::move(sums)) {}
  std::shared_ptr<DeviceSums> sums_;
};

/// Forward, cross-entropy, backward and the optimizer update, op by op. With `spec.bn_batch` > 0 the
/// forward runs on ceil(B / bn_batch) interleaved chunks of the batch (chunk c: images c, c+K, c+2K,
/// ...), so BN normalizes each chunk on its own statistics ("ghost" BN): the split a K-rank
/// data-parallel run makes of the same global batch. With `sync`, the gradients are averaged over
/// the ranks between backward and the update.
class EagerTrainStep : public StepRunner {
 public:
  EagerTrainStep(Model model, MultiTensorSGD& optimizer, const TrainSpec& spec, const c10::Device& device,
                 std::shared_ptr<DeviceSums> sums = nullptr, GradientSync* sync = nullptr);
  ~EagerTrainStep() override;
  void run(const at::Tensor& images, const at::Tensor& labels) override;
  /// Expose the sums so that a graph runner's ragged-batch fallback adds into the same tensors.
  std::shared_ptr<DeviceSums> shared_sums() const { return sums_; }

 private:
  Model model_;
  MultiTensorSGD& optimizer_;
  c10::Device device_;
  Amp amp_;  // autocast as precision.h's AutocastScope says
  int64_t bn_batch_;
  GradientSync* sync_;                  // data-parallel runs only
  std::unique_ptr<LossScaler> scaler_;  // fp16 only
};

/// Forward and loss under NoGradGuard; the caller puts the network in eval mode.
class EagerEvalStep : public StepRunner {
 public:
  EagerEvalStep(Model model, const TrainSpec& spec, const c10::Device& device,
                std::shared_ptr<DeviceSums> sums = nullptr);
  void run(const at::Tensor& images, const at::Tensor& labels) override;
  std::shared_ptr<DeviceSums> shared_sums() const { return sums_; }

 private:
  Model model_;
  c10::Device device_;
  Amp amp_;
};

/// The runner `spec` asks for: a CUDA graph one when `spec.cuda_graph` (CUDA devices only), else eager.
/// Throws c10::ValueError for combinations that cannot work (fp16 or graphs on CPU, graphs in a CPU-only build,
/// graphs with the host-synced fp16 loss scaler, graphs with a gradient all-reduce `sync`).
std::unique_ptr<StepRunner> make_train_runner(Model model, MultiTensorSGD& optimizer, const TrainSpec& spec,
                                              const c10::Device& device, GradientSync* sync = nullptr);
std::unique_ptr<StepRunner> make_eval_runner(Model model, const TrainSpec& spec, const c10::Device& device);

/// Defined in graph_step_cuda.cpp (CUDA builds) or graph_step_none.cpp (which throws).
std::unique_ptr<StepRunner> make_cuda_graph_train_runner(Model model, MultiTensorSGD& optimizer,
                                                         const TrainSpec& spec, const c10::Device& device);
std::unique_ptr<StepRunner> make_cuda_graph_eval_runner(Model model, const TrainSpec& spec,
                                                        const c10::Device& device);

}  // namespace propnet::train::detail
