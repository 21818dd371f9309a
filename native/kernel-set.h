// The table of vector kernels one instruction set provides (see kernels-impl.h); kernels.cc picks
// one table at load time and splits each call's work between threads by the ranges below.
#pragma once

/**
 * Column vectors of the next block, `left` vectors remaining: 3, but 2 + 2 for the last 4 (3 + 1
 * left a block of one vector, which reads as many operands as it multiplies: AVX-512's 64 channels).
 * A column's sum is the same whichever block holds it.
 */
inline int blockVectors(int left) { return left == 4 ? 2 : (left < 3 ? left : 3); }

/**
 * B [K, N] (or, transposed, [N, K]) packed for gemmRows: per block of columns (blockVectors of
 * `lanes`), one contiguous [K, width] panel at dst + K·j, zero past N. Read row after row by the
 * product, a panel streams through the cache; in [K, Np] rows a panel's rows lay Np apart. Rows
 * [k0, k1) of every panel (all of them by default), so that threads can pack a large B together;
 * every value of those rows is written (no need to clear dst first). B's rows lie ld apart (by default
 * N, or K when transposed: a B inside wider rows, as attention's heads, sets it).
 */
inline void packedPanels(const float* B, float* dst, int K, int N, int Np, int lanes, bool transB, int k0 = 0, int k1 = -1, int ld = -1) {
  if (k1 < 0) k1 = K;
  if (ld < 0) ld = transB ? K : N;
  for (int j = 0, nv = 0; j < Np; j += nv * lanes) {
    nv = blockVectors((Np - j) / lanes);
    const int width = nv * lanes;
    float* panel = dst + static_cast<long>(K) * j;
    // in tiles of 32 rows of B, so that a transposed B is read a few cache lines at a time
    for (int t0 = k0; t0 < k1; t0 += 32) {
      const int t1 = k1 < t0 + 32 ? k1 : t0 + 32;
      int c = 0;
      // a transposed B 8 columns at a time: each row of the panel gets 8 adjacent values in one run
      // (a store per value, each to another cache line, took 3/4 of packing attention's keys)
      if (transB)
        for (; c + 8 <= width && j + c + 8 <= N; c += 8) {
          const float* src = B + static_cast<long>(j + c) * ld;
          for (int k = t0; k < t1; k++) {
            float* out = panel + static_cast<long>(k) * width + c;
            for (int q = 0; q < 8; q++) out[q] = src[static_cast<long>(q) * ld + k];
          }
        }
      for (; c < width; c++) {
        const int n = j + c;
        for (int k = t0; k < t1; k++)
          panel[static_cast<long>(k) * width + c] = n >= N ? 0.0f : transB ? B[static_cast<long>(n) * ld + k] : B[static_cast<long>(k) * ld + n];
      }
    }
  }
}

/** One attention head's operands: q, k, v [T, D] each, rows qs, ks, vs apart (inside a [T, 3·H·D] projection, say). */
struct HeadOperands {
  const float* q;
  const float* k;
  const float* v;
  int qs, ks, vs;
};

struct KernelSet {
  // the vector width, which is also the channel padding callers apply to operands read vector-wise
  int lanes;
  // accumulator registers of a block: output pixels per block × channel vectors; also the images of a conv2dImageTiles tile
  int acc;
  void (*conv2dValidRows)(const float* x, const float* w, const float* bias, float* y, int h, int wd, int ci, int oh, int ow, int co, int coP, int kh,
                          int kw, int sh, int sw, int rowLo, int rowHi, int colLo, int colHi, int r0, int r1);
  void (*conv2dImageTiles)(const float* x, const float* w, const float* bias, float* y, int b, int h, int wd, int ci, int oh, int ow, int co, int coP,
                           int kh, int kw, int sh, int sw, int rowLo, int rowHi, int colLo, int colHi, int t0, int t1);
  void (*conv2dFilterGradBlocks)(const float* x, const float* dy, float* dw, int b, int h, int wd, int ci, int oh, int ow, int coP, int dyStride,
                                 int kh, int kw, int sh, int sw, int tapGroup, int b0, int b1);
  void (*columnSumsRange)(const float* x, float* out, int rows, int cols, int c0, int c1);
  void (*addBiasRows)(const float* x, const float* bias, float* out, int cols, int r0, int r1);
  void (*maxPoolGrad2x2Images)(const float* x, const float* dy, float* dx, int h, int w, int c, int oh, int ow, int n0, int n1);
  // ldb 0: B packed (packedPanels); ldb > 0: B [K, N] as it lies, rows ldb apart (N a multiple of the lanes)
  void (*gemmRows)(const float* A, const float* Bp, float* C, int M, int N, int Np, int K, bool transA, int i0, int i1, int ldb, const float* bias);
  // one input channel, horizontal stride 1: output pixels across the lanes (see kernels-impl.h)
  void (*conv2dPixelRows)(const float* x, const float* w, const float* bias, float* y, int h, int wd, int oh, int ow, int co, int coP, int kh, int kw,
                          int sh, int rowLo, int rowHi, int r0, int r1);
  void (*conv2dFilterGradPixelBlocks)(const float* x, const float* dy, float* dw, int b, int h, int wd, int oh, int ow, int co, int coP, int dyStride,
                                      int kw, int sh, int b0, int b1);
  void (*maxPoolImages)(const float* x, float* y, int h, int w, int c, int oh, int ow, int fh, int fw, int sh, int sw, int top, int left, int n0, int n1);
  // e^x, erf, GELU, GELU's gradient elementwise (ops 0–3; dy for op 3 only); the same bits on every path (see kernels-impl.h)
  void (*unaryMathRange)(const float* x, const float* dy, float* out, long i0, long i1, int op);
  void (*maxPoolGradImages)(const float* x, const float* dy, float* dx, int h, int w, int c, int oh, int ow, int fh, int fw, int sh, int sw, int top,
                            int left, int n0, int n1);
  void (*columnMomentsRange)(const float* x, const float* cx, const float* y, const float* cy, float* out, int rows, int cols, int c0, int c1);
  void (*channelAffineRows)(const float* x, const float* cx, const float* s, const float* y, const float* cy, const float* t, const float* u, float* out,
                            int cols, long r0, long r1);
  // scaled dot-product attention of heads [h0, h1) and its gradient (see kernels-impl.h)
  void (*attentionHeads)(HeadOperands o, float* out, int os, float* p, int T, int D, int H, float scale, int h0, int h1);
  void (*attentionGradHeads)(HeadOperands o, const float* dout, int os, const float* p, float* dq, int dqs, float* dk, int dks, float* dv, int dvs,
                             int T, int D, int H, float scale, int h0, int h1);
  // LayerNormalization's rows [r0, r1): moments, affine map, gradient (see kernels-impl.h; kernels.cc rowMoments, rowAffine, layerNormGrad)
  void (*rowMomentsRows)(const float* x, float* mean, float* variance, long rows, int cols, long r0, long r1);
  void (*rowAffineRows)(const float* x, const float* mean, const float* rstd, const float* gamma, const float* beta, float* out, long rows, int cols,
                        long r0, long r1);
  void (*layerNormGradRows)(const float* x, const float* dy, const float* mean, const float* rstd, const float* gamma, float* dx, long rows, int cols,
                            long r0, long r1);
};

namespace avx512 { extern const KernelSet kernelSet; }
namespace avx2 { extern const KernelSet kernelSet; }
namespace portable { extern const KernelSet kernelSet; }
// whether this build holds the x86 vector paths (false on other CPUs and compilers)
extern const bool x86VectorPaths;
