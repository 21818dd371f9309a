// The portable path for CPUs without AVX2 + FMA (and non-x86 CPUs): 4 lanes as the compiler's
// generic vectors, multiply then add (no fused multiply-add, so no contraction either).
#include "kernel-set.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>
#include <type_traits>
namespace portable {
struct Vec {
  typedef float V __attribute__((vector_size(16)));
  typedef float U __attribute__((vector_size(16), aligned(4)));
  static constexpr int W = 4;
  static constexpr int ACC = 12;
  static inline V zero() { return V{0, 0, 0, 0}; }
  static inline V load(const float* p) { return *reinterpret_cast<const U*>(p); }
  static inline void store(float* p, V v) { *reinterpret_cast<U*>(p) = v; }
  static inline void storeFirst(float* p, V v, int n) {
    for (int i = 0; i < n; i++) p[i] = v[i];
  }
  static inline V set1(float s) { return V{s, s, s, s}; }
  static inline V fma(V a, V b, V c) { return c + a * b; }
  static inline V add(V a, V b) { return a + b; }
  static inline V mul(V a, V b) { return a * b; }
  // lane masks (all bits set where true) for branch-free selection
  typedef int I __attribute__((vector_size(16)));
  static inline V ge(V a, V b) { return reinterpret_cast<V>(a >= b); }
  static inline V band(V a, V b) { return reinterpret_cast<V>(reinterpret_cast<I>(a) & reinterpret_cast<I>(b)); }
  static inline V bandnot(V m, V x) { return reinterpret_cast<V>(~reinterpret_cast<I>(m) & reinterpret_cast<I>(x)); }
  static inline V bor(V a, V b) { return reinterpret_cast<V>(reinterpret_cast<I>(a) | reinterpret_cast<I>(b)); }
  // the larger of a and b, b where either is NaN (so a NaN input never replaces a running maximum b)
  static inline V max(V a, V b) { return a > b ? a : b; }
};
#include "kernels-impl.h"
}  // namespace portable
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
const bool x86VectorPaths = true;
#else
const bool x86VectorPaths = false;
#endif
