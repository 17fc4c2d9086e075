#pragma once
#include <optional>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace propnet::train {

/// The device a run uses: unset ("auto") is CUDA device 0 when available, else the CPU; "cuda"
/// without an index is device 0. Throws c10::ValueError for devices other than CPU and CUDA, and when
/// CUDA is asked for but this LibTorch has no CUDA or the device is not visible.
c10::Device resolve_device(const std::optional<c10::Device>& request);
/// "auto" (unset), "cpu", "cuda" or "cuda:N"; throws c10::ValueError for other text.
std::optional<c10::Device> parse_device(const std::string& text);
/// `resolve_device(parse_device(text))`.
c10::Device resolve_device(const std::string& text);

/// Whether a run on `device` uses channels_last: `request` when set; unset ("auto"), on for the CPU
/// where the fused BN+ReLU kernels run (NHWC convolutions skip oneDNN's layout reorders there:
/// docs/performance.md) and off elsewhere (on CUDA it stays a choice until measured on a GPU).
bool resolve_channels_last(const std::optional<bool>& request, const c10::Device& device);

/// 4-D `t` with NHWC strides (itself when it has them). Unlike t.contiguous(ChannelsLast), this also
/// restrides one-channel tensors (a Fashion-MNIST batch, the stem's weight), whose NCHW strides count
/// as channels_last contiguous yet make convolutions, and so the whole network, run NCHW.
at::Tensor to_channels_last(const at::Tensor& t);

}  // namespace propnet::train
