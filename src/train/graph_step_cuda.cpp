// Whole-step CUDA graphs (libtorch-notes §c): at batch 64 a ResNet-110 step is ~3,000 small kernels,
// so the GPU waits on the host's launches; replaying one captured graph removes that overhead.
#include <functional>
#include <memory>
#include <string>

#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <cuda_runtime_api.h>

#include "autocast.h"
#include "graph_capture.h"
#include "step_runner.h"

namespace propnet::train::detail {
namespace {

// Runs `body` with `side` as the current stream, ordered after the current stream's queued work
// and before its later work. Capture must not happen on the default stream.
template <typename Body>
void on_stream(const c10::cuda::CUDAStream& side, Body&& body) {
  const c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(side.device_index());
  at::cuda::CUDAEvent ready;
  ready.record(current);
  ready.block(side);
  {
    c10::cuda::CUDAStreamGuard guard(side);
    body();
  }
  at::cuda::CUDAEvent done;
  done.record(side);
  done.block(current);
}

// at::cuda::CUDAGraph's capture on the current stream (`stream`), with an abort that leaves the
// stream out of capture mode.
class CudaGraphCapture final : public StreamCapture {
 public:
  CudaGraphCapture(at::cuda::CUDAGraph& graph, const c10::cuda::CUDAStream& stream) : graph_(graph), stream_(stream) {}
  void begin() override { graph_.capture_begin(); }
  void end() override { graph_.capture_end(); }
  void abort() noexcept override {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(stream_.stream(), &status) == cudaSuccess && status != cudaStreamCaptureStatusNone) {
      try {
        graph_.capture_end();  // also ends the graph's private memory pool
      } catch (...) {
        // An invalidated capture: capture_end has ended it before its check threw; else end it here.
        if (cudaStreamIsCapturing(stream_.stream(), &status) == cudaSuccess && status != cudaStreamCaptureStatusNone) {
          cudaGraph_t partial = nullptr;
          if (cudaStreamEndCapture(stream_.stream(), &partial) == cudaSuccess && partial) cudaGraphDestroy(partial);
        }
      }
    }
    (void)cudaGetLastError();  // the failure is reported by the exception, not by the next launch
  }

 private:
  at::cuda::CUDAGraph& graph_;
  c10::cuda::CUDAStream stream_;
};

// One eager step captured into a graph that reads static input buffers. Batches of another size
// than `batch_size` (the ragged last batch) run eagerly; the first `warmup` full batches also run
// eagerly, on a side stream, so that cuDNN's autotuning, cuBLAS handles and the caching allocator
// have settled before the capture. Those are real steps: nothing is run twice or skipped.
class GraphedRunner final : public StepRunner {
 public:
  // `key` says when the graph is stale (the learning rate baked into the captured update).
  GraphedRunner(std::string what, std::unique_ptr<StepRunner> eager, std::shared_ptr<DeviceSums> sums,
                int64_t batch_size, int warmup, const c10::Device& device, std::function<double()> key)
      : StepRunner(std::move(sums)),
        what_(std::move(what)),
        eager_(std::move(eager)),
        batch_size_(batch_size),
        warmup_left_(warmup),
        side_(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device.index())),
        key_(std::move(key)) {}

  void run(const at::Tensor& images, const at::Tensor& labels) override {
    if (images.size(0) != batch_size_) {
      eager_->run(images, labels);
      return;
    }
    if (warmup_left_ > 0) {
      --warmup_left_;
      on_stream(side_, [&] { eager_->run(images, labels); });
      return;
    }
    if (!graph_ || key_() != captured_key_) capture(images, labels);
    static_images_.copy_(images, /*non_blocking=*/true);
    static_labels_.copy_(labels, /*non_blocking=*/true);
    graph_->replay();
  }

 private:
  void capture(const at::Tensor& images, const at::Tensor& labels) {
    if (graph_) {
      c10::cuda::getCurrentCUDAStream(side_.device_index()).synchronize();  // the old graph's replays are done
      graph_.reset();
    }
    static_images_ = images.clone();  // keeps the memory format (channels_last stays)
    static_labels_ = labels.clone();
    graph_ = std::make_unique<at::cuda::CUDAGraph>();
    // The capture records the step without running it; the replay that follows runs it.
    try {
      on_stream(side_, [&] {
        AutocastCacheOff no_cache;
        CudaGraphCapture capture(*graph_, side_);
        capture_step(capture, *eager_, static_images_, static_labels_,
                     what_ + " (batch " + std::to_string(batch_size_) + ")");
      });
    } catch (...) {
      graph_.reset();  // a failed capture leaves no graph to replay
      throw;
    }
    captured_key_ = key_();
  }

  std::string what_;
  std::unique_ptr<StepRunner> eager_;
  int64_t batch_size_;
  int warmup_left_;
  c10::cuda::CUDAStream side_;
  std::function<double()> key_;
  double captured_key_ = 0;
  std::unique_ptr<at::cuda::CUDAGraph> graph_;
  at::Tensor static_images_, static_labels_;
};

constexpr int kTrainWarmupSteps = 3;  // the official C++ recipe uses a few; cuDNN autotunes on the first
constexpr int kEvalWarmupSteps = 1;

}  // namespace

std::unique_ptr<StepRunner> make_cuda_graph_train_runner(Model model, MultiTensorSGD& optimizer,
                                                         const TrainSpec& spec, const c10::Device& device) {
  auto eager = std::make_unique<EagerTrainStep>(std::move(model), optimizer, spec, device);
  auto sums = eager->shared_sums();
  return std::make_unique<GraphedRunner>("the training step", std::move(eager), std::move(sums), spec.batch_size,
                                         kTrainWarmupSteps, device, [&optimizer] { return optimizer.lr(); });
}

std::unique_ptr<StepRunner> make_cuda_graph_eval_runner(Model model, const TrainSpec& spec,
                                                        const c10::Device& device) {
  auto eager = std::make_unique<EagerEvalStep>(std::move(model), spec, device);
  auto sums = eager->shared_sums();
  return std::make_unique<GraphedRunner>("the evaluation step", std::move(eager), std::move(sums),
                                         spec.eval_batch_size, kEvalWarmupSteps, device, [] { return 0.0; });
}

}  // namespace propnet::train::detail
