// ReLU followed by 2 x 2 max pooling (stride 2) on CPU, fused into one pass forward and one pass
// backward, with exactly the values and gradients of libtorch's `x.relu().max_pool2d(2)`:
//   relu(v)  = v < 0 ? 0 : v            (clamp_min: -0.0 and NaN pass through unchanged)
//   pool     = the first window element, in raster order, that is greater than every earlier one
//              or NaN (the later NaN wins), as libtorch's CPU max_pool2d kernel scans
//   gradient = 0 + g at that element when the pooled value is not <= 0 (threshold_backward of
//              the ReLU), +0 everywhere else (max_pool2d's backward adds into zeros, so a -0
//              gradient becomes +0)
// The unfused ops make five full-size passes (ReLU, pooling, and in backward a zero fill, the
// scatter and the ReLU's threshold); these make one each. Every output depends on its own window
// only, so the split over threads does not change any bit.
#include <ATen/ops/empty.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Written by the forward pass for each window: the position (0..3, raster order) that carries the
// gradient, or NONE where the pooled value is <= 0 and the ReLU stops it.
constexpr uint8_t NONE = 4;

inline float relu(float v) { return v < 0.0f ? 0.0f : v; }

void pool_forward(const float* x, float* out, uint8_t* arg, int64_t planes, int64_t h, int64_t w) {
  const int64_t oh = h / 2, ow = w / 2;
  at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      for (int64_t i = 0; i < oh; ++i) {
        const float* r0 = x + (p * h + 2 * i) * w;
        const float* r1 = r0 + w;
        float* o = out + (p * oh + i) * ow;
        uint8_t* a = arg + (p * oh + i) * ow;
        for (int64_t j = 0; j < ow; ++j) {
          const float v[4] = {relu(r0[2 * j]), relu(r0[2 * j + 1]), relu(r1[2 * j]),
                              relu(r1[2 * j + 1])};
          float m = -std::numeric_limits<float>::infinity();
          uint8_t k = 0;
          for (uint8_t t = 0; t < 4; ++t) {
            if (v[t] > m || std::isnan(v[t])) {
              m = v[t];
              k = t;
            }
          }
          o[j] = m;
          a[j] = m <= 0.0f ? NONE : k;
        }
      }
    }
  });
}

void pool_backward(const float* g, const uint8_t* arg, float* gx, int64_t planes, int64_t h,
                   int64_t w) {
  const int64_t oh = h / 2, ow = w / 2;
  at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      float* plane = gx + p * h * w;
      for (int64_t i = 0; i < oh; ++i) {
        float* r0 = plane + 2 * i * w;
        float* r1 = r0 + w;
        const float* gi = g + (p * oh + i) * ow;
        const uint8_t* a = arg + (p * oh + i) * ow;
        for (int64_t j = 0; j < ow; ++j) {
          const float v = 0.0f + gi[j];
          r0[2 * j] = a[j] == 0 ? v : 0.0f;
          r0[2 * j + 1] = a[j] == 1 ? v : 0.0f;
          r1[2 * j] = a[j] == 2 ? v : 0.0f;
          r1[2 * j + 1] = a[j] == 3 ? v : 0.0f;
        }
        if (w % 2 == 1) {
          r0[w - 1] = 0.0f;
          r1[w - 1] = 0.0f;
        }
      }
      // The rows past the last window get no gradient.
      for (int64_t i = 2 * oh; i < h; ++i) {
        std::fill(plane + i * w, plane + (i + 1) * w, 0.0f);
      }
    }
  });
}

struct ReluMaxPool2x2 : public torch::autograd::Function<ReluMaxPool2x2> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x) {
    const auto n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    auto out = at::empty({n, c, h / 2, w / 2}, x.options());
    auto arg = at::empty({n, c, h / 2, w / 2}, x.options().dtype(at::kByte));
    pool_forward(x.const_data_ptr<float>(), out.mutable_data_ptr<float>(),
                 arg.mutable_data_ptr<uint8_t>(), n * c, h, w);
    ctx->save_for_backward({arg});
    ctx->saved_data["h"] = h;
    ctx->saved_data["w"] = w;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto arg = ctx->get_saved_variables()[0];
    const auto h = ctx->saved_data["h"].toInt(), w = ctx->saved_data["w"].toInt();
    const auto g = grads[0].contiguous();
    auto gx = at::empty({arg.size(0), arg.size(1), h, w}, g.options());
    pool_backward(g.const_data_ptr<float>(), arg.const_data_ptr<uint8_t>(),
                  gx.mutable_data_ptr<float>(), arg.size(0) * arg.size(1), h, w);
    return {gx};
  }
};

thread_local std::string last_error;

}  // namespace

extern "C" {

// `x.relu().max_pool2d(2)` for a contiguous 4-D float CPU tensor, differentiable when x requires
// grad. Returns a new tensor (owned by the caller, freed like any tch tensor), or nullptr with the
// reason in ralbench_pool_error().
at::Tensor* ralbench_relu_max_pool_2x2(const at::Tensor* x) {
  try {
    TORCH_CHECK(x->dim() == 4 && x->is_cpu() && x->scalar_type() == at::kFloat &&
                    x->is_contiguous(),
                "ralbench_relu_max_pool_2x2 takes a contiguous 4-D float CPU tensor");
    return new at::Tensor(ReluMaxPool2x2::apply(*x));
  } catch (const std::exception& e) {
    last_error = e.what();
    return nullptr;
  }
}

const char* ralbench_pool_error() { return last_error.c_str(); }
}
