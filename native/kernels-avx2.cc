// The AVX2 + FMA path: 8 lanes, fused multiply-add. Compiled for that target only inside this file;
// kernels.cc calls it only when __builtin_cpu_supports says the CPU has both.
#include "kernel-set.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>
#include <type_traits>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#ifdef __clang__
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#include <immintrin.h>
namespace avx2 {
struct Vec {
  typedef __m256 V;
  static constexpr int W = 8;
  static constexpr int ACC = 12;
  static inline V zero() { return _mm256_setzero_ps(); }
  static inline V load(const float* p) { return _mm256_loadu_ps(p); }
  static inline void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static inline void storeFirst(float* p, V v, int n) {
    alignas(32) float t[8];
    _mm256_store_ps(t, v);
    for (int i = 0; i < n; i++) p[i] = t[i];
  }
  static inline V set1(float s) { return _mm256_set1_ps(s); }
  static inline V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static inline V add(V a, V b) { return _mm256_add_ps(a, b); }
  static inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  // lane masks (all bits set where true) for branch-free selection
  static inline V ge(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static inline V band(V a, V b) { return _mm256_and_ps(a, b); }
  static inline V bandnot(V m, V x) { return _mm256_andnot_ps(m, x); }
  static inline V bor(V a, V b) { return _mm256_or_ps(a, b); }
  // the larger of a and b, b where either is NaN (so a NaN input never replaces a running maximum b)
  static inline V max(V a, V b) { return _mm256_max_ps(a, b); }
};
#include "kernels-impl.h"
}  // namespace avx2
#ifdef __clang__
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
