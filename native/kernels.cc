// extra's native CPU kernels: a Node-API addon that runs the hot kernels of training on the memory of
// tfjs-wasm's heap (the same byte offsets as assembly/kernels.ts), with the AVX-512 or AVX2 + FMA
// path chosen at run time by __builtin_cpu_supports and a portable path otherwise. Hand-written
// because no maintained library offers convolution gradients that can work in place on another
// module's memory (oneDNN would need copies in and out of its own buffers on every call).
//
// Every entry checks that each operand lies inside the memory it was handed and throws a RangeError
// otherwise, so a wrong shape can never read or write outside the wasm heap.
//
// Threads: work is split into independent ranges (output rows, filter-gradient blocks, images,
// columns); no floating-point sum crosses a range, so results do not depend on the thread count.

#include <node_api.h>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "kernel-set.h"

namespace {

#include "row-total.h"

// ---- the instruction set -------------------------------------------------------------------------

const KernelSet* chosen = &portable::kernelSet;
const char* chosenName = "portable";
// the set for products at least WIDE_COLUMNS wide whose width is a multiple of its lanes (see wideSet)
const KernelSet* wide = &portable::kernelSet;
constexpr int WIDE_COLUMNS = 64;

/** The best path this CPU runs, or the one EXTRA_NATIVE_ISA asks for (when the CPU has it). */
void chooseInstructionSet() {
  const char* wanted = std::getenv("EXTRA_NATIVE_ISA");
  std::string want = wanted ? wanted : "";
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool hasAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool hasAvx512 = hasAvx2 && __builtin_cpu_supports("avx512f");
  if (want == "portable") return;
  if (hasAvx512 && want == "avx512") {
    chosen = wide = &avx512::kernelSet;
    chosenName = "avx512";
    return;
  }
  // AVX2 is the default even where AVX-512F exists: lenet-sized layers (10–20 channels) waste more of
  // a 16-lane vector than of an 8-lane one, and on an AMD Zen 4 (which runs 512-bit operations as two
  // 256-bit halves) it measured faster; see reports/kernels.md. Wide layers (64 channels and more: a
  // ResNet's, a ViT's) take the AVX-512 kernels where the CPU has them: 32 registers hold larger blocks
  // (resnet18 at 64×64 on an Intel Xeon: 50 → 63 samples/s; lenet-mtl 6845 on AVX2 against 5263).
  // Both paths give the same bits (test/backend/native.test.ts), so the split changes no result.
  if (hasAvx2) {
    chosen = wide = &avx2::kernelSet;
    chosenName = "avx2-fma";
    if (hasAvx512 && want != "avx2" && want != "avx2-fma") {
      wide = &avx512::kernelSet;
      chosenName = "avx2-fma+avx512";
    }
  }
#else
  (void)want;
#endif
}

/** The set for a product `columns` wide (output channels, or a matrix's columns), padded to `columns`. */
const KernelSet* wideSet(int columns) { return columns >= WIDE_COLUMNS && columns % wide->lanes == 0 ? wide : chosen; }

/**
 * The kernel set of the sums that run across the lanes (the one-input-channel filter gradient): the
 * lane count decides their order, so the AVX-512 path uses AVX2's 8 lanes there and gives the same
 * bits as the AVX2 path (tested on one epoch of training and a curve fit, test/reliability/isa-bits.test.ts).
 */
const KernelSet* pixelSumSet() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (chosen == &avx512::kernelSet) return &avx2::kernelSet;
#endif
  return chosen;
}

// ---- a small thread pool -------------------------------------------------------------------------

/**
 * Runs `tasks` numbered jobs on up to `threads` threads (the caller's included). One parallel region
 * at a time: a caller that finds the pool busy (another worker thread of the same process) runs its
 * jobs itself. Never destroyed (its threads may be blocked when the process exits).
 */
class Pool {
 public:
  void resize(int threads) {
    std::lock_guard<std::mutex> region(busy_);
    std::lock_guard<std::mutex> lock(m_);
    while (static_cast<int>(workers_) < threads - 1) {
      // the creator hands over the index and the generation it starts from, so that a region that
      // begins before the thread first runs is not missed
      const int index = static_cast<int>(workers_++);
      const std::uint64_t from = generation_;
      std::thread([this, index, from] { loop(index, from); }).detach();
    }
    active_ = std::max(1, threads);
  }
  int threads() const { return active_; }

  void run(int tasks, const std::function<void(int)>& job) {
    if (tasks <= 1 || !busy_.try_lock()) {
      for (int i = 0; i < tasks; i++) job(i);
      return;
    }
    if (active_ <= 1) {
      busy_.unlock();
      for (int i = 0; i < tasks; i++) job(i);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(m_);
      job_ = &job;
      tasks_ = tasks;
      next_.store(0);
      running_ = std::min(active_ - 1, tasks - 1);
      generation_++;
    }
    wake_.notify_all();
    work();
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, [this] { return running_ == 0; });
    job_ = nullptr;
    lock.unlock();
    busy_.unlock();
  }

 private:
  void work() {
    for (int i = next_.fetch_add(1); i < tasks_; i = next_.fetch_add(1)) (*job_)(i);
  }
  void loop(int index, std::uint64_t seen) {
    for (;;) {
      std::unique_lock<std::mutex> lock(m_);
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      // only the first `running_` helpers join a region, so that a smaller thread count uses fewer
      if (index >= running_ + finished_) {
        continue;
      }
      lock.unlock();
      work();
      lock.lock();
      finished_++;
      if (--running_ == 0) {
        finished_ = 0;
        done_.notify_all();
      }
    }
  }

  std::mutex busy_;
  std::mutex m_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* job_ = nullptr;
  int tasks_ = 0;
  std::atomic<int> next_{0};
  int running_ = 0;
  int finished_ = 0;
  std::uint64_t generation_ = 0;
  unsigned workers_ = 0;
  int active_ = 1;
};

Pool* pool = new Pool();

/**
 * Split [0, n) into contiguous ranges, one per thread, and run them on the pool; `work` estimates
 * the whole call's operations: below ~2M a wake-up of the helpers (tens of µs) costs more than it
 * saves, so the call stays on this thread.
 */
void parallelRanges(long n, const std::function<void(long, long)>& range, double work) {
  const int parts = work < 2097152.0 ? 1 : static_cast<int>(std::max(1L, std::min<long>(n, pool->threads())));
  pool->run(parts, [&](int p) {
    const long a = n * p / parts;
    const long b = n * (p + 1) / parts;
    if (a < b) range(a, b);
  });
}

// ---- arguments -----------------------------------------------------------------------------------

struct Args {
  napi_env env;
  std::uint8_t* memory = nullptr;
  std::size_t bytes = 0;
  std::vector<double> values;
  bool ok = true;

  Args(napi_env e, napi_callback_info info, std::size_t count) : env(e), values(count) {
    std::size_t argc = count + 1;
    std::vector<napi_value> argv(argc);
    napi_get_cb_info(env, info, &argc, argv.data(), nullptr, nullptr);
    bool isBuffer = false;
    if (argc != count + 1 || napi_is_arraybuffer(env, argv[0], &isBuffer) != napi_ok || !isBuffer) {
      fail("expected (memory: ArrayBuffer, …) with " + std::to_string(count) + " numbers");
      return;
    }
    void* data = nullptr;
    napi_get_arraybuffer_info(env, argv[0], &data, &bytes);
    memory = static_cast<std::uint8_t*>(data);
    for (std::size_t i = 0; i < count; i++) {
      if (napi_get_value_double(env, argv[i + 1], &values[i]) != napi_ok || !(values[i] >= 0) || values[i] > 4294967296.0 ||
          values[i] != static_cast<double>(static_cast<std::int64_t>(values[i]))) {
        fail("argument " + std::to_string(i + 1) + " is not a non-negative integer");
        return;
      }
    }
  }
  void fail(const std::string& why) {
    if (ok) napi_throw_range_error(env, nullptr, ("native kernel: " + why).c_str());
    ok = false;
  }
  int i(std::size_t k) {
    if (values[k] > 2147483647.0) fail("argument " + std::to_string(k + 1) + " is too large");
    return static_cast<int>(values[k]);
  }
  /** The float pointer at byte offset argument k, checked to hold `floats` floats. */
  float* f(std::size_t k, double floats) {
    const double off = values[k];
    if (!ok) return nullptr;
    if (std::fmod(off, 4.0) != 0 || off + 4.0 * floats > static_cast<double>(bytes)) {
      fail("operand " + std::to_string(k + 1) + " lies outside the memory");
      return nullptr;
    }
    return reinterpret_cast<float*>(memory + static_cast<std::size_t>(off));
  }
};

napi_value undefinedValue(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// ---- kernels -------------------------------------------------------------------------------------

// conv2dValid(memory, x, w, bias, y, b, h, wd, ci, oh, ow, co, coP, kh, kw, sh, sw, rowLo, rowHi, colLo, colHi)
napi_value conv2dValid(napi_env env, napi_callback_info info) {
  Args a(env, info, 20);
  if (!a.ok) return nullptr;
  const int b = a.i(4), h = a.i(5), wd = a.i(6), ci = a.i(7), oh = a.i(8), ow = a.i(9), co = a.i(10), coP = a.i(11), kh = a.i(12), kw = a.i(13),
            sh = a.i(14), sw = a.i(15), rowLo = a.i(16), rowHi = a.i(17), colLo = a.i(18), colHi = a.i(19);
  if (!a.ok) return nullptr;
  if (coP % chosen->lanes != 0 || coP < co || sh < 1 || sw < 1 || (oh > 0 && (oh - 1) * sh + kh > h) || (ow > 0 && (ow - 1) * sw + kw > wd)) {
    a.fail("conv2dValid: inconsistent geometry");
    return nullptr;
  }
  const float* x = a.f(0, double(b) * h * wd * ci);
  const float* w = a.f(1, double(kh) * kw * ci * coP);
  const float* bias = a.values[2] == 0 ? nullptr : a.f(2, coP);
  float* y = a.f(3, double(b) * oh * ow * co);
  if (!a.ok) return nullptr;
  // one input channel, stride 1 along rows and a channel count that leaves lanes empty: pixels across
  // the lanes (the remaining tail channels of a group count ≤ ACC/2 − 1, handled by the same kernel)
  if (ci == 1 && sw == 1 && ow >= 2 * chosen->lanes && co % chosen->lanes != 0 && co < 3 * chosen->lanes) {
    parallelRanges(long(b) * oh, [&](long r0, long r1) {
      chosen->conv2dPixelRows(x, w, bias, y, h, wd, oh, ow, co, coP, kh, kw, sh, rowLo, rowHi, int(r0), int(r1));
    }, double(b) * oh * ow * co * kh * kw);
    return undefinedValue(env);
  }
  // rows narrower than a block of pixels (at 3 channel vectors): blocks of the same pixel of several images
  const KernelSet* ks = wideSet(coP);
  if (ow < ks->acc / 3 && b > 1) {
    const long tiles = long((b + ks->acc - 1) / ks->acc) * oh;
    parallelRanges(tiles, [&](long t0, long t1) {
      ks->conv2dImageTiles(x, w, bias, y, b, h, wd, ci, oh, ow, co, coP, kh, kw, sh, sw, rowLo, rowHi, colLo, colHi, int(t0), int(t1));
    }, double(b) * oh * ow * coP * kh * kw * ci);
    return undefinedValue(env);
  }
  parallelRanges(long(b) * oh, [&](long r0, long r1) {
    ks->conv2dValidRows(x, w, bias, y, h, wd, ci, oh, ow, co, coP, kh, kw, sh, sw, rowLo, rowHi, colLo, colHi, int(r0), int(r1));
  }, double(b) * oh * ow * coP * kh * kw * ci);
  return undefinedValue(env);
}

// conv2dFilterGrad(memory, x, dy, dw, b, h, wd, ci, oh, ow, coP, dyStride, kh, kw, sh, sw)
napi_value conv2dFilterGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, 15);
  if (!a.ok) return nullptr;
  const int b = a.i(3), h = a.i(4), wd = a.i(5), ci = a.i(6), oh = a.i(7), ow = a.i(8), coP = a.i(9), dyStride = a.i(10), kh = a.i(11),
            kw = a.i(12), sh = a.i(13), sw = a.i(14);
  if (!a.ok) return nullptr;
  if (coP % chosen->lanes != 0 || dyStride > coP || sh < 1 || sw < 1 || (oh > 0 && (oh - 1) * sh + kh > h) || (ow > 0 && (ow - 1) * sw + kw > wd)) {
    a.fail("conv2dFilterGrad: inconsistent geometry");
    return nullptr;
  }
  const float* x = a.f(0, double(b) * h * wd * ci);
  // the last pixel's last vector reads coP − dyStride floats past dy (they reach only dw's padding)
  const float* dy = a.f(1, double(b) * oh * ow * dyStride + (coP - dyStride));
  float* dw = a.f(2, double(kh) * kw * ci * coP);
  if (!a.ok) return nullptr;
  if (b * oh * ow == 0) return undefinedValue(env);
  // one input channel, stride 1 along rows, a channel count that leaves lanes empty: pixels across
  // the lanes (dy has co = dyStride channels here: the caller pads it only near the memory's end)
  // (AVX2's 8 lanes on the AVX-512 path too: each lane sums its own pixels, so the lane count is the
  // order of the sum, and both paths must give the same bits; the channel path below sums in pixel order)
  const KernelSet* px = pixelSumSet();
  if (ci == 1 && sw == 1 && dyStride % px->lanes != 0 && dyStride < 3 * px->lanes) {
    bool ok = true;
    parallelRanges(long(kh) * ((kw + 2) / 3) * ((dyStride + 3) / 4), [&](long b0, long b1) {
      try {
        px->conv2dFilterGradPixelBlocks(x, dy, dw, b, h, wd, oh, ow, dyStride, coP, dyStride, kw, sh, int(b0), int(b1));
      } catch (const std::bad_alloc&) {
        ok = false;
      }
    }, double(b) * oh * ow * dyStride * kh * kw);
    if (!ok) {
      a.fail("conv2dFilterGrad: no memory for the per-image copies");
      return nullptr;
    }
    return undefinedValue(env);
  }
  const int rowLen = kw * ci;
  const KernelSet* ks = wideSet(coP);
  const int chanGroups = (coP + 3 * ks->lanes - 1) / (3 * ks->lanes);
  // whole kernel rows per block unless that leaves too few blocks to share between the threads
  int tapGroup = rowLen;
  while (tapGroup > 1 && long(kh) * chanGroups * ((rowLen + tapGroup - 1) / tapGroup) < 4L * pool->threads()) tapGroup = (tapGroup + 1) / 2;
  const long blocks = long(kh) * chanGroups * ((rowLen + tapGroup - 1) / tapGroup);
  parallelRanges(blocks, [&](long b0, long b1) {
    ks->conv2dFilterGradBlocks(x, dy, dw, b, h, wd, ci, oh, ow, coP, dyStride, kh, kw, sh, sw, tapGroup, int(b0), int(b1));
  }, double(b) * oh * ow * coP * kh * kw * ci);
  return undefinedValue(env);
}

// conv2dInputGrad(memory, dy, w, dx, b, h, wd, ci, oh, ow, co, kh, kw, sh, sw, top, left): the input
// gradient of a convolution (any stride and padding) per image as one matrix product and a col2im:
//   cols[pixel, (i, j, c)] = Σ_o dy[pixel, o] · w[i, j, c, o],  dx[pixel's tap (i, j)] += cols
// No product is spent on the zero padding a flipped-filter convolution of dy would read. Images are
// independent, and within one the additions come in a fixed order.
napi_value conv2dInputGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, 16);
  if (!a.ok) return nullptr;
  const int b = a.i(3), h = a.i(4), wd = a.i(5), ci = a.i(6), oh = a.i(7), ow = a.i(8), co = a.i(9), kh = a.i(10), kw = a.i(11), sh = a.i(12),
            sw = a.i(13), top = a.i(14), left = a.i(15);
  if (!a.ok) return nullptr;
  if (sh < 1 || sw < 1) {
    a.fail("conv2dInputGrad: strides below 1");
    return nullptr;
  }
  const float* dy = a.f(0, double(b) * oh * ow * co);
  const float* w = a.f(1, double(kh) * kw * ci * co);
  float* dx = a.f(2, double(b) * h * wd * ci);
  if (!a.ok) return nullptr;
  std::memset(dx, 0, sizeof(float) * std::size_t(b) * h * wd * ci);
  const int K = kh * kw * ci;
  const int pixels = oh * ow;
  if (K == 0 || pixels == 0 || co == 0) return undefinedValue(env);
  const KernelSet* ks = wideSet((K + wide->lanes - 1) / wide->lanes * wide->lanes);
  const int lanes = ks->lanes;
  const int Kp = (K + lanes - 1) / lanes * lanes;
  std::vector<float> packed;
  try {
    // wᵀ as [co, Kp]: the product's right operand, packed once
    packed.assign(std::size_t(co) * Kp, 0.0f);
  } catch (const std::bad_alloc&) {
    a.fail("conv2dInputGrad: no memory for the packed filter");
    return nullptr;
  }
  // wᵀ [co, K] is w [K, co] transposed: the product's right operand, in panels
  packedPanels(w, packed.data(), co, K, Kp, lanes, true);
  // images in groups of at least ~128 output pixels: one product per image of a small map (a ResNet's
  // 2×2 stage: 4 rows) streamed the whole packed filter once per image. Each row of the product, and
  // so each dx entry, is computed the same way whatever the grouping.
  const int group = std::max(1, 128 / pixels);
  const long groups = (long(b) + group - 1) / group;
  bool ok = true;
  parallelRanges(groups, [&](long g0, long g1) {
    std::vector<float> cols;
    try {
      cols.resize(std::size_t(pixels) * group * Kp);
    } catch (const std::bad_alloc&) {
      ok = false;
      return;
    }
    for (long g = g0; g < g1; g++) {
      const long nFirst = g * group;
      const long nEnd = std::min<long>(b, nFirst + group);
      const int rows = int((nEnd - nFirst) * pixels);
      ks->gemmRows(dy + std::size_t(nFirst) * pixels * co, packed.data(), cols.data(), rows, Kp, Kp, co, false, 0, rows, 0, nullptr);
      for (long n = nFirst; n < nEnd; n++) {
      float* dxn = dx + std::size_t(n) * h * wd * ci;
      for (int yy = 0; yy < oh; yy++)
        for (int xx = 0; xx < ow; xx++) {
          const float* cr = cols.data() + (std::size_t(n - nFirst) * pixels + std::size_t(yy * ow + xx)) * Kp;
          for (int i = 0; i < kh; i++) {
            const int row = yy * sh + i - top;
            if (row < 0 || row >= h) continue;
            for (int j = 0; j < kw; j++) {
              const int col = xx * sw + j - left;
              if (col < 0 || col >= wd) continue;
              float* d = dxn + (std::size_t(row) * wd + col) * ci;
              const float* c = cr + std::size_t(i * kw + j) * ci;
              for (int q = 0; q < ci; q++) d[q] += c[q];
            }
          }
        }
      }
    }
  }, double(b) * pixels * Kp * co);
  if (!ok) {
    a.fail("conv2dInputGrad: no memory for the per-image columns");
    return nullptr;
  }
  return undefinedValue(env);
}

// padNHWC(memory, src, dst, b, h, w, c, hp, wp, cp, top, left)
napi_value padNHWC(napi_env env, napi_callback_info info) {
  Args a(env, info, 11);
  if (!a.ok) return nullptr;
  const int b = a.i(2), h = a.i(3), w = a.i(4), c = a.i(5), hp = a.i(6), wp = a.i(7), cp = a.i(8), top = a.i(9), left = a.i(10);
  if (!a.ok) return nullptr;
  if (h + top > hp || w + left > wp || c > cp) {
    a.fail("padNHWC: the source does not fit its destination");
    return nullptr;
  }
  const float* src = a.f(0, double(b) * h * w * c);
  float* dst = a.f(1, double(b) * hp * wp * cp);
  if (!a.ok) return nullptr;
  std::memset(dst, 0, sizeof(float) * std::size_t(b) * hp * wp * cp);
  for (int n = 0; n < b; n++)
    for (int r = 0; r < h; r++) {
      const float* s = src + (std::size_t(n) * h + r) * w * c;
      float* d = dst + ((std::size_t(n) * hp + r + top) * wp + left) * cp;
      if (cp == c) std::memcpy(d, s, sizeof(float) * std::size_t(w) * c);
      else
        for (int q = 0; q < w; q++) std::memcpy(d + std::size_t(q) * cp, s + std::size_t(q) * c, sizeof(float) * c);
    }
  return undefinedValue(env);
}

// flipFilter(memory, w, dst, kh, kw, ci, co, ciP): dst[kh−1−i, kw−1−j, o, c] = w[i, j, c, o]
napi_value flipFilter(napi_env env, napi_callback_info info) {
  Args a(env, info, 7);
  if (!a.ok) return nullptr;
  const int kh = a.i(2), kw = a.i(3), ci = a.i(4), co = a.i(5), ciP = a.i(6);
  if (!a.ok) return nullptr;
  if (ci > ciP) {
    a.fail("flipFilter: ciP < ci");
    return nullptr;
  }
  const float* w = a.f(0, double(kh) * kw * ci * co);
  float* dst = a.f(1, double(kh) * kw * co * ciP);
  if (!a.ok) return nullptr;
  std::memset(dst, 0, sizeof(float) * std::size_t(kh) * kw * co * ciP);
  // each tap's [ci, co] block transposed in 32×32 tiles: element by element, every write of a wide
  // layer's filter (512 channels: rows 2 KiB apart) touched a new cache line (40 ms for resnet18's last stage)
  constexpr int T = 32;
  for (int i = 0; i < kh; i++)
    for (int j = 0; j < kw; j++) {
      const float* src = w + (std::size_t(i) * kw + j) * ci * co;
      float* d = dst + (std::size_t(kh - 1 - i) * kw + (kw - 1 - j)) * co * ciP;
      for (int c0 = 0; c0 < ci; c0 += T)
        for (int o0 = 0; o0 < co; o0 += T) {
          const int c1 = std::min(ci, c0 + T), o1 = std::min(co, o0 + T);
          for (int c = c0; c < c1; c++)
            for (int o = o0; o < o1; o++) d[std::size_t(o) * ciP + c] = src[std::size_t(c) * co + o];
        }
    }
  return undefinedValue(env);
}

// padColumns(memory, src, dst, rows, c, cp) / cropColumns(memory, src, dst, rows, c, cp)
napi_value columnsCopy(napi_env env, napi_callback_info info, bool pad) {
  Args a(env, info, 5);
  if (!a.ok) return nullptr;
  const int rows = a.i(2), c = a.i(3), cp = a.i(4);
  if (!a.ok) return nullptr;
  if (c > cp) {
    a.fail("padColumns/cropColumns: cp < c");
    return nullptr;
  }
  const float* src = a.f(0, double(rows) * (pad ? c : cp));
  float* dst = a.f(1, double(rows) * (pad ? cp : c));
  if (!a.ok) return nullptr;
  for (int r = 0; r < rows; r++) {
    if (pad) {
      std::memcpy(dst + std::size_t(r) * cp, src + std::size_t(r) * c, sizeof(float) * c);
      std::memset(dst + std::size_t(r) * cp + c, 0, sizeof(float) * (cp - c));
    } else {
      std::memcpy(dst + std::size_t(r) * c, src + std::size_t(r) * cp, sizeof(float) * c);
    }
  }
  return undefinedValue(env);
}
napi_value padColumns(napi_env env, napi_callback_info info) { return columnsCopy(env, info, true); }
napi_value cropColumns(napi_env env, napi_callback_info info) { return columnsCopy(env, info, false); }

// maxPoolGrad(memory, x, dy, dx, b, h, w, c, oh, ow, fh, fw, sh, sw, top, left): each dy entry goes to
// the first maximum of its window (windows clipped at the borders); images are independent (kernels-impl.h)
napi_value maxPoolGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, 15);
  if (!a.ok) return nullptr;
  const int b = a.i(3), h = a.i(4), w = a.i(5), c = a.i(6), oh = a.i(7), ow = a.i(8), fh = a.i(9), fw = a.i(10), sh = a.i(11), sw = a.i(12),
            top = a.i(13), left = a.i(14);
  if (!a.ok) return nullptr;
  const float* x = a.f(0, double(b) * h * w * c);
  const float* dy = a.f(1, double(b) * oh * ow * c);
  float* dx = a.f(2, double(b) * h * w * c);
  if (!a.ok) return nullptr;
  parallelRanges(b, [&](long n0, long n1) {
    std::memset(dx + std::size_t(n0) * h * w * c, 0, sizeof(float) * std::size_t(n1 - n0) * h * w * c);
    wide->maxPoolGradImages(x, dy, dx, h, w, c, oh, ow, fh, fw, sh, sw, top, left, int(n0), int(n1));
  }, double(b) * oh * ow * c * fh * fw);
  return undefinedValue(env);
}

// maxPool(memory, x, y, b, h, w, c, oh, ow, fh, fw, sh, sw, top, left)
napi_value maxPool(napi_env env, napi_callback_info info) {
  Args a(env, info, 14);
  if (!a.ok) return nullptr;
  const int b = a.i(2), h = a.i(3), w = a.i(4), c = a.i(5), oh = a.i(6), ow = a.i(7), fh = a.i(8), fw = a.i(9), sh = a.i(10), sw = a.i(11),
            top = a.i(12), left = a.i(13);
  if (!a.ok) return nullptr;
  if (sh < 1 || sw < 1) {
    a.fail("maxPool: strides below 1");
    return nullptr;
  }
  const float* x = a.f(0, double(b) * h * w * c);
  float* y = a.f(1, double(b) * oh * ow * c);
  if (!a.ok) return nullptr;
  parallelRanges(b, [&](long n0, long n1) { chosen->maxPoolImages(x, y, h, w, c, oh, ow, fh, fw, sh, sw, top, left, int(n0), int(n1)); },
                 double(b) * oh * ow * c * fh * fw);
  return undefinedValue(env);
}

// maxPoolGrad2x2(memory, x, dy, dx, b, h, w, c, oh, ow)
napi_value maxPoolGrad2x2(napi_env env, napi_callback_info info) {
  Args a(env, info, 9);
  if (!a.ok) return nullptr;
  const int b = a.i(3), h = a.i(4), w = a.i(5), c = a.i(6), oh = a.i(7), ow = a.i(8);
  if (!a.ok) return nullptr;
  if (2 * oh > h || 2 * ow > w) {
    a.fail("maxPoolGrad2x2: output larger than the input allows");
    return nullptr;
  }
  const float* x = a.f(0, double(b) * h * w * c);
  const float* dy = a.f(1, double(b) * oh * ow * c);
  float* dx = a.f(2, double(b) * h * w * c);
  if (!a.ok) return nullptr;
  if (h != 2 * oh || w != 2 * ow) std::memset(dx, 0, sizeof(float) * std::size_t(b) * h * w * c);
  parallelRanges(b, [&](long n0, long n1) { chosen->maxPoolGrad2x2Images(x, dy, dx, h, w, c, oh, ow, int(n0), int(n1)); }, 4.0 * b * h * w * c);
  return undefinedValue(env);
}

// columnSums(memory, x, out, rows, cols)
napi_value columnSums(napi_env env, napi_callback_info info) {
  Args a(env, info, 4);
  if (!a.ok) return nullptr;
  const int rows = a.i(2), cols = a.i(3);
  if (!a.ok) return nullptr;
  const float* x = a.f(0, double(rows) * cols);
  float* out = a.f(1, cols);
  if (!a.ok) return nullptr;
  const int lanes = chosen->lanes;
  const long groups = (cols + lanes - 1) / lanes;
  parallelRanges(groups, [&](long g0, long g1) { chosen->columnSumsRange(x, out, rows, cols, int(g0 * lanes), int(std::min<long>(cols, g1 * lanes))); }, double(rows) * cols);
  return undefinedValue(env);
}

/**
 * out[c] = Σ_r term(r·cols + c, r, c) in double, rows in order, each column on one thread (columns in
 * groups of 16 split between the threads): a result that depends on neither the thread count nor the ISA.
 */
template <typename F>
void columnTotals(int rows, int cols, float* out, double work, F&& term) {
  parallelRanges((cols + 15) / 16, [&](long g0, long g1) {
    const int c0 = int(g0 * 16), c1 = int(std::min<long>(cols, g1 * 16));
    std::vector<double> acc(std::size_t(c1 - c0), 0.0);
    for (int r = 0; r < rows; r++) {
      const std::size_t row = std::size_t(r) * cols;
      for (int c = c0; c < c1; c++) acc[c - c0] += term(row + c, r, c);
    }
    for (int c = c0; c < c1; c++) out[c] = float(acc[c - c0]);
  }, work);
}

// columnMoments(memory, a, ca, b, cb, out, rows, cols): out[c] = Σ_r (a[r, c] − ca[c]) · (b[r, c] − cb[c]), rows in
// order, in double, each column on one thread (BatchNormalization's variance, and its gradient's Σ dy·(x − mean))
napi_value columnMoments(napi_env env, napi_callback_info info) {
  Args a(env, info, 7);
  if (!a.ok) return nullptr;
  const int rows = a.i(5), cols = a.i(6);
  if (!a.ok) return nullptr;
  const float* x = a.f(0, double(rows) * cols);
  const float* cx = a.f(1, cols);
  const float* y = a.f(2, double(rows) * cols);
  const float* cy = a.f(3, cols);
  float* out = a.f(4, cols);
  if (!a.ok) return nullptr;
  // columns in one contiguous range per thread, so that each reads whole cache lines of every row
  parallelRanges(cols, [&](long c0, long c1) { wide->columnMomentsRange(x, cx, y, cy, out, rows, cols, int(c0), int(c1)); }, 2.0 * rows * cols);
  return undefinedValue(env);
}

// channelAffine(memory, a, ca, s, b, cb, t, u, out, rows, cols): out[r, c] = (a[r, c] − ca[c])·s[c] + (b[r, c] − cb[c])·t[c]
// + u[c], the b term left out when b is 0: BatchNormalization's normalisation and its input gradient, each in one
// pass, centred before scaling (x·s − mean·s would cancel when the mean is large against the spread)
napi_value channelAffine(napi_env env, napi_callback_info info) {
  Args a(env, info, 10);
  if (!a.ok) return nullptr;
  const int rows = a.i(8), cols = a.i(9);
  if (!a.ok) return nullptr;
  const float* x = a.f(0, double(rows) * cols);
  const float* cx = a.f(1, cols);
  const float* s = a.f(2, cols);
  const bool two = a.values[3] != 0;
  const float* y = two ? a.f(3, double(rows) * cols) : nullptr;
  const float* cy = two ? a.f(4, cols) : nullptr;
  const float* t = two ? a.f(5, cols) : nullptr;
  const float* u = a.f(6, cols);
  float* out = a.f(7, double(rows) * cols);
  if (!a.ok) return nullptr;
  parallelRanges(rows, [&](long r0, long r1) { wide->channelAffineRows(x, cx, s, y, cy, t, u, out, cols, r0, r1); }, 3.0 * rows * cols);
  return undefinedValue(env);
}

// rowSums(memory, x, out, rows, cols, mean): out[r] = Σ_c x[r, c] (divided by cols when mean is 1): a
// reduction over the trailing axes (LayerNormalization's moments and their gradients, softmax's
// gradient), which tfjs-wasm 4.22 runs at ~1 ns a value. In double, four partial sums in a fixed order
// per row and each row on one thread, so the result depends on neither the thread count nor the ISA.
napi_value rowSums(napi_env env, napi_callback_info info) {
  Args a(env, info, 5);
  if (!a.ok) return nullptr;
  const int rows = a.i(2), cols = a.i(3), mean = a.i(4);
  if (!a.ok) return nullptr;
  if (mean > 1) {
    a.fail("rowSums: mean is 0 or 1");
    return nullptr;
  }
  const float* x = a.f(0, double(rows) * cols);
  float* out = a.f(1, rows);
  if (!a.ok) return nullptr;
  parallelRanges(rows, [&](long r0, long r1) {
    for (long r = r0; r < r1; r++) {
      const float* xr = x + std::size_t(r) * cols;
      const double total = rowTotal(cols, [&](int c) { return double(xr[c]); });
      out[r] = float(mean && cols > 0 ? total / cols : total);
    }
  }, double(rows) * cols);
  return undefinedValue(env);
}

// ---- LayerNormalization over the last axis (src/backend/wasm/layer-norm.ts) ----------------------
// Rows are split between threads and each row's sums run in a fixed order (four partial sums in double,
// as rowSums), columns likewise for the parameter gradient: no result depends on the thread count.

// rowMoments(memory, x, mean, variance, rows, cols): each row's mean and biased variance (centred, in double).
// The mean as two floats, mean[r] + mean[rows + r] (its rounding error kept): a row whose mean is
// thousands of times its spread is then centred as exactly as in double.
napi_value rowMoments(napi_env env, napi_callback_info info) {
  Args a(env, info, 5);
  if (!a.ok) return nullptr;
  const int rows = a.i(3), cols = a.i(4);
  if (!a.ok) return nullptr;
  if (cols < 1) {
    a.fail("rowMoments: rows of no values");
    return nullptr;
  }
  const float* x = a.f(0, double(rows) * cols);
  float* mean = a.f(1, 2.0 * rows);
  float* variance = a.f(2, rows);
  if (!a.ok) return nullptr;
  const KernelSet* ks = wideSet(cols);
  parallelRanges(rows, [&](long r0, long r1) { ks->rowMomentsRows(x, mean, variance, rows, cols, r0, r1); }, 3.0 * rows * cols);
  return undefinedValue(env);
}

// rowAffine(memory, x, mean, rstd, gamma, beta, out, rows, cols): out[r, c] = (x[r, c] − mean)·rstd[r]·γ[c] + β[c], the
// mean as rowMoments gives it (two floats, subtracted one after the other)
napi_value rowAffine(napi_env env, napi_callback_info info) {
  Args a(env, info, 8);
  if (!a.ok) return nullptr;
  const int rows = a.i(6), cols = a.i(7);
  if (!a.ok) return nullptr;
  const float* x = a.f(0, double(rows) * cols);
  const float* mean = a.f(1, 2.0 * rows);
  const float* rstd = a.f(2, rows);
  const float* gamma = a.f(3, cols);
  const float* beta = a.f(4, cols);
  float* out = a.f(5, double(rows) * cols);
  if (!a.ok) return nullptr;
  const KernelSet* ks = wideSet(cols);
  parallelRanges(rows, [&](long r0, long r1) { ks->rowAffineRows(x, mean, rstd, gamma, beta, out, rows, cols, r0, r1); }, 3.0 * rows * cols);
  return undefinedValue(env);
}

// layerNormGrad(memory, x, dy, mean, rstd, gamma, dx, rows, cols): with x̂ = (x − mean)·rstd and g = dy·γ,
// dx = rstd·(g − Σg/C − x̂·Σ(g·x̂)/C) per row (the closed form; the sums in double)
napi_value layerNormGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, 8);
  if (!a.ok) return nullptr;
  const int rows = a.i(6), cols = a.i(7);
  if (!a.ok) return nullptr;
  if (cols < 1) {
    a.fail("layerNormGrad: rows of no values");
    return nullptr;
  }
  const float* x = a.f(0, double(rows) * cols);
  const float* dy = a.f(1, double(rows) * cols);
  const float* mean = a.f(2, 2.0 * rows);
  const float* rstd = a.f(3, rows);
  const float* gamma = a.f(4, cols);
  float* dx = a.f(5, double(rows) * cols);
  if (!a.ok) return nullptr;
  const KernelSet* ks = wideSet(cols);
  parallelRanges(rows, [&](long r0, long r1) { ks->layerNormGradRows(x, dy, mean, rstd, gamma, dx, rows, cols, r0, r1); }, 6.0 * rows * cols);
  return undefinedValue(env);
}

// normalizedColumnSums(memory, x, dy, mean, rstd, out, rows, cols): out[c] = Σ_r dy[r, c]·(x[r, c] − mean[r])·rstd[r],
// rows in order, in double, each column on one thread (LayerNormalization's γ gradient)
napi_value normalizedColumnSums(napi_env env, napi_callback_info info) {
  Args a(env, info, 7);
  if (!a.ok) return nullptr;
  const int rows = a.i(5), cols = a.i(6);
  if (!a.ok) return nullptr;
  const float* x = a.f(0, double(rows) * cols);
  const float* dy = a.f(1, double(rows) * cols);
  const float* mean = a.f(2, 2.0 * rows);
  const float* rstd = a.f(3, rows);
  float* out = a.f(4, cols);
  if (!a.ok) return nullptr;
  columnTotals(rows, cols, out, 3.0 * rows * cols, [&](std::size_t i, int r, int) {
    return double(dy[i]) * ((double(x[i]) - (double(mean[r]) + double(mean[rows + r]))) * double(rstd[r]));
  });
  return undefinedValue(env);
}

/** A float from its 32 bits, passed as an integer (Args takes non-negative integers only). */
bool floatFromBits(Args& a, std::size_t k, float* out) {
  if (a.values[k] >= 4294967296.0) {
    a.fail("argument " + std::to_string(k + 1) + " is not a float's 32 bits");
    return false;
  }
  const std::uint32_t bits = static_cast<std::uint32_t>(a.values[k]);
  std::memcpy(out, &bits, sizeof *out);
  return true;
}

// copyGrid(memory, src, dst, outer, rows, chunk, srcOuter, srcRow, dstOuter, dstRow, dstOffset, fillBits, fillCount): runs
// of `chunk` floats on a two-level grid, dst[dstOffset + o·dstOuter + r·dstRow + i] = src[o·srcOuter + r·srcRow + i],
// after dst[0 … fillCount) is set to the float whose bits are fillBits. A Slice that narrows up to two groups of
// axes (a padded map's crop: the gradient of a pad), and a constant Pad (the map copied into the interior of
// a filled one), which tfjs-wasm 4.22 runs on one thread, slowly for maps with few channels. A copy: the
// thread count changes nothing.
napi_value copyGrid(napi_env env, napi_callback_info info) {
  Args a(env, info, 12);
  if (!a.ok) return nullptr;
  const int outer = a.i(2), rows = a.i(3), chunk = a.i(4), srcOuter = a.i(5), srcRow = a.i(6), dstOuter = a.i(7), dstRow = a.i(8);
  const double dstOffset = a.values[9], fillCount = a.values[11];
  float value = 0;
  if (!a.ok || !floatFromBits(a, 10, &value)) return nullptr;
  const bool empty = outer == 0 || rows == 0 || chunk == 0;
  const float* src = empty ? nullptr : a.f(0, double(outer - 1) * srcOuter + double(rows - 1) * srcRow + chunk);
  float* dst = a.f(1, std::max(fillCount, empty ? 0.0 : dstOffset + double(outer - 1) * dstOuter + double(rows - 1) * dstRow + chunk));
  if (!a.ok) return nullptr;
  if (fillCount > 0) {
    parallelRanges(long(fillCount), [&](long i0, long i1) { std::fill(dst + i0, dst + i1, value); }, fillCount);
  }
  if (empty) return undefinedValue(env);
  parallelRanges(long(outer) * rows, [&](long t0, long t1) {
    for (long t = t0; t < t1; t++) {
      const std::size_t o = std::size_t(t / rows), r = std::size_t(t % rows);
      std::memcpy(dst + std::size_t(dstOffset) + o * dstOuter + r * dstRow, src + o * srcOuter + r * srcRow, sizeof(float) * std::size_t(chunk));
    }
  }, double(outer) * rows * chunk);
  return undefinedValue(env);
}

// addBias(memory, x, bias, out, rows, cols)
napi_value addBias(napi_env env, napi_callback_info info) {
  Args a(env, info, 5);
  if (!a.ok) return nullptr;
  const int rows = a.i(3), cols = a.i(4);
  if (!a.ok) return nullptr;
  const float* x = a.f(0, double(rows) * cols);
  const float* bias = a.f(1, cols);
  float* out = a.f(2, double(rows) * cols);
  if (!a.ok) return nullptr;
  parallelRanges(rows, [&](long r0, long r1) { chosen->addBiasRows(x, bias, out, cols, int(r0), int(r1)); }, 2.0 * rows * cols);
  return undefinedValue(env);
}

// matMul(memory, a, b, c, batchA, batchB, M, N, K, transA, transB, bias): c[q] = op(a[q])·op(b[q]) (+ bias [N]
// where bias is not 0, added to each finished entry: a dense layer in one pass) for q < max(batchA, batchB),
// a batch of 1 broadcast; a [M, K] or [K, M], b [K, N] or [N, K], c [M, N]
napi_value matMul(napi_env env, napi_callback_info info) {
  Args a(env, info, 11);
  if (!a.ok) return nullptr;
  const int batchA = a.i(3), batchB = a.i(4), M = a.i(5), N = a.i(6), K = a.i(7), transA = a.i(8), transB = a.i(9);
  if (!a.ok) return nullptr;
  const int batch = std::max(batchA, batchB);
  if (batchA < 1 || batchB < 1 || (batchA != batch && batchA != 1) || (batchB != batch && batchB != 1) || transA > 1 || transB > 1) {
    a.fail("matMul: batch sizes that do not broadcast");
    return nullptr;
  }
  const float* A = a.f(0, double(batchA) * M * K);
  const float* B = a.f(1, double(batchB) * K * N);
  float* C = a.f(2, double(batch) * M * N);
  const float* bias = a.values[10] != 0 ? a.f(10, N) : nullptr;
  if (!a.ok) return nullptr;
  if (M == 0 || N == 0) return undefinedValue(env);
  const KernelSet* ks = wideSet((N + wide->lanes - 1) / wide->lanes * wide->lanes);
  const int lanes = ks->lanes;
  const int Np = (N + lanes - 1) / lanes * lanes;
  // Rows in tasks of 16, each streaming all of B past its block of A. A B larger than the L2 cache (a
  // weight gradient's, K = the batch's rows) would then come from L3 once per 16 rows: there, tasks of
  // up to 256 rows, one or a few per thread, read each k-block of a panel once for all their rows.
  // A row's sums run over the same k in the same order either way.
  const bool largeB = double(K) * Np * sizeof(float) > 1048576.0;
  // A batch of small products (attention's 65 × 65 per head and image) takes each product whole: its
  // row blocks then balance (65 rows: 8 + 8 + 7 × 7, not 4 × 16 and a block of 1).
  const int taskRows = largeB ? std::min(256, std::max(16, int((M + 8L * pool->threads() - 1) / (8L * pool->threads())) * 8))
                       : batch >= 2 * pool->threads() && M <= 128 ? M
                       : 16;
  // Such a B, untransposed and a whole number of vectors wide, is read as it lies: packing it (13 MB
  // for a ViT's [4160, 768]) cost a quarter of the product, and the tasks' k-blocks reuse it anyway.
  // Otherwise B is packed as [K, Np] per batch (transposed when transB): whole vectors, no reads past
  // its end, into this calling thread's scratch, kept between calls (no page faults, no clearing).
  const bool asItLies = largeB && transB == 0 && N == Np;
  thread_local std::vector<float> scratch;
  const std::size_t packedSize = asItLies ? 0 : std::size_t(batchB) * K * Np;
  try {
    if (scratch.size() < packedSize) scratch.resize(packedSize);
  } catch (const std::bad_alloc&) {
    a.fail("matMul: no memory for the packed operand");
    return nullptr;
  }
  // the calling thread's buffer, taken here: inside a helper thread `scratch` names that thread's own
  float* const scratchData = scratch.data();
  const float* packed = asItLies ? B : scratchData;
  if (!asItLies) {
    // in chunks of 64 rows of every batch, split between the threads (a copy: the result is the same)
    const long chunks = (K + 63) / 64;
    parallelRanges(long(batchB) * chunks, [&](long c0, long c1) {
      for (long c = c0; c < c1; c++) {
        const int q = int(c / chunks);
        const int k0 = int(c % chunks) * 64;
        packedPanels(B + std::size_t(q) * K * N, scratchData + std::size_t(q) * K * Np, K, N, Np, lanes, transB != 0, k0, std::min(K, k0 + 64));
      }
    }, double(packedSize));
  }
  const long rowBlocks = (M + taskRows - 1) / taskRows;
  parallelRanges(long(batch) * rowBlocks, [&](long t0, long t1) {
    for (long t = t0; t < t1; t++) {
      const int q = int(t / rowBlocks);
      const int i0 = int(t % rowBlocks) * taskRows;
      const int i1 = std::min(M, i0 + taskRows);
      ks->gemmRows(A + std::size_t(batchA == 1 ? 0 : q) * M * K, packed + std::size_t(batchB == 1 ? 0 : q) * K * Np, C + std::size_t(q) * M * N, M, N,
                       Np, K, transA != 0, i0, i1, asItLies ? N : 0, bias);
    }
  }, double(batch) * M * Np * K / 16.0);  // compute-bound: helpers pay only on large products
  return undefinedValue(env);
}

/**
 * The heads' operands of attention/attentionGrad: q, k, v at byte offsets arguments 0–2 and their row
 * strides; each must hold batch·T rows of H·D values, rows at least H·D apart.
 */
bool headOperands(Args& a, int batch, int T, int H, int D, int qs, int ks, int vs, HeadOperands* o) {
  const double rows = double(batch) * T;
  if (qs < H * D || ks < H * D || vs < H * D) {
    a.fail("attention: rows narrower than heads × head width");
    return false;
  }
  o->q = a.f(0, (rows - 1) * qs + double(H) * D);
  o->k = a.f(1, (rows - 1) * ks + double(H) * D);
  o->v = a.f(2, (rows - 1) * vs + double(H) * D);
  o->qs = qs;
  o->ks = ks;
  o->vs = vs;
  return a.ok;
}

const KernelSet* attentionSet(int T, int D) { return wideSet((std::max(T, D) + wide->lanes - 1) / wide->lanes * wide->lanes); }

// attention(memory, q, k, v, out, p, batch, H, T, D, qs, ks, vs, os, scaleBits): per image and head,
// P = softmax(scale·Q·Kᵀ) into p [batch, H, T, T] and O = P·V into out (rows os apart, head n at n·D),
// Q, K, V being [T, D] slices of rows qs, ks, vs apart (head n at n·D): a transformer's attention
// read in place from its projection, without the split, transposes and merge its ops take.
napi_value attention(napi_env env, napi_callback_info info) {
  Args a(env, info, 14);
  if (!a.ok) return nullptr;
  const int batch = a.i(5), H = a.i(6), T = a.i(7), D = a.i(8), qs = a.i(9), ks = a.i(10), vs = a.i(11), os = a.i(12);
  float scale = 0;
  if (!a.ok || !floatFromBits(a, 13, &scale)) return nullptr;
  if (batch * H * T * D == 0) return undefinedValue(env);
  HeadOperands o{};
  if (!headOperands(a, batch, T, H, D, qs, ks, vs, &o)) return nullptr;
  if (os < H * D) {
    a.fail("attention: output rows narrower than heads × head width");
    return nullptr;
  }
  float* out = a.f(3, (double(batch) * T - 1) * os + double(H) * D);
  float* p = a.f(4, double(batch) * H * T * T);
  if (!a.ok) return nullptr;
  const KernelSet* ks2 = attentionSet(T, D);
  parallelRanges(long(batch) * H, [&](long h0, long h1) { ks2->attentionHeads(o, out, os, p, T, D, H, scale, int(h0), int(h1)); },
                 4.0 * batch * H * T * T * D);
  return undefinedValue(env);
}

// attentionGrad(memory, q, k, v, dout, p, dq, dk, dv, batch, H, T, D, qs, ks, vs, os, dqs, dks, dvs, scaleBits): the
// gradient of attention for its output's gradient dout (rows os apart) and its P, written into each head's
// place in dq, dk, dv (rows dqs, dks, dvs apart); their other values are left as they are.
napi_value attentionGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, 20);
  if (!a.ok) return nullptr;
  const int batch = a.i(8), H = a.i(9), T = a.i(10), D = a.i(11), qs = a.i(12), ks = a.i(13), vs = a.i(14), os = a.i(15), dqs = a.i(16),
            dks = a.i(17), dvs = a.i(18);
  float scale = 0;
  if (!a.ok || !floatFromBits(a, 19, &scale)) return nullptr;
  if (batch * H * T * D == 0) return undefinedValue(env);
  HeadOperands o{};
  if (!headOperands(a, batch, T, H, D, qs, ks, vs, &o)) return nullptr;
  if (os < H * D || dqs < H * D || dks < H * D || dvs < H * D) {
    a.fail("attentionGrad: rows narrower than heads × head width");
    return nullptr;
  }
  const double rows = double(batch) * T - 1;
  const float* dout = a.f(3, rows * os + double(H) * D);
  const float* p = a.f(4, double(batch) * H * T * T);
  float* dq = a.f(5, rows * dqs + double(H) * D);
  float* dk = a.f(6, rows * dks + double(H) * D);
  float* dv = a.f(7, rows * dvs + double(H) * D);
  if (!a.ok) return nullptr;
  const KernelSet* ks2 = attentionSet(T, D);
  parallelRanges(long(batch) * H, [&](long h0, long h1) {
    ks2->attentionGradHeads(o, dout, os, p, dq, dqs, dk, dks, dv, dvs, T, D, H, scale, int(h0), int(h1));
  }, 8.0 * batch * H * T * T * D);
  return undefinedValue(env);
}

// channelBinary(memory, x, v, out, rows, cols, op, perRow): out[r, c] = x[r, c] ∘ v[c] (or ∘ v[r] when
// perRow: LayerNormalization's per-sample moments) with ∘ one of
// 0 x + v, 1 x − v, 2 v − x, 3 x · v, 4 x / v, 5 v / x: the broadcasts of a per-channel vector that
// BatchNormalization and bias layers make (tfjs-wasm 4.22 runs them through a generic slow loop).
// One IEEE operation per element, so the values are those of any other backend.
napi_value channelBinary(napi_env env, napi_callback_info info) {
  Args a(env, info, 7);
  if (!a.ok) return nullptr;
  const int rows = a.i(3), cols = a.i(4), op = a.i(5), perRow = a.i(6);
  if (!a.ok) return nullptr;
  if (op > 5 || perRow > 1) {
    a.fail("channelBinary: unknown operation");
    return nullptr;
  }
  const float* x = a.f(0, double(rows) * cols);
  const float* vAll = a.f(1, perRow ? rows : cols);
  float* out = a.f(2, double(rows) * cols);
  if (!a.ok) return nullptr;
  parallelRanges(rows, [&](long r0, long r1) {
    std::vector<float> rowValue(perRow ? cols : 0);
    for (long r = r0; r < r1; r++) {
      const float* xr = x + std::size_t(r) * cols;
      float* o = out + std::size_t(r) * cols;
      // per row: the row's one value repeated, so that the loops below stay the same
      if (perRow) std::fill(rowValue.begin(), rowValue.end(), vAll[r]);
      const float* v = perRow ? rowValue.data() : vAll;
      switch (op) {
        case 0: for (int c = 0; c < cols; c++) o[c] = xr[c] + v[c]; break;
        case 1: for (int c = 0; c < cols; c++) o[c] = xr[c] - v[c]; break;
        case 2: for (int c = 0; c < cols; c++) o[c] = v[c] - xr[c]; break;
        case 3: for (int c = 0; c < cols; c++) o[c] = xr[c] * v[c]; break;
        case 4: for (int c = 0; c < cols; c++) o[c] = xr[c] / v[c]; break;
        default: for (int c = 0; c < cols; c++) o[c] = v[c] / xr[c]; break;
      }
    }
  }, double(rows) * cols);
  return undefinedValue(env);
}

// elementwise(memory, a, b, out, n, op): out[i] = a[i] ∘ b[i] for two tensors of one shape, with ∘ as
// channelBinary's codes 0 a + b, 1 a − b, 3 a · b, 4 a / b; or a unary op of a (b unused): 6 relu
// max(a, 0) (−0 gives +0 and NaN stays NaN, as on the cpu backend), 7 step (1 where a > 0, else 0; NaN stays NaN), 8 a². The memory-bound ops
// of a normalised network's step, split between the threads (tfjs-wasm runs them on one).
napi_value elementwise(napi_env env, napi_callback_info info) {
  Args a(env, info, 5);
  if (!a.ok) return nullptr;
  const int op = a.i(4);
  const double n = a.values[3];
  if (!a.ok) return nullptr;
  if (op != 0 && op != 1 && op != 3 && op != 4 && op != 6 && op != 7 && op != 8) {
    a.fail("elementwise: unknown operation");
    return nullptr;
  }
  const bool unary = op >= 6;
  const float* x = a.f(0, n);
  const float* y = unary ? nullptr : a.f(1, n);
  float* out = a.f(2, n);
  if (!a.ok) return nullptr;
  parallelRanges(long(n), [&](long i0, long i1) {
    switch (op) {
      case 0: for (long i = i0; i < i1; i++) out[i] = x[i] + y[i]; break;
      case 1: for (long i = i0; i < i1; i++) out[i] = x[i] - y[i]; break;
      case 3: for (long i = i0; i < i1; i++) out[i] = x[i] * y[i]; break;
      case 4: for (long i = i0; i < i1; i++) out[i] = x[i] / y[i]; break;
      case 6: for (long i = i0; i < i1; i++) out[i] = x[i] > 0.0f ? x[i] : (x[i] != x[i] ? x[i] : 0.0f); break;
      case 7: for (long i = i0; i < i1; i++) out[i] = x[i] > 0.0f ? 1.0f : (x[i] != x[i] ? x[i] : 0.0f); break;
      default: for (long i = i0; i < i1; i++) out[i] = x[i] * x[i]; break;
    }
  }, 4.0 * n);
  return undefinedValue(env);
}

// unaryMath(memory, x, dy, out, n, op): out[i] = e^x[i] (op 0), erf(x[i]) (op 1), GELU(x[i]) (op 2), or
// dy[i]·GELU′(x[i]) (op 3; dy is read by op 3 only), vectorised: tfjs-wasm 4.22 runs exp and erf through
// scalar libm calls, and a ViT's erf GELU with its gradient took a fifth of its step in them and ~15
// more passes over its widest activations. Each element on its own, so the thread count changes
// nothing; the widest vectors the CPU has.
napi_value unaryMath(napi_env env, napi_callback_info info) {
  Args a(env, info, 5);
  if (!a.ok) return nullptr;
  const int op = a.i(4);
  const double n = a.values[3];
  if (!a.ok) return nullptr;
  if (op > 3) {
    a.fail("unaryMath: unknown operation");
    return nullptr;
  }
  const float* x = a.f(0, n);
  const float* dy = op == 3 ? a.f(1, n) : nullptr;
  float* out = a.f(2, n);
  if (!a.ok) return nullptr;
  parallelRanges(long(n), [&](long i0, long i1) { wide->unaryMathRange(x, dy, out, i0, i1, op); }, 16.0 * n);
  return undefinedValue(env);
}

// adam(p, g, m, v, np, nm, nv, [b1, b2, c1, c2, lr, eps, weightDecay]): one fused Adam step over
// Float32Arrays, per element in double precision exactly as the TypeScript loop it replaces
// (src/train/optimizer/fused-host-adam.ts): with contraction off, every operation rounds the same,
// so checkpoints stay bit-identical. Elements are independent: split between the threads.
napi_value adam(napi_env env, napi_callback_info info) {
  std::size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  float* arrays[7];
  std::size_t lengths[7];
  for (int k = 0; k < 7; k++) {
    bool isTyped = false;
    napi_typedarray_type type;
    void* data = nullptr;
    napi_value buffer;
    std::size_t offset = 0;
    if (argc != 8 || napi_is_typedarray(env, argv[k], &isTyped) != napi_ok || !isTyped ||
        napi_get_typedarray_info(env, argv[k], &type, &lengths[k], &data, &buffer, &offset) != napi_ok || type != napi_float32_array) {
      napi_throw_type_error(env, nullptr, "native kernel: adam takes 7 Float32Arrays and the hyper-parameters");
      return nullptr;
    }
    arrays[k] = static_cast<float*>(data);
  }
  for (int k = 1; k < 7; k++)
    if (lengths[k] != lengths[0]) {
      napi_throw_range_error(env, nullptr, "native kernel: adam's arrays differ in length");
      return nullptr;
    }
  double h[7];
  for (int k = 0; k < 7; k++) {
    napi_value e;
    if (napi_get_element(env, argv[7], k, &e) != napi_ok || napi_get_value_double(env, e, &h[k]) != napi_ok) {
      napi_throw_type_error(env, nullptr, "native kernel: adam's hyper-parameters are 7 numbers");
      return nullptr;
    }
  }
  const double b1 = h[0], b2 = h[1], c1 = h[2], c2 = h[3], lr = h[4], eps = h[5], wd = h[6];
  const float *p = arrays[0], *g = arrays[1], *m = arrays[2], *v = arrays[3];
  float *np = arrays[4], *nm = arrays[5], *nv = arrays[6];
  const long n = long(lengths[0]);
  parallelRanges(n, [&](long q0, long q1) {
    for (long q = q0; q < q1; q++) {
      const double gq = wd != 0 ? double(g[q]) + double(p[q]) * wd : double(g[q]);
      const double mq = double(m[q]) * b1 + gq * (1 - b1);
      const double vq = double(v[q]) * b2 + gq * gq * (1 - b2);
      nm[q] = float(mq);
      nv[q] = float(vq);
      np[q] = float(double(p[q]) - (mq * (lr / c1)) / (std::sqrt(vq / c2) + eps));
    }
  }, 16.0 * n);
  return undefinedValue(env);
}

// setThreads(n): the threads each kernel call may use (1 = the calling thread only)
napi_value setThreads(napi_env env, napi_callback_info info) {
  std::size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  std::int32_t n = 0;
  if (argc != 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1 || n > 1024) {
    napi_throw_range_error(env, nullptr, "native kernel: setThreads takes an integer in [1, 1024]");
    return nullptr;
  }
  pool->resize(n);
  return undefinedValue(env);
}

// describe(): { isa, lanes (channel padding), threads }
napi_value describe(napi_env env, napi_callback_info) {
  napi_value o, isa, lanes, threads;
  napi_create_object(env, &o);
  napi_create_string_utf8(env, chosenName, NAPI_AUTO_LENGTH, &isa);
  // the channel padding callers apply (the narrowest vector a kernel reads)
  napi_create_int32(env, chosen->lanes, &lanes);
  napi_create_int32(env, pool->threads(), &threads);
  napi_set_named_property(env, o, "isa", isa);
  napi_set_named_property(env, o, "lanes", lanes);
  napi_set_named_property(env, o, "threads", threads);
  return o;
}

std::once_flag chooseOnce;

/**
 * Keep this library loaded for the life of the process: Node unloads an addon when the last worker
 * thread that loaded it exits, and the pool's threads (blocked inside it) would then crash.
 */
void pinLibrary() {
#if defined(__unix__) || defined(__APPLE__)
  Dl_info self;
  if (dladdr(reinterpret_cast<void*>(&pinLibrary), &self) && self.dli_fname) dlopen(self.dli_fname, RTLD_NOW | RTLD_NODELETE);
#endif
}

}  // namespace

NAPI_MODULE_INIT() {
  std::call_once(chooseOnce, [] {
    pinLibrary();
    chooseInstructionSet();
  });
  const napi_property_descriptor table[] = {
    {"conv2dValid", nullptr, conv2dValid, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"conv2dFilterGrad", nullptr, conv2dFilterGrad, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"padNHWC", nullptr, padNHWC, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"flipFilter", nullptr, flipFilter, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"padColumns", nullptr, padColumns, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"cropColumns", nullptr, cropColumns, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"maxPoolGrad", nullptr, maxPoolGrad, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"maxPoolGrad2x2", nullptr, maxPoolGrad2x2, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"maxPool", nullptr, maxPool, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"columnSums", nullptr, columnSums, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"addBias", nullptr, addBias, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"matMul", nullptr, matMul, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"attention", nullptr, attention, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"attentionGrad", nullptr, attentionGrad, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"conv2dInputGrad", nullptr, conv2dInputGrad, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"channelBinary", nullptr, channelBinary, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"elementwise", nullptr, elementwise, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"adam", nullptr, adam, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"columnMoments", nullptr, columnMoments, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"channelAffine", nullptr, channelAffine, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"unaryMath", nullptr, unaryMath, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"rowSums", nullptr, rowSums, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"copyGrid", nullptr, copyGrid, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"rowMoments", nullptr, rowMoments, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"rowAffine", nullptr, rowAffine, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"layerNormGrad", nullptr, layerNormGrad, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"normalizedColumnSums", nullptr, normalizedColumnSums, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"setThreads", nullptr, setThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
    {"describe", nullptr, describe, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(table) / sizeof(table[0]), table);
  return exports;
}
