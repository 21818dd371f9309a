// The AVX-512F path: 16 lanes, fused multiply-add, 32 vector registers. Compiled for that target only
// inside this file; kernels.cc calls it only when __builtin_cpu_supports("avx512f") holds.
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
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#endif
#include <immintrin.h>
namespace avx512 {
struct Vec {
  typedef __m512 V;
  static constexpr int W = 16;
  static constexpr int ACC = 24;
  static inline V zero() { return _mm512_setzero_ps(); }
  static inline V load(const float* p) { return _mm512_loadu_ps(p); }
  static inline void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static inline void storeFirst(float* p, V v, int n) { _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1u), v); }
  static inline V set1(float s) { return _mm512_set1_ps(s); }
  static inline V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static inline V add(V a, V b) { return _mm512_add_ps(a, b); }
  static inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  // lane masks (all bits set where true) for branch-free selection (AVX-512F has integer logic only)
  static inline V ge(V a, V b) { return _mm512_castsi512_ps(_mm512_maskz_set1_epi32(_mm512_cmp_ps_mask(a, b, _CMP_GE_OQ), -1)); }
  static inline V band(V a, V b) { return _mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
  static inline V bandnot(V m, V x) { return _mm512_castsi512_ps(_mm512_andnot_epi32(_mm512_castps_si512(m), _mm512_castps_si512(x))); }
  static inline V bor(V a, V b) { return _mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
  // the larger of a and b, b where either is NaN (so a NaN input never replaces a running maximum b)
  static inline V max(V a, V b) { return _mm512_max_ps(a, b); }
};
#include "kernels-impl.h"
}  // namespace avx512
#ifdef __clang__
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
