// Epoch orders, normalization and the batched on-device augmentation (spec §6).
#include <propnet/data/epoch_order.h>
#include <propnet/data/transforms.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <utility>

#include <c10/util/Exception.h>

#include "host_upload.h"

namespace propnet::data {
namespace {

// splitmix64 (Steele, Lea, Flood 2014): tiny, fast and identical everywhere, unlike std:: distributions.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A uniform integer in [0, n) (Lemire's multiply-shift; the bias, n / 2^64, is negligible here).
uint64_t below(uint64_t& state, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(splitmix64(state)) * n) >> 64);
}

// Distinct streams for the epoch order and for the augmentation of the same (seed, epoch).
constexpr uint64_t kOrderStream = 0x6f72646572ULL;  // "order"
constexpr uint64_t kAugmentStream = 0x6175676dULL;  // "augm"

struct CropFlip {
  torch::Tensor index;  // int64 (B, 1, H*W): source pixel of every output pixel, clamped into the image
  torch::Tensor inside;  // bool (B, 1, H, W): false where the source pixel lies in the padding
};

// Draws the crop offsets dy, dx in [0, 2p] in the padded image and the flips of a batch of `batch`
// into `params` (int64, 3 rows with `stride` between them) on the host, so that they do not depend
// on the device.
void draw_crop_flip(int64_t* params, int64_t stride, int64_t batch, const BatchKey& key, const AugmentOptions& options) {
  const int64_t pad = options.padding();
  uint64_t state = derive_seed(key.seed ^ kAugmentStream, static_cast<uint64_t>(key.epoch),
                               static_cast<uint64_t>(key.step));
  const int64_t world = std::max<int64_t>(key.world_size, 1);
  for (int64_t g = 0, b = 0; b < batch; ++g) {  // g: position in the global batch
    const auto dy = static_cast<int64_t>(below(state, static_cast<uint64_t>(2 * pad + 1)));
    const auto dx = static_cast<int64_t>(below(state, static_cast<uint64_t>(2 * pad + 1)));
    const int64_t flip = options.flip() ? static_cast<int64_t>(splitmix64(state) >> 63) : 0;
    if (g % world != key.rank) continue;
    params[b] = dy;
    params[stride + b] = dx;
    params[2 * stride + b] = flip;
    ++b;
  }
}

// The gather index of the crops and flips `params` (int64 (3, B), on the images' device); the
// index arithmetic runs there.
CropFlip crop_flip(const torch::Tensor& params, int64_t height, int64_t width, int64_t pad) {
  const int64_t batch = params.size(1);
  const torch::Tensor dy = params[0].unsqueeze(1), dx = params[1].unsqueeze(1), flip = params[2].unsqueeze(1);
  const auto longs = at::TensorOptions().dtype(at::kLong).device(params.device());
  // Output (i, j) reads the padded image at (i + dy, j' + dx), j' = flip ? W - 1 - j : j, i.e. the
  // unpadded image at (i + dy - p, j' + dx - p).
  const torch::Tensor rows = at::arange(height, longs).unsqueeze(0) + dy - pad;                        // (B, H)
  const torch::Tensor j = at::arange(width, longs).unsqueeze(0);
  const torch::Tensor cols = j + flip * (width - 1 - 2 * j) + dx - pad;                              // (B, W)
  CropFlip out;
  out.inside = ((rows >= 0).logical_and(rows < height)).unsqueeze(2)
                   .logical_and(((cols >= 0).logical_and(cols < width)).unsqueeze(1))
                   .unsqueeze(1);
  out.index = (rows.clamp(0, height - 1).unsqueeze(2) * width + cols.clamp(0, width - 1).unsqueeze(1))
                  .view({batch, 1, height * width});
  return out;
}

// One batch's parameters, drawn on the host and uploaded to `device`.
torch::Tensor crop_flip_params(int64_t batch, const BatchKey& key, const AugmentOptions& options,
                               const torch::Device& device) {
  torch::Tensor params = at::empty({3, batch}, at::kLong);
  draw_crop_flip(params.data_ptr<int64_t>(), batch, batch, key, options);
  return detail::upload(params, device);
}

torch::Tensor apply_crop_flip(const torch::Tensor& x, const CropFlip& cf) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  return x.reshape({b, c, h * w}).gather(2, cf.index.expand({b, c, h * w})).view({b, c, h, w});
}

void check_batch(const torch::Tensor& x, const char* who) {
  TORCH_CHECK_VALUE(x.defined() && x.dim() == 4, who, ": expected a (B, C, H, W) batch (got ",
                    x.defined() ? x.dim() : 0, " dimensions)");
}

}  // namespace

uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b) {
  uint64_t state = seed;
  state = splitmix64(state) ^ a;
  state = splitmix64(state) ^ b;
  return splitmix64(state);
}

// ---- EpochOrder ----

EpochOrder::EpochOrder(int64_t size, EpochOrderOptions options) : size_(size), options_(std::move(options)) {
  TORCH_CHECK_VALUE(size > 0, "EpochOrder: expected a split of at least 1 sample (got ", size, ")");
  TORCH_CHECK_VALUE(options_.batch_size() > 0, "EpochOrder: expected batch_size > 0 (got ", options_.batch_size(), ")");
  TORCH_CHECK_VALUE(options_.world_size() >= 1 && options_.rank() >= 0 && options_.rank() < options_.world_size(),
                    "EpochOrder: expected 0 <= rank < world_size (got rank ", options_.rank(), ", world_size ",
                    options_.world_size(), ")");
  TORCH_CHECK_VALUE(samples_per_rank() > 0, "EpochOrder: expected at least world_size samples with drop_last (got ",
                    size, " samples for ", options_.world_size(), " ranks)");
}

int64_t EpochOrder::samples_per_rank() const {
  const int64_t world = options_.world_size();
  return options_.drop_last() ? size_ / world : (size_ + world - 1) / world;
}

int64_t EpochOrder::batches_per_epoch() const {
  const int64_t n = samples_per_rank(), bs = options_.batch_size();
  return options_.drop_last() ? n / bs : (n + bs - 1) / bs;
}

torch::Tensor EpochOrder::permutation(int64_t epoch) const {
  torch::Tensor perm = at::arange(size_, at::kLong);
  if (!options_.shuffle()) return perm;
  int64_t* p = perm.data_ptr<int64_t>();
  uint64_t state = derive_seed(options_.seed() ^ kOrderStream, static_cast<uint64_t>(epoch));
  for (int64_t i = size_ - 1; i > 0; --i) {  // Fisher-Yates
    std::swap(p[i], p[below(state, static_cast<uint64_t>(i + 1))]);
  }
  return perm;
}

torch::Tensor EpochOrder::shard(int64_t epoch) const {
  const torch::Tensor perm = permutation(epoch);
  const int64_t world = options_.world_size();
  if (world == 1) return perm;
  const int64_t total = samples_per_rank() * world;
  // Wrap around (as DistributedSampler pads) so every rank gets the same count; or truncate.
  torch::Tensor even = total <= size_ ? perm.narrow(0, 0, total) : at::cat({perm, perm.narrow(0, 0, total - size_)});
  return even.slice(0, options_.rank(), total, world).contiguous();
}

std::vector<torch::Tensor> EpochOrder::batches(int64_t epoch) const {
  const torch::Tensor samples = shard(epoch);
  const int64_t n = samples.size(0), bs = options_.batch_size();
  std::vector<torch::Tensor> out;
  for (int64_t start = 0; start < n; start += bs) {
    if (options_.drop_last() && start + bs > n) break;
    out.push_back(samples.narrow(0, start, std::min(bs, n - start)));
  }
  return out;
}

// ---- Normalizer and augmentation ----

struct Normalizer::DeviceConstants {
  struct OnDevice {
    torch::Device device;
    torch::Tensor scale, shift;
  };
  std::mutex mutex;
  std::vector<OnDevice> devices;
};

Normalizer::Normalizer(std::vector<double> mean, std::vector<double> std)
    : mean_(std::move(mean)), std_(std::move(std)), constants_(std::make_shared<DeviceConstants>()) {
  TORCH_CHECK_VALUE(!mean_.empty() && mean_.size() == std_.size(), "Normalizer: expected as many means as stds, at "
                    "least one (got ", mean_.size(), " means and ", std_.size(), " stds)");
  for (double s : std_) {
    TORCH_CHECK_VALUE(s > 0 && std::isfinite(s), "Normalizer: expected every std > 0 (got ", s, ")");
  }
}

torch::Tensor Normalizer::operator()(const torch::Tensor& images) const {
  check_batch(images, "Normalizer");
  TORCH_CHECK_VALUE(images.size(1) == channels(), "Normalizer: expected ", channels(), " channels (got ",
                    images.size(1), ")");
  const torch::Device device = images.device();
  torch::Tensor a, b;
  {
    std::lock_guard<std::mutex> lock(constants_->mutex);
    auto& known = constants_->devices;
    auto it = std::find_if(known.begin(), known.end(), [&](const auto& d) { return d.device == device; });
    if (it == known.end()) {
      const int64_t c = channels();
      torch::Tensor host = at::empty({2, 1, c, 1, 1}, at::kFloat);
      float* v = host.data_ptr<float>();
      for (int64_t i = 0; i < c; ++i) {
        v[i] = static_cast<float>(1.0 / std_[static_cast<size_t>(i)]);
        v[c + i] = static_cast<float>(-mean_[static_cast<size_t>(i)] / std_[static_cast<size_t>(i)]);
      }
      const torch::Tensor both = detail::upload(host, device);
      it = known.insert(known.end(), {device, both[0], both[1]});
    }
    a = it->scale;
    b = it->shift;
  }
  return at::addcmul(b, images.to(at::kFloat), a);  // x * (1/std) - mean/std in one pass
}

torch::Tensor augment_batch(const torch::Tensor& x, const BatchKey& key, const AugmentOptions& options) {
  check_batch(x, "augment_batch");
  TORCH_CHECK_VALUE(options.padding() >= 0, "augment_batch: expected padding >= 0 (got ", options.padding(), ")");
  if (!options.enabled()) return x;
  const CropFlip cf =
      crop_flip(crop_flip_params(x.size(0), key, options, x.device()), x.size(2), x.size(3), options.padding());
  return apply_crop_flip(x, cf) * cf.inside.to(x.scalar_type());
}

namespace {

// make_batch once the indices and, if augmenting, the parameters are on the images' device.
torch::Tensor batch_on_device(const torch::Tensor& images, const torch::Tensor& indices, const Normalizer& normalizer,
                              const AugmentOptions& augment, const torch::Tensor& params) {
  const torch::Tensor selected = images.index_select(0, indices);
  if (!params.defined()) return normalizer(selected);
  // Gathering the uint8 pixels before normalizing moves 4x fewer bytes; the padding is then set
  // to 0, the mean after normalization (spec §6).
  const CropFlip cf = crop_flip(params, selected.size(2), selected.size(3), augment.padding());
  torch::Tensor x = normalizer(apply_crop_flip(selected, cf));
  return x.mul_(cf.inside);
}

}  // namespace

torch::Tensor make_batch(const torch::Tensor& images, const torch::Tensor& indices, const Normalizer& normalizer,
                         const AugmentOptions& augment, const BatchKey& key, bool train) {
  check_batch(images, "make_batch");
  TORCH_CHECK_VALUE(indices.dim() == 1, "make_batch: expected a 1-D index tensor (got ", indices.dim(),
                    " dimensions)");
  TORCH_CHECK_VALUE(augment.padding() >= 0, "make_batch: expected padding >= 0 (got ", augment.padding(), ")");
  const torch::Tensor on_device = indices.device() == images.device() ? indices.to(at::kLong)
                                                                       : detail::upload(indices.to(at::kLong), images.device());
  const bool augmented = train && augment.enabled();
  return batch_on_device(images, on_device, normalizer, augment,
                         augmented ? crop_flip_params(indices.size(0), key, augment, images.device()) : torch::Tensor());
}

EpochBatches::EpochBatches(const EpochOrder& order, int64_t epoch, const AugmentOptions& augment,
                           const torch::Device& device)
    : augment_(augment) {
  TORCH_CHECK_VALUE(augment.padding() >= 0, "EpochBatches: expected padding >= 0 (got ", augment.padding(), ")");
  const std::vector<torch::Tensor> batches = order.batches(epoch);
  int64_t n = 0;
  for (const torch::Tensor& batch : batches) n += batch.size(0);
  // Row 0: the samples in visiting order; rows 1-3: each batch's dy, dx and flip in its columns.
  const bool augmented = augment.enabled();
  torch::Tensor host = at::empty({augmented ? 4 : 1, n}, at::kLong);
  int64_t* rows = host.data_ptr<int64_t>();
  const EpochOrderOptions& o = order.options();
  int64_t start = 0;
  for (size_t step = 0; step < batches.size(); ++step) {
    const int64_t b = batches[step].size(0);
    std::copy_n(batches[step].data_ptr<int64_t>(), b, rows + start);
    if (augmented) {
      BatchKey key{o.seed(), epoch, static_cast<int64_t>(step), o.rank(), o.world_size()};
      draw_crop_flip(rows + n + start, n, b, key, augment);
    }
    start += b;
  }
  const torch::Tensor all = detail::upload(host, device);
  start = 0;
  for (const torch::Tensor& batch : batches) {
    const int64_t b = batch.size(0);
    indices_.push_back(all[0].narrow(0, start, b));
    if (augmented) params_.push_back(all.narrow(0, 1, 3).narrow(1, start, b));
    start += b;
  }
}

const torch::Tensor& EpochBatches::indices(int64_t step) const {
  TORCH_CHECK_INDEX(step >= 0 && step < size(), "EpochBatches: step ", step, " is outside the epoch's ", size(),
                    " batches");
  return indices_[static_cast<size_t>(step)];
}

torch::Tensor EpochBatches::make(const torch::Tensor& images, const Normalizer& normalizer, int64_t step) const {
  check_batch(images, "EpochBatches");
  const torch::Tensor& idx = indices(step);
  TORCH_CHECK_VALUE(images.device() == idx.device(), "EpochBatches: the images are on ", images.device(),
                    ", the batches on ", idx.device());
  return batch_on_device(images, idx, normalizer, augment_,
                         params_.empty() ? torch::Tensor() : params_[static_cast<size_t>(step)]);
}

PipelineBenchResult benchmark_pipeline(const PipelineBenchOptions& options) {
  TORCH_CHECK_VALUE(options.batch_size() > 0 && options.steps() > 0 && options.pool() >= options.batch_size(),
                    "benchmark_pipeline: expected batch_size > 0, steps > 0 and pool >= batch_size (got ",
                    options.batch_size(), ", ", options.steps(), ", ", options.pool(), ")");
  const int64_t c = options.channels(), s = options.image_size();
  // A fixed pattern, not random data: the benchmark must not touch the global RNG.
  const torch::Tensor images =
      at::arange(options.pool() * c * s * s, at::kLong).remainder(251).to(at::kByte).view({options.pool(), c, s, s})
          .to(options.device());
  const Normalizer normalizer(std::vector<double>(static_cast<size_t>(c), 120.0), std::vector<double>(static_cast<size_t>(c), 64.0));
  const EpochOrder order(options.pool(), EpochOrderOptions(options.batch_size()).drop_last(true));
  // As the trainer does: an epoch's batches uploaded at once, then built on the device.
  const AugmentOptions augment = AugmentOptions().enabled(options.train());
  std::optional<EpochBatches> batches;
  torch::Tensor last;
  auto run = [&](int64_t steps) {
    for (int64_t step = 0; step < steps; ++step) {
      const int64_t in_epoch = step % order.batches_per_epoch();
      if (in_epoch == 0) batches.emplace(order, step / order.batches_per_epoch(), augment, options.device());
      last = batches->make(images, normalizer, in_epoch);
    }
    last.view(-1)[0].item<float>();  // waits for the device
  };
  run(std::max<int64_t>(options.warmup_steps(), 1));
  const auto start = std::chrono::steady_clock::now();
  run(options.steps());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PipelineBenchResult result;
  result.images = options.steps() * options.batch_size();
  result.seconds = seconds;
  result.images_per_second = seconds > 0 ? static_cast<double>(result.images) / seconds : 0.0;
  return result;
}

}  // namespace propnet::data
