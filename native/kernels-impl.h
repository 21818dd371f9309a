// The vector kernels, written once over a vector type `Vec` (W float lanes) that the including file
// defines for its instruction set (kernels-avx512.cc, kernels-avx2.cc, kernels-portable.cc) inside
// its own namespace and target options. Layouts and summation orders are those of assembly/kernels.ts
// (NHWC activations, filters [kh·kw·ci, coP] with coP a multiple of W, padded by the caller), so the
// same TypeScript call sites drive both; only the lane count and the fused multiply-add differ.
//
// Included by those files only, inside their namespace, after <algorithm>, <cmath>, <cstddef>, <cstdint>, <cstring>, <limits>
// and <vector>.

namespace {

#include "row-total.h"

constexpr int W = Vec::W;
// accumulator registers a block may hold (AVX2 and SSE have 16 vector registers, AVX-512 32)
constexpr int ACC = Vec::ACC;


/** f(std::integral_constant<int, p>) for a run-time p in [1, P]: a block size chosen per row. */
template <int P, typename F>
inline void withBlock(int p, F&& f) {
  if constexpr (P >= 1) {
    if (p == P) f(std::integral_constant<int, P>{});
    else withBlock<P - 1>(p, f);
  }
}

/**
 * One block of a 'valid' convolution: P output pixels × NV channel vectors, starting at pixel (n, yy,
 * x0) and channel o. The pixels are neighbours along the row (pixelStep 1: columns x0 … x0 + P − 1),
 * or the same pixel of P consecutive images (pixelStep 0: images n … n + P − 1), for maps narrower
 * than a block. Kernel rows/columns that only read the zero padding of every pixel of the block are
 * skipped (which adds exactly what the zeros would: nothing). Each output's sum runs over the same
 * taps in the same order either way.
 */
template <int P, int NV>
inline void convBlock(const float* x, const float* w, const float* bias, float* y, int h, int wd, int ci, int co, int coP, int kh, int kw,
                      int sh, int sw, int n, int oh, int ow, int yy, int x0, int o, int rowLo, int rowHi, int colLo, int colHi, int pixelStep = 1) {
  typename Vec::V acc[P][NV];
  for (int p = 0; p < P; p++)
    for (int v = 0; v < NV; v++) acc[p][v] = Vec::zero();
  const int rowLen = kw * ci;
  const int i0 = std::max(0, rowLo - yy * sh);
  const int i1 = std::min(kh, rowHi - yy * sh);
  const int q0 = std::max(0, colLo - (x0 + (P - 1) * pixelStep) * sw) * ci;
  const int q1 = std::min(kw, colHi - x0 * sw) * ci;
  const std::ptrdiff_t xStep = pixelStep ? static_cast<std::ptrdiff_t>(sw) * ci : static_cast<std::ptrdiff_t>(h) * wd * ci;
  const std::ptrdiff_t yStep = pixelStep ? static_cast<std::ptrdiff_t>(co) : static_cast<std::ptrdiff_t>(oh) * ow * co;
  for (int i = i0; i < i1; i++) {
    const float* xp = x + (static_cast<std::ptrdiff_t>((n * h + yy * sh + i)) * wd + static_cast<std::ptrdiff_t>(x0) * sw) * ci + q0;
    const float* wp = w + static_cast<std::ptrdiff_t>(i * rowLen + q0) * coP + o;
    for (int q = q0; q < q1; q++) {
      typename Vec::V wv[NV];
      for (int v = 0; v < NV; v++) wv[v] = Vec::load(wp + v * W);
      for (int p = 0; p < P; p++) {
        const typename Vec::V s = Vec::set1(xp[p * xStep]);
        for (int v = 0; v < NV; v++) acc[p][v] = Vec::fma(s, wv[v], acc[p][v]);
      }
      xp += 1;
      wp += coP;
    }
  }
  if (bias) {
    // added after the sum, as a separate bias add would
    for (int v = 0; v < NV; v++) {
      const typename Vec::V bv = Vec::load(bias + o + v * W);
      for (int p = 0; p < P; p++) acc[p][v] = Vec::add(acc[p][v], bv);
    }
  }
  const int rem = co - o;
  float* yp = y + (static_cast<std::ptrdiff_t>(n * oh + yy) * ow + x0) * co + o;
  for (int p = 0; p < P; p++) {
    for (int v = 0; v < NV; v++) {
      const int lanes = rem - v * W;
      if (lanes >= W) Vec::store(yp + v * W, acc[p][v]);
      else if (lanes > 0) Vec::storeFirst(yp + v * W, acc[p][v], lanes);
    }
    yp += yStep;
  }
}

/**
 * A row of ow output pixels in blocks of nearly equal size, at most ACC / NV pixels each (16 pixels at
 * 12 per block: 8 + 8, not 12 and four single pixels, which read as many operands as they multiply).
 */
template <int NV>
inline void convRow(const float* x, const float* w, const float* bias, float* y, int h, int wd, int ci, int co, int coP, int kh, int kw, int sh,
                    int sw, int n, int oh, int ow, int yy, int o, int rowLo, int rowHi, int colLo, int colHi) {
  constexpr int PMAX = ACC / NV;
  const int blocks = (ow + PMAX - 1) / PMAX;
  for (int k = 0, x0 = 0; k < blocks; k++) {
    // the first ow % blocks blocks take one pixel more
    const int p = ow / blocks + (k < ow % blocks ? 1 : 0);
    withBlock<PMAX>(p, [&](auto P) { convBlock<decltype(P)::value, NV>(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n, oh, ow, yy, x0, o, rowLo, rowHi, colLo, colHi); });
    x0 += p;
  }
}

/** Output rows [r0, r1) of the flattened (n, yy) range of a 'valid' convolution (see kernels.cc). */
void conv2dValidRows(const float* x, const float* w, const float* bias, float* y, int h, int wd, int ci, int oh, int ow, int co, int coP, int kh,
                     int kw, int sh, int sw, int rowLo, int rowHi, int colLo, int colHi, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const int n = r / oh;
    const int yy = r % oh;
    // channel groups of up to 3 vectors
    for (int o = 0, nv = 0; o < coP; o += nv * W) {
      nv = blockVectors((coP - o) / W);
      if (nv == 3) convRow<3>(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n, oh, ow, yy, o, rowLo, rowHi, colLo, colHi);
      else if (nv == 2) convRow<2>(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n, oh, ow, yy, o, rowLo, rowHi, colLo, colHi);
      else convRow<1>(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n, oh, ow, yy, o, rowLo, rowHi, colLo, colHi);
    }
  }
}

/** The columns of output row yy of images [n0, n1) (all images of a tile), in blocks of P images. */
template <int NV>
inline void convImages(const float* x, const float* w, const float* bias, float* y, int h, int wd, int ci, int co, int coP, int kh, int kw, int sh,
                       int sw, int n0, int n1, int oh, int ow, int yy, int o, int rowLo, int rowHi, int colLo, int colHi) {
  constexpr int P = ACC / NV;
  for (int xx = 0; xx < ow; xx++) {
    int n = n0;
    for (; n + P <= n1; n += P) convBlock<P, NV>(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n, oh, ow, yy, xx, o, rowLo, rowHi, colLo, colHi, 0);
    for (; n < n1; n++) convBlock<1, NV>(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n, oh, ow, yy, xx, o, rowLo, rowHi, colLo, colHi, 0);
  }
}

/**
 * Tiles [t0, t1) of a 'valid' convolution whose output rows are narrower than a block of pixels (a
 * ResNet's last stages at 64×64: 4 and 2 columns): tile t is output row t % oh of the ACC
 * images from (t / oh)·ACC, each block the same pixel of several images, so every block is
 * full and shares the kernel-row and column skips of its pixel.
 */
void conv2dImageTiles(const float* x, const float* w, const float* bias, float* y, int b, int h, int wd, int ci, int oh, int ow, int co, int coP,
                      int kh, int kw, int sh, int sw, int rowLo, int rowHi, int colLo, int colHi, int t0, int t1) {
  for (int t = t0; t < t1; t++) {
    const int n0 = (t / oh) * ACC;
    const int n1 = std::min(b, n0 + ACC);
    const int yy = t % oh;
    for (int o = 0, nv = 0; o < coP; o += nv * W) {
      nv = blockVectors((coP - o) / W);
      if (nv == 3) convImages<3>(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n0, n1, oh, ow, yy, o, rowLo, rowHi, colLo, colHi);
      else if (nv == 2) convImages<2>(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n0, n1, oh, ow, yy, o, rowLo, rowHi, colLo, colHi);
      else convImages<1>(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n0, n1, oh, ow, yy, o, rowLo, rowHi, colLo, colHi);
    }
  }
}

/**
 * One block of the filter gradient for image n and kernel row i: T neighbouring taps of that row
 * × NV channel vectors, summed over every output pixel of the image and then added into dw.
 */
template <int T, int NV>
inline void filterGradBlock(const float* x, const float* dy, float* dw, int h, int wd, int ci, int coP, int dyStride, int kw, int sh, int sw, int n0,
                            int n1, int oh, int ow, int i, int q0, int o) {
  typename Vec::V acc[T][NV];
  for (int t = 0; t < T; t++)
    for (int v = 0; v < NV; v++) acc[t][v] = Vec::zero();
  const std::ptrdiff_t xStep = static_cast<std::ptrdiff_t>(sw) * ci;
  for (int n = n0; n < n1; n++)
  for (int yy = 0; yy < oh; yy++) {
    const float* xp = x + static_cast<std::ptrdiff_t>(n * h + yy * sh + i) * wd * ci + q0;
    const float* dp = dy + static_cast<std::ptrdiff_t>(n * oh + yy) * ow * dyStride + o;
    for (int xx = 0; xx < ow; xx++) {
      typename Vec::V d[NV];
      for (int v = 0; v < NV; v++) d[v] = Vec::load(dp + v * W);
      for (int t = 0; t < T; t++) {
        const typename Vec::V s = Vec::set1(xp[t]);
        for (int v = 0; v < NV; v++) acc[t][v] = Vec::fma(s, d[v], acc[t][v]);
      }
      xp += xStep;
      dp += dyStride;
    }
  }
  float* wp = dw + static_cast<std::ptrdiff_t>(i * kw * ci + q0) * coP + o;
  for (int t = 0; t < T; t++)
    for (int v = 0; v < NV; v++) Vec::store(wp + t * coP + v * W, Vec::add(Vec::load(wp + t * coP + v * W), acc[t][v]));
}

template <int NV>
inline void filterGradTaps(const float* x, const float* dy, float* dw, int h, int wd, int ci, int coP, int dyStride, int kw, int sh, int sw, int n0,
                           int n1, int oh, int ow, int i, int o, int qa, int qb) {
  constexpr int T = ACC / NV;
  // taps in blocks of nearly equal size (21 taps of a 7×7 RGB stem at 8 per block: 7 + 7 + 7, not 8 + 8 and five single taps)
  const int taps = qb - qa;
  const int blocks = (taps + T - 1) / T;
  for (int k = 0, q0 = qa; k < blocks; k++) {
    const int t = taps / blocks + (k < taps % blocks ? 1 : 0);
    withBlock<T>(t, [&](auto TB) { filterGradBlock<decltype(TB)::value, NV>(x, dy, dw, h, wd, ci, coP, dyStride, kw, sh, sw, n0, n1, oh, ow, i, q0, o); });
    q0 += t;
  }
}

// the pixels one filter-gradient sum runs over before it is added into dw: whole images, as many as
// reach this count (one image when it has as many pixels): small maps (a ResNet's 4×4 and 2×2 stages)
// would otherwise read and write all of dw once per image
constexpr int FILTER_GRAD_PIXELS = 256;

/**
 * dw += Σ_n Σ_pixels patch ⊗ dy over the blocks [b0, b1) of the (kernel row, tap group, channel
 * group of 3 vectors) list; images are summed in chunks of FILTER_GRAD_PIXELS pixels, chunks added in
 * order n = 0, 1, … for every dw entry, so the result does not depend on how blocks are split between threads.
 */
void conv2dFilterGradBlocks(const float* x, const float* dy, float* dw, int b, int h, int wd, int ci, int oh, int ow, int coP, int dyStride, int kh,
                            int kw, int sh, int sw, int tapGroup, int b0, int b1) {
  const int rowLen = kw * ci;
  const int tapGroups = (rowLen + tapGroup - 1) / tapGroup;
  const int chanGroups = (coP + 3 * W - 1) / (3 * W);
  (void)kh;
  const int perChunk = std::max(1, FILTER_GRAD_PIXELS / std::max(1, oh * ow));
  for (int n = 0; n < b; n += perChunk) {
    const int n1 = std::min(b, n + perChunk);
    for (int blk = b0; blk < b1; blk++) {
      const int i = blk / (tapGroups * chanGroups);
      const int rest = blk % (tapGroups * chanGroups);
      const int qa = (rest / chanGroups) * tapGroup;
      const int qb = std::min(rowLen, qa + tapGroup);
      // channel group g: its first vector and width as the blocks of blockVectors lay them
      int o = 0, nv = blockVectors(coP / W);
      for (int g = rest % chanGroups; g > 0; g--) {
        o += nv * W;
        nv = blockVectors((coP - o) / W);
      }
      if (nv == 3) filterGradTaps<3>(x, dy, dw, h, wd, ci, coP, dyStride, kw, sh, sw, n, n1, oh, ow, i, o, qa, qb);
      else if (nv == 2) filterGradTaps<2>(x, dy, dw, h, wd, ci, coP, dyStride, kw, sh, sw, n, n1, oh, ow, i, o, qa, qb);
      else filterGradTaps<1>(x, dy, dw, h, wd, ci, coP, dyStride, kw, sh, sw, n, n1, oh, ow, i, o, qa, qb);
    }
  }
}

/** out[c] = Σ_r x[r, c] (rows in order) for the columns [c0, c1), c0 a multiple of W. */
void columnSumsRange(const float* x, float* out, int rows, int cols, int c0, int c1) {
  // up to 8 vectors of columns held in registers while the rows stream past (one vector at a time
  // swept the whole tensor once per vector); each column still summed in row order
  int c = c0;
  while (c + W <= c1) {
    const int nv = std::min(8, (c1 - c) / W);
    withBlock<8>(nv, [&](auto NVc) {
      constexpr int NV = decltype(NVc)::value;
      typename Vec::V acc[NV];
      for (int v = 0; v < NV; v++) acc[v] = Vec::zero();
      const float* p = x + c;
      for (int r = 0; r < rows; r++, p += cols)
        for (int v = 0; v < NV; v++) acc[v] = Vec::add(acc[v], Vec::load(p + v * W));
      for (int v = 0; v < NV; v++) Vec::store(out + c + v * W, acc[v]);
    });
    c += nv * W;
  }
  for (; c < c1; c++) {
    float acc = 0;
    const float* p = x + c;
    for (int r = 0; r < rows; r++, p += cols) acc += *p;
    out[c] = acc;
  }
}

/**
 * out[c] = Σ_r (x[r, c] − cx[c])·(y[r, c] − cy[c]) for the columns [c0, c1), in double, rows in order
 * (BatchNormalization's variance and its gradient's Σ dy·(x − mean)): blocks of 64 columns whose
 * double sums the compiler keeps in vectors while the rows stream past.
 */
void columnMomentsRange(const float* x, const float* cx, const float* y, const float* cy, float* out, int rows, int cols, int c0, int c1) {
  constexpr int B = 64;
  double acc[B], ca[B], cb[B];
  for (int b0 = c0; b0 < c1; b0 += B) {
    const int n = std::min(B, c1 - b0);
    for (int c = 0; c < n; c++) {
      acc[c] = 0;
      ca[c] = cx[b0 + c];
      cb[c] = cy[b0 + c];
    }
    for (int r = 0; r < rows; r++) {
      const float* xr = x + static_cast<std::ptrdiff_t>(r) * cols + b0;
      const float* yr = y + static_cast<std::ptrdiff_t>(r) * cols + b0;
      for (int c = 0; c < n; c++) acc[c] += (double(xr[c]) - ca[c]) * (double(yr[c]) - cb[c]);
    }
    for (int c = 0; c < n; c++) out[b0 + c] = float(acc[c]);
  }
}

/** out[r, c] = (x[r, c] − cx[c])·s[c] + (y[r, c] − cy[c])·t[c] + u[c] (the y term left out when y is null) for the rows [r0, r1). */
void channelAffineRows(const float* x, const float* cx, const float* s, const float* y, const float* cy, const float* t, const float* u, float* out, int cols,
                       long r0, long r1) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + static_cast<std::ptrdiff_t>(r) * cols;
    float* o = out + static_cast<std::ptrdiff_t>(r) * cols;
    if (y) {
      const float* yr = y + static_cast<std::ptrdiff_t>(r) * cols;
      for (int c = 0; c < cols; c++) o[c] = (xr[c] - cx[c]) * s[c] + (yr[c] - cy[c]) * t[c] + u[c];
    } else {
      for (int c = 0; c < cols; c++) o[c] = (xr[c] - cx[c]) * s[c] + u[c];
    }
  }
}

/** out[r, c] = x[r, c] + bias[c] for the rows [r0, r1). */
void addBiasRows(const float* x, const float* bias, float* out, int cols, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const float* xr = x + static_cast<std::ptrdiff_t>(r) * cols;
    float* orow = out + static_cast<std::ptrdiff_t>(r) * cols;
    int c = 0;
    for (; c + W <= cols; c += W) Vec::store(orow + c, Vec::add(Vec::load(xr + c), Vec::load(bias + c)));
    for (; c < cols; c++) orow[c] = xr[c] + bias[c];
  }
}

/**
 * Max-pool gradient for the 2×2 window, stride 2, no padding, for the images [n0, n1): every input
 * lies in at most one window, so dx is written once. The first maximum of a window gets dy (the cpu
 * backend's rule for ordered inputs).
 */
void maxPoolGrad2x2Images(const float* x, const float* dy, float* dx, int h, int w, int c, int oh, int ow, int n0, int n1) {
  const std::ptrdiff_t rowF = static_cast<std::ptrdiff_t>(w) * c;
  for (int n = n0; n < n1; n++)
    for (int yr = 0; yr < oh; yr++)
      for (int yc = 0; yc < ow; yc++) {
        const std::ptrdiff_t off = (static_cast<std::ptrdiff_t>(n * h + 2 * yr) * w + 2 * yc) * c;
        const float* pa = x + off;
        float* qa = dx + off;
        const float* pd = dy + (static_cast<std::ptrdiff_t>(n * oh + yr) * ow + yc) * c;
        int ch = 0;
        // W channels at a time: a gets dy where it is a maximum of the window (it comes first), b
        // where it is a maximum of b, c, d and a is not, and so on; masks instead of branches
        for (; ch + W <= c; ch += W) {
          const typename Vec::V a = Vec::load(pa + ch), bb = Vec::load(pa + ch + c), cc = Vec::load(pa + ch + rowF), d = Vec::load(pa + ch + rowF + c);
          const typename Vec::V g = Vec::load(pd + ch);
          const typename Vec::V ka = Vec::band(Vec::band(Vec::ge(a, bb), Vec::ge(a, cc)), Vec::ge(a, d));
          const typename Vec::V kb = Vec::bandnot(ka, Vec::band(Vec::ge(bb, cc), Vec::ge(bb, d)));
          const typename Vec::V taken = Vec::bor(ka, kb);
          const typename Vec::V kc = Vec::bandnot(taken, Vec::ge(cc, d));
          const typename Vec::V kd = Vec::bandnot(Vec::bor(taken, kc), g);
          Vec::store(qa + ch, Vec::band(ka, g));
          Vec::store(qa + ch + c, Vec::band(kb, g));
          Vec::store(qa + ch + rowF, Vec::band(kc, g));
          Vec::store(qa + ch + rowF + c, kd);
        }
        for (; ch < c; ch++) {
          const float a = pa[ch], bb = pa[ch + c], cc = pa[ch + rowF], d = pa[ch + rowF + c];
          const float g = pd[ch];
          const bool ka = (a >= bb) & (a >= cc) & (a >= d);
          const bool kb = !ka & (bb >= cc) & (bb >= d);
          const bool kc = !ka & !kb & (cc >= d);
          const bool kd = !ka & !kb & !kc;
          qa[ch] = ka ? g : 0.0f;
          qa[ch + c] = kb ? g : 0.0f;
          qa[ch + rowF] = kc ? g : 0.0f;
          qa[ch + rowF + c] = kd ? g : 0.0f;
        }
      }
}

/**
 * One block of C = op(A)·B over k in [k0, k1): R rows × NV column vectors, added to C unless this is
 * the first k block. B is packed in panels (packedPanels, kernel-set.h): the NV·W columns from j as one
 * contiguous [K, NV·W] block at Bp + K·j; or, when ldb > 0, B as it lies, [K, N] with rows ldb apart
 * (N a multiple of W). A is [M, K] or, transposed, [K, M], its rows lda apart; C's rows are ldc apart. With a bias [N], the last k block adds it to
 * the finished entry, C = (C + block) + bias, as a separate addition of the bias would round it.
 */
template <int R, int NV>
inline void gemmBlock(const float* A, const float* Bp, float* C, int N, int ldb, int K, bool transA, int lda, int ldc, int i, int j, int k0,
                      int k1, const float* bias) {
  typename Vec::V acc[R][NV];
  for (int r = 0; r < R; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = Vec::zero();
  const std::ptrdiff_t aRow = transA ? 1 : lda;
  const std::ptrdiff_t aCol = transA ? lda : 1;
  const float* ap = A + i * aRow + k0 * aCol;
  const std::ptrdiff_t bRow = ldb > 0 ? ldb : NV * W;
  const float* bp = ldb > 0 ? Bp + j + static_cast<std::ptrdiff_t>(k0) * ldb : Bp + static_cast<std::ptrdiff_t>(K) * j + static_cast<std::ptrdiff_t>(k0) * NV * W;
  for (int k = k0; k < k1; k++) {
    typename Vec::V bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = Vec::load(bp + v * W);
    for (int r = 0; r < R; r++) {
      const typename Vec::V s = Vec::set1(ap[r * aRow]);
      for (int v = 0; v < NV; v++) acc[r][v] = Vec::fma(s, bv[v], acc[r][v]);
    }
    ap += aCol;
    bp += bRow;
  }
  const bool first = k0 == 0;
  const float* b = k1 == K ? bias : nullptr;
  for (int r = 0; r < R; r++) {
    float* cp = C + static_cast<std::ptrdiff_t>(i + r) * ldc + j;
    for (int v = 0; v < NV; v++) {
      const int lanes = N - j - v * W;
      if (lanes >= W) {
        const typename Vec::V sum = first ? acc[r][v] : Vec::add(Vec::load(cp + v * W), acc[r][v]);
        Vec::store(cp + v * W, b ? Vec::add(sum, Vec::load(b + j + v * W)) : sum);
      } else if (lanes > 0) {
        alignas(64) float t[W];
        Vec::store(t, acc[r][v]);
        for (int l = 0; l < lanes; l++) {
          const float sum = first ? t[l] : cp[v * W + l] + t[l];
          cp[v * W + l] = b ? sum + b[j + v * W + l] : sum;
        }
      }
    }
  }
}

template <int NV>
inline void gemmColumns(const float* A, const float* Bp, float* C, int N, int ldb, int K, bool transA, int lda, int ldc, int i0, int i1, int j,
                        const float* bias) {
  constexpr int R = ACC / NV;
  // an untransposed A is read from one row per block row, each at its own offset: more than 8 of them
  // do not fit the general registers (12 rows spilled them: attention's 64-wide products ran at half
  // speed); a transposed A's block rows are adjacent, one address
  constexpr int RA = R > 8 ? 8 : R;
  const int most = transA ? R : RA;
  // k in blocks whose slice of B (KC × 3 vectors) stays in the L1 cache across the rows
  constexpr int KC = 256;
  for (int k0 = 0; k0 < K || k0 == 0; k0 += KC) {
    const int k1 = std::min(K, k0 + KC);
    // rows in blocks of nearly equal size, at most R each (as convRow)
    const int rows = i1 - i0;
    const int blocks = (rows + most - 1) / most;
    for (int q = 0, i = i0; q < blocks; q++) {
      const int r = rows / blocks + (q < rows % blocks ? 1 : 0);
      if (transA) withBlock<R>(r, [&](auto RB) { gemmBlock<decltype(RB)::value, NV>(A, Bp, C, N, ldb, K, true, lda, ldc, i, j, k0, k1, bias); });
      else withBlock<RA>(r, [&](auto RB) { gemmBlock<decltype(RB)::value, NV>(A, Bp, C, N, ldb, K, false, lda, ldc, i, j, k0, k1, bias); });
      i += r;
    }
    if (K == 0) break;
  }
}

/**
 * Rows [i0, i1) of C = op(A)·B, A's rows (or, transposed, its columns) lda apart and C's rows ldc apart:
 * gemmRows on operands that lie inside wider rows (attention's heads inside a [T, 3·H·D] projection).
 */
inline void gemmStridedRows(const float* A, int lda, const float* Bp, float* C, int ldc, int N, int Np, int K, bool transA, int i0, int i1, int ldb,
                            const float* bias) {
  for (int j = 0, nv = 0; j < Np; j += nv * W) {
    nv = blockVectors((Np - j) / W);
    if (nv == 3) gemmColumns<3>(A, Bp, C, N, ldb, K, transA, lda, ldc, i0, i1, j, bias);
    else if (nv == 2) gemmColumns<2>(A, Bp, C, N, ldb, K, transA, lda, ldc, i0, i1, j, bias);
    else gemmColumns<1>(A, Bp, C, N, ldb, K, transA, lda, ldc, i0, i1, j, bias);
  }
}

/**
 * Rows [i0, i1) of C [M, N] = op(A)·B with B packed in panels of Np columns in all (packedPanels), or,
 * when ldb > 0, B as it lies with rows ldb apart (N = Np, a multiple of W); plus bias [N] unless null.
 */
void gemmRows(const float* A, const float* Bp, float* C, int M, int N, int Np, int K, bool transA, int i0, int i1, int ldb, const float* bias) {
  gemmStridedRows(A, transA ? M : K, Bp, C, N, N, Np, K, transA, i0, i1, ldb, bias);
}

/**
 * One input channel, horizontal stride 1 (the first layer of a grayscale image net): output pixels
 * across the lanes instead of channels, 2 vectors of W neighbouring pixels × G channels per block.
 * The input row is read as it lies and each filter tap broadcast, so no lane is spent on channel
 * padding (10 channels fill 10 of 16 lanes on the channel path). A row's last block starts at
 * ow − 2W (it overlaps the one before and writes the same values). Output rows [r0, r1); needs
 * ow ≥ 2W. Each output is the same fused multiply-add chain over the taps as on the channel path.
 */
template <int G>
inline void pixelBlock(const float* x, const float* w, const float* bias, float* y, int h, int wd, int ow, int co, int coP, int kw, int sh,
                       int n, int oh, int yy, int x0, int o0, int i0, int i1) {
  typename Vec::V acc[2][G];
  for (int p = 0; p < 2; p++)
    for (int g = 0; g < G; g++) acc[p][g] = Vec::zero();
  for (int i = i0; i < i1; i++) {
    const float* xr = x + static_cast<std::ptrdiff_t>(n * h + yy * sh + i) * wd + x0;
    const float* wr = w + static_cast<std::ptrdiff_t>(i * kw) * coP + o0;
    for (int j = 0; j < kw; j++) {
      const typename Vec::V x0v = Vec::load(xr + j), x1v = Vec::load(xr + j + W);
      const float* wt = wr + static_cast<std::ptrdiff_t>(j) * coP;
      for (int g = 0; g < G; g++) {
        const typename Vec::V s = Vec::set1(wt[g]);
        acc[0][g] = Vec::fma(x0v, s, acc[0][g]);
        acc[1][g] = Vec::fma(x1v, s, acc[1][g]);
      }
    }
  }
  alignas(64) float lanes[2][G][W];
  for (int p = 0; p < 2; p++)
    for (int g = 0; g < G; g++) Vec::store(lanes[p][g], bias ? Vec::add(acc[p][g], Vec::set1(bias[o0 + g])) : acc[p][g]);
  float* yp = y + (static_cast<std::ptrdiff_t>(n * oh + yy) * ow + x0) * co + o0;
  for (int p = 0; p < 2; p++)
    for (int l = 0; l < W; l++)
      for (int g = 0; g < G; g++) yp[static_cast<std::ptrdiff_t>(p * W + l) * co + g] = lanes[p][g][l];
}

template <int G>
struct PixelGroup {
  static void run(const float* x, const float* w, const float* bias, float* y, int h, int wd, int ow, int co, int coP, int kw, int sh, int n,
                  int oh, int yy, int o0, int i0, int i1) {
    for (int xb = 0; xb < ow; xb += 2 * W) pixelBlock<G>(x, w, bias, y, h, wd, ow, co, coP, kw, sh, n, oh, yy, std::min(xb, ow - 2 * W), o0, i0, i1);
  }
};

void conv2dPixelRows(const float* x, const float* w, const float* bias, float* y, int h, int wd, int oh, int ow, int co, int coP, int kh, int kw,
                     int sh, int rowLo, int rowHi, int r0, int r1) {
  constexpr int G = ACC / 2;
  for (int r = r0; r < r1; r++) {
    const int n = r / oh;
    const int yy = r % oh;
    // kernel rows that read only zero padding are skipped, as on the channel path
    const int i0 = std::max(0, rowLo - yy * sh);
    const int i1 = std::min(kh, rowHi - yy * sh);
    int o0 = 0;
    for (; o0 + G <= co; o0 += G) PixelGroup<G>::run(x, w, bias, y, h, wd, ow, co, coP, kw, sh, n, oh, yy, o0, i0, i1);
    switch (co - o0) {
      case 0: break;
#define EXTRA_PIXEL_TAIL(k) \
  case k: PixelGroup<(k < G ? k : 1)>::run(x, w, bias, y, h, wd, ow, co, coP, kw, sh, n, oh, yy, o0, i0, i1); break;
      EXTRA_PIXEL_TAIL(1) EXTRA_PIXEL_TAIL(2) EXTRA_PIXEL_TAIL(3) EXTRA_PIXEL_TAIL(4) EXTRA_PIXEL_TAIL(5) EXTRA_PIXEL_TAIL(6) EXTRA_PIXEL_TAIL(7)
      EXTRA_PIXEL_TAIL(8) EXTRA_PIXEL_TAIL(9) EXTRA_PIXEL_TAIL(10) EXTRA_PIXEL_TAIL(11)
#undef EXTRA_PIXEL_TAIL
      default: break;
    }
  }
}

/**
 * One block of the pixel-vector filter gradient for one image: taps j0 … j0+T−1 of kernel row i ×
 * channels o0 … o0+G−1, summed over the image's output pixels W at a time. xs holds the image's
 * input rows of rowP values (zeros past its width), dyT its dy as [co][oh][owP] (zeros past ow), so
 * lanes past a row's end add exactly zero. Each lane's partial sums are added up in lane order.
 */
template <int T, int G>
inline void pixelGradBlock(const float* xs, const float* dyT, float* dw, int rowP, int oh, int owP, int kw, int coP, int sh, int i, int j0, int o0) {
  typename Vec::V acc[T][G];
  for (int t = 0; t < T; t++)
    for (int g = 0; g < G; g++) acc[t][g] = Vec::zero();
  const std::ptrdiff_t plane = static_cast<std::ptrdiff_t>(oh) * owP;
  for (int yy = 0; yy < oh; yy++) {
    const float* xr = xs + static_cast<std::ptrdiff_t>(yy * sh + i) * rowP + j0;
    const float* dr = dyT + static_cast<std::ptrdiff_t>(o0) * plane + static_cast<std::ptrdiff_t>(yy) * owP;
    for (int xb = 0; xb < owP; xb += W) {
      typename Vec::V xv[T], dv[G];
      for (int t = 0; t < T; t++) xv[t] = Vec::load(xr + xb + t);
      for (int g = 0; g < G; g++) dv[g] = Vec::load(dr + g * plane + xb);
      for (int t = 0; t < T; t++)
        for (int g = 0; g < G; g++) acc[t][g] = Vec::fma(xv[t], dv[g], acc[t][g]);
    }
  }
  alignas(64) float lanes[W];
  for (int t = 0; t < T; t++)
    for (int g = 0; g < G; g++) {
      Vec::store(lanes, acc[t][g]);
      float sum = 0;
      for (int l = 0; l < W; l++) sum += lanes[l];
      dw[static_cast<std::ptrdiff_t>(i * kw + j0 + t) * coP + o0 + g] += sum;
    }
}

template <int T>
inline void pixelGradTaps(int g, const float* xs, const float* dyT, float* dw, int rowP, int oh, int owP, int kw, int coP, int sh, int i, int j0, int o0) {
  switch (g) {
    case 4: pixelGradBlock<T, 4>(xs, dyT, dw, rowP, oh, owP, kw, coP, sh, i, j0, o0); break;
    case 3: pixelGradBlock<T, 3>(xs, dyT, dw, rowP, oh, owP, kw, coP, sh, i, j0, o0); break;
    case 2: pixelGradBlock<T, 2>(xs, dyT, dw, rowP, oh, owP, kw, coP, sh, i, j0, o0); break;
    default: pixelGradBlock<T, 1>(xs, dyT, dw, rowP, oh, owP, kw, coP, sh, i, j0, o0); break;
  }
}

/**
 * The filter gradient of a one-input-channel, horizontal-stride-1 convolution with pixels across the
 * lanes, for the blocks [b0, b1) of (kernel row, 3 taps, 4 channels); images in order n = 0, 1, …
 * for every dw entry. The per-image copies live in this call's own buffers.
 */
void conv2dFilterGradPixelBlocks(const float* x, const float* dy, float* dw, int b, int h, int wd, int oh, int ow, int co, int coP, int dyStride,
                                 int kw, int sh, int b0, int b1) {
  const int owP = (ow + W - 1) / W * W;
  const int rowP = owP + kw - 1;
  const int tapGroups = (kw + 2) / 3;
  const int chanGroups = (co + 3) / 4;
  std::vector<float> xs(static_cast<std::size_t>(h) * rowP, 0.0f);
  std::vector<float> dyT(static_cast<std::size_t>(co) * oh * owP, 0.0f);
  for (int n = 0; n < b; n++) {
    for (int r = 0; r < h; r++) {
      const float* src = x + static_cast<std::ptrdiff_t>(n * h + r) * wd;
      std::copy(src, src + std::min(wd, rowP), xs.begin() + static_cast<std::ptrdiff_t>(r) * rowP);
    }
    for (int yy = 0; yy < oh; yy++)
      for (int xx = 0; xx < ow; xx++) {
        const float* d = dy + (static_cast<std::ptrdiff_t>(n * oh + yy) * ow + xx) * dyStride;
        for (int o = 0; o < co; o++) dyT[(static_cast<std::size_t>(o) * oh + yy) * owP + xx] = d[o];
      }
    for (int blk = b0; blk < b1; blk++) {
      const int i = blk / (tapGroups * chanGroups);
      const int rest = blk % (tapGroups * chanGroups);
      const int j0 = (rest / chanGroups) * 3;
      const int o0 = (rest % chanGroups) * 4;
      const int nt = std::min(3, kw - j0);
      const int ng = std::min(4, co - o0);
      if (nt == 3) pixelGradTaps<3>(ng, xs.data(), dyT.data(), dw, rowP, oh, owP, kw, coP, sh, i, j0, o0);
      else if (nt == 2) pixelGradTaps<2>(ng, xs.data(), dyT.data(), dw, rowP, oh, owP, kw, coP, sh, i, j0, o0);
      else pixelGradTaps<1>(ng, xs.data(), dyT.data(), dw, rowP, oh, owP, kw, coP, sh, i, j0, o0);
    }
  }
}

/**
 * The max-pool gradient for the images [n0, n1) (dx zeroed by the caller): each dy entry goes to the
 * first maximum of its window (windows clipped at the borders; a NaN first in its window keeps it),
 * the window's argmax found for all channels at once in loops that vectorise (one channel at a time,
 * a branch per tap mispredicted: 20 ms for resnet18's 3 × 3 stem pool). dx entries receive their
 * additions in the same order as one channel at a time would give them.
 */
void maxPoolGradImages(const float* x, const float* dy, float* dx, int h, int w, int c, int oh, int ow, int fh, int fw, int sh, int sw, int top, int left,
                       int n0, int n1) {
  std::vector<float> best(c);
  std::vector<int> arg(c);
  for (int n = n0; n < n1; n++)
    for (int yr = 0; yr < oh; yr++)
      for (int yc = 0; yc < ow; yc++) {
        const int r0 = std::max(0, yr * sh - top), r1 = std::min(h, yr * sh - top + fh);
        const int c0 = std::max(0, yc * sw - left), c1 = std::min(w, yc * sw - left + fw);
        if (r0 >= r1 || c0 >= c1) continue;
        float* bp = best.data();
        int* ap = arg.data();
        const float* first = x + (static_cast<std::ptrdiff_t>(n * h + r0) * w + c0) * c;
        for (int ch = 0; ch < c; ch++) {
          bp[ch] = first[ch];
          ap[ch] = r0 * w + c0;
        }
        for (int r = r0; r < r1; r++)
          for (int q = c0; q < c1; q++) {
            if (r == r0 && q == c0) continue;
            const float* xp = x + (static_cast<std::ptrdiff_t>(n * h + r) * w + q) * c;
            const int pixel = r * w + q;
            for (int ch = 0; ch < c; ch++) {
              const bool larger = xp[ch] > bp[ch];
              bp[ch] = larger ? xp[ch] : bp[ch];
              ap[ch] = larger ? pixel : ap[ch];
            }
          }
        const float* dyp = dy + (static_cast<std::ptrdiff_t>(n * oh + yr) * ow + yc) * c;
        float* dxn = dx + static_cast<std::ptrdiff_t>(n) * h * w * c;
        for (int ch = 0; ch < c; ch++) dxn[static_cast<std::ptrdiff_t>(ap[ch]) * c + ch] += dyp[ch];
      }
}

/**
 * Max pooling for the images [n0, n1): each output the largest input of its window (windows clipped at
 * the borders, padding never counts), W channels at a time; a NaN input never wins, as on the cpu
 * backend, whose running maximum starts at −∞ and takes only larger values.
 */
void maxPoolImages(const float* x, float* y, int h, int w, int c, int oh, int ow, int fh, int fw, int sh, int sw, int top, int left, int n0, int n1) {
  for (int n = n0; n < n1; n++)
    for (int yr = 0; yr < oh; yr++)
      for (int yc = 0; yc < ow; yc++) {
        const int r0 = std::max(0, yr * sh - top), r1 = std::min(h, yr * sh - top + fh);
        const int c0 = std::max(0, yc * sw - left), c1 = std::min(w, yc * sw - left + fw);
        float* out = y + (static_cast<std::ptrdiff_t>(n * oh + yr) * ow + yc) * c;
        int ch = 0;
        for (; ch + W <= c; ch += W) {
          typename Vec::V best = Vec::set1(-std::numeric_limits<float>::infinity());
          for (int r = r0; r < r1; r++)
            for (int q = c0; q < c1; q++) best = Vec::max(Vec::load(x + (static_cast<std::ptrdiff_t>(n * h + r) * w + q) * c + ch), best);
          Vec::store(out + ch, best);
        }
        for (; ch < c; ch++) {
          float best = -std::numeric_limits<float>::infinity();
          for (int r = r0; r < r1; r++)
            for (int q = c0; q < c1; q++) {
              const float v = x[(static_cast<std::ptrdiff_t>(n * h + r) * w + q) * c + ch];
              if (v > best) best = v;
            }
          out[ch] = best;
        }
      }
}

/** 2^n as a float for n in [−126, 127], from its exponent bits. */
inline float powerOfTwo(int n) {
  const std::int32_t bits = (n + 127) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/**
 * e^x in single precision, within 1 ulp (0.89 in a sweep of 3 M values against float64; denormal
 * results within one denormal step): n = round(x / ln 2) by the 1.5·2^23 rounding trick, r = x − n·ln 2
 * in two parts (Cody–Waite), e^r by its Taylor polynomial of degree 7 (|r| ≤ ln 2 / 2), then 2^n applied
 * as two exact powers of two so that a denormal result is rounded once. Every fused multiply-add is
 * written as std::fma (the build turns contraction off), so each path and each lane rounds alike.
 * x is clamped to [−104, 89] first: below, the result rounds to 0; above, to +∞. NaN stays NaN.
 */
inline float expOf(float x) {
  const float c = std::min(89.0f, std::max(-104.0f, x));
  const float n = std::fma(c, 1.44269504088896341f, 12582912.0f) - 12582912.0f;
  float r = std::fma(-n, 0.693145751953125f, c);
  r = std::fma(-n, 1.428606765330187e-06f, r);
  float p = 1.0f / 5040;
  p = std::fma(p, r, 1.0f / 720);
  p = std::fma(p, r, 1.0f / 120);
  p = std::fma(p, r, 1.0f / 24);
  p = std::fma(p, r, 1.0f / 6);
  p = std::fma(p, r, 0.5f);
  p = std::fma(p, r, 1.0f);
  p = std::fma(p, r, 1.0f);
  const int k = static_cast<int>(n);
  const int k1 = k >> 1;
  const float e = p * powerOfTwo(k1) * powerOfTwo(k - k1);
  return std::isnan(x) ? x : e;
}

/**
 * erf(x) in single precision, within 2.5 ulp of float64's (a sweep of 9 M values): for |x| < 1,
 * x·P(x²) with P of degree 6; for 1 ≤ |x| < 4, 1 − e^(−x²)·Q(1/|x|) with Q of degree 10 (least-squares
 * fits of erf(x)/x and erfc(x)·e^(x²) made for this kernel, relative errors 5e-9 and 7e-9 before
 * rounding); beyond 4, the tail at 4, which rounds to exactly 1 (erfc(4) = 1.5e-8 is below half an ulp of
 * 1). Both pieces are computed for every lane and one kept: with -fno-trapping-math (binding.gyp) the
 * loop vectorises on AVX2 too. NaN stays NaN.
 */
inline float erfOf(float x) {
  const float a = std::fabs(x);
  const float z = a * a;
  float p = 8.006874276358234e-05f;
  p = std::fma(p, z, -8.053751167191404e-04f);
  p = std::fma(p, z, 5.192957873939064e-03f);
  p = std::fma(p, z, -2.685606957301966e-02f);
  p = std::fma(p, z, 1.1283634634473105e-01f);
  p = std::fma(p, z, -3.761262976711394e-01f);
  p = std::fma(p, z, 1.1283791662326554f);
  const float small = a * p;
  const float b = std::min(4.0f, std::max(1.0f, a));
  const float t = 1.0f / b;
  float q = -0.036817248683263089f;
  q = std::fma(q, t, 0.25549888768594659f);
  q = std::fma(q, t, -0.78422766255665288f);
  q = std::fma(q, t, 1.3800751012362946f);
  q = std::fma(q, t, -1.4772219473920507f);
  q = std::fma(q, t, 0.86612948993942385f);
  q = std::fma(q, t, -0.053209067891723277f);
  q = std::fma(q, t, -0.29034234877700765f);
  q = std::fma(q, t, 0.00407120810549641f);
  q = std::fma(q, t, 0.56359479001373669f);
  q = std::fma(q, t, 3.2371651605189733e-05f);
  const float large = 1.0f - expOf(-(b * b)) * q;
  const float m = a < 1.0f ? small : large;
  return std::isnan(x) ? x : std::copysign(m, x);
}

/**
 * For i in [i0, i1): out[i] = e^x[i] (op 0), erf(x[i]) (op 1), GELU(x[i]) = (x/2)·(1 + erf(x/√2)) (op 2,
 * rounded as that expression is, step by step, with √2 as a float), or GELU's gradient dy[i]·(Φ(x) +
 * x·φ(x)) (op 3, Φ(x) = (1 + erf(x/√2))/2, φ the normal density): the erf GELU of a transformer in one
 * pass forward and one back, where its ops take five and about ten.
 */
void unaryMathRange(const float* x, const float* dy, float* out, long i0, long i1, int op) {
  constexpr float sqrt2 = 1.41421356237309505f;
  constexpr float invSqrt2Pi = 0.398942280401432678f;
  switch (op) {
    case 0: for (long i = i0; i < i1; i++) out[i] = expOf(x[i]); break;
    case 1: for (long i = i0; i < i1; i++) out[i] = erfOf(x[i]); break;
    case 2: for (long i = i0; i < i1; i++) out[i] = (x[i] * 0.5f) * (1.0f + erfOf(x[i] / sqrt2)); break;
    default:
      for (long i = i0; i < i1; i++) {
        const float v = x[i];
        const float cdf = 0.5f * (1.0f + erfOf(v / sqrt2));
        const float pdf = invSqrt2Pi * expOf(-0.5f * (v * v));
        out[i] = dy[i] * (cdf + v * pdf);
      }
  }
}

/**
 * C [M, N] (rows ldc apart) = op(A)·B for a B [K, N] whose rows lie ldb apart: read as it lies where N
 * is a whole number of vectors, else packed into `panels` (K·roundUp(N, W) floats) first; transB: B is
 * given as [N, K] (rows ldb apart) and always packed. One thread's whole small product.
 */
inline void stridedProduct(const float* A, int lda, bool transA, const float* B, int ldb, bool transB, float* C, int ldc, int M, int N, int K,
                           float* panels) {
  const int Np = (N + W - 1) / W * W;
  if (!transB && N == Np) {
    gemmStridedRows(A, lda, B, C, ldc, N, N, K, transA, 0, M, ldb, nullptr);
    return;
  }
  packedPanels(B, panels, K, N, Np, W, transB, 0, K, ldb);
  gemmStridedRows(A, lda, panels, C, ldc, N, Np, K, transA, 0, M, 0, nullptr);
}

/** Scales a row by `scale` in place and returns its largest value (the order of a maximum changes nothing). */
inline float scaledRowMax(float* row, int n, float scale) {
  typename Vec::V m = Vec::set1(-std::numeric_limits<float>::infinity());
  const typename Vec::V sv = Vec::set1(scale);
  int s = 0;
  for (; s + W <= n; s += W) {
    const typename Vec::V v = Vec::mul(Vec::load(row + s), sv);
    Vec::store(row + s, v);
    m = Vec::max(v, m);
  }
  alignas(64) float lanes[W];
  Vec::store(lanes, m);
  float best = lanes[0];
  for (int l = 1; l < W; l++) best = std::max(best, lanes[l]);
  for (; s < n; s++) {
    row[s] *= scale;
    best = std::max(best, row[s]);
  }
  return best;
}

/**
 * Scaled dot-product attention of heads [h0, h1) of a batch (head index = image · H + head): per head,
 * P = softmax(scale · Q·Kᵀ) over each row, kept in p [T, T] for the gradient, and O = P·V. Head n of
 * image b reads Q at q + b·T·qs + n·D (rows qs apart), likewise K and V, and writes O at out + b·T·os + n·D.
 * The softmax is that of the ops it replaces: z = scale·s, e^(z − max) (expOf), the row's sum in
 * double (rowTotal), each entry e / sum. Each head is one thread's work: the thread count changes
 * no bit, and the lane count neither (the products sum over k in order in every lane; the row sums are scalar).
 */
void attentionHeads(HeadOperands o, float* out, int os, float* p, int T, int D, int H, float scale, int h0, int h1) {
  thread_local std::vector<float> panels;
  const std::size_t need = static_cast<std::size_t>(std::max(T, D) + W) * static_cast<std::size_t>(std::max(T, D) + W);
  if (panels.size() < need) panels.resize(need);
  for (int n = h0; n < h1; n++) {
    const int b = n / H, head = n % H;
    const float* q = o.q + static_cast<std::ptrdiff_t>(b) * T * o.qs + head * D;
    const float* k = o.k + static_cast<std::ptrdiff_t>(b) * T * o.ks + head * D;
    const float* v = o.v + static_cast<std::ptrdiff_t>(b) * T * o.vs + head * D;
    float* pn = p + static_cast<std::ptrdiff_t>(n) * T * T;
    stridedProduct(q, o.qs, false, k, o.ks, true, pn, T, T, T, D, panels.data());
    for (int t = 0; t < T; t++) {
      float* row = pn + static_cast<std::ptrdiff_t>(t) * T;
      const float m = scaledRowMax(row, T, scale);
      for (int s = 0; s < T; s++) row[s] = expOf(row[s] - m);
      const float total = static_cast<float>(rowTotal(T, [&](int s) { return static_cast<double>(row[s]); }));
      for (int s = 0; s < T; s++) row[s] /= total;
    }
    stridedProduct(pn, T, false, v, o.vs, false, out + static_cast<std::ptrdiff_t>(b) * T * os + head * D, os, T, D, T, panels.data());
  }
}

/**
 * The gradient of attentionHeads for heads [h0, h1): with dO (rows os apart) and the kept P,
 *   dP = dO·Vᵀ,  dS = scale · P ∘ (dP − Σ_s P∘dP),  dV = Pᵀ·dO,  dQ = dS·K,  dK = dSᵀ·Q,
 * each written (not added) at its head's place in dq, dk, dv (rows dqs, dks, dvs apart). Per head on one
 * thread, the row sums in double (rowTotal), as attentionHeads.
 */
void attentionGradHeads(HeadOperands o, const float* dout, int os, const float* p, float* dq, int dqs, float* dk, int dks, float* dv, int dvs, int T,
                        int D, int H, float scale, int h0, int h1) {
  thread_local std::vector<float> panels;
  thread_local std::vector<float> ds;
  const std::size_t need = static_cast<std::size_t>(std::max(T, D) + W) * static_cast<std::size_t>(std::max(T, D) + W);
  if (panels.size() < need) panels.resize(need);
  if (ds.size() < static_cast<std::size_t>(T) * T) ds.resize(static_cast<std::size_t>(T) * T);
  for (int n = h0; n < h1; n++) {
    const int b = n / H, head = n % H;
    const std::ptrdiff_t at = head * D;
    const float* q = o.q + static_cast<std::ptrdiff_t>(b) * T * o.qs + at;
    const float* k = o.k + static_cast<std::ptrdiff_t>(b) * T * o.ks + at;
    const float* v = o.v + static_cast<std::ptrdiff_t>(b) * T * o.vs + at;
    const float* dO = dout + static_cast<std::ptrdiff_t>(b) * T * os + at;
    const float* pn = p + static_cast<std::ptrdiff_t>(n) * T * T;
    float* g = ds.data();
    stridedProduct(dO, os, false, v, o.vs, true, g, T, T, T, D, panels.data());
    for (int t = 0; t < T; t++) {
      const float* pr = pn + static_cast<std::ptrdiff_t>(t) * T;
      float* gr = g + static_cast<std::ptrdiff_t>(t) * T;
      const float d = static_cast<float>(rowTotal(T, [&](int s) { return static_cast<double>(pr[s]) * static_cast<double>(gr[s]); }));
      for (int s = 0; s < T; s++) gr[s] = (pr[s] * (gr[s] - d)) * scale;
    }
    stridedProduct(pn, T, true, dO, os, false, dv + static_cast<std::ptrdiff_t>(b) * T * dvs + at, dvs, T, D, T, panels.data());
    stridedProduct(g, T, false, k, o.ks, false, dq + static_cast<std::ptrdiff_t>(b) * T * dqs + at, dqs, T, D, T, panels.data());
    stridedProduct(g, T, true, q, o.qs, false, dk + static_cast<std::ptrdiff_t>(b) * T * dks + at, dks, T, D, T, panels.data());
  }
}

/**
 * LayerNormalization's row passes, per instruction set so that the float loops run on its widest vectors
 * (as plain SSE2 in kernels.cc they took 4 % of a ViT step): rows [r0, r1). The double sums are rowTotal's
 * fixed four partial sums and every float operation is the same on each path, so the bits are too.
 * The mean is kept as two floats, mean[r] + mean[rows + r] (its rounding error), so that a row whose mean
 * is thousands of times its spread is centred as exactly as in double.
 */
void rowMomentsRows(const float* x, float* mean, float* variance, long rows, int cols, long r0, long r1) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + static_cast<std::size_t>(r) * cols;
    const double m = rowTotal(cols, [&](int c) { return static_cast<double>(xr[c]); }) / cols;
    const double v = rowTotal(cols, [&](int c) { return (static_cast<double>(xr[c]) - m) * (static_cast<double>(xr[c]) - m); }) / cols;
    mean[r] = static_cast<float>(m);
    mean[rows + r] = static_cast<float>(m - static_cast<double>(mean[r]));
    variance[r] = static_cast<float>(v);
  }
}

/** out[r, c] = ((x[r, c] − mean) − its rounding error)·rstd[r]·γ[c] + β[c] */
void rowAffineRows(const float* x, const float* mean, const float* rstd, const float* gamma, const float* beta, float* out, long rows, int cols,
                   long r0, long r1) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + static_cast<std::size_t>(r) * cols;
    float* o = out + static_cast<std::size_t>(r) * cols;
    const float m = mean[r], lo = mean[rows + r], s = rstd[r];
    for (int c = 0; c < cols; c++) o[c] = ((xr[c] - m) - lo) * s * gamma[c] + beta[c];
  }
}

/** dx = rstd·(g − Σg/C − x̂·Σ(g·x̂)/C) per row, g = dy·γ, x̂ = (x − mean)·rstd (the closed form; the sums in double) */
void layerNormGradRows(const float* x, const float* dy, const float* mean, const float* rstd, const float* gamma, float* dx, long rows, int cols,
                       long r0, long r1) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + static_cast<std::size_t>(r) * cols;
    const float* dr = dy + static_cast<std::size_t>(r) * cols;
    float* o = dx + static_cast<std::size_t>(r) * cols;
    const double m = static_cast<double>(mean[r]) + static_cast<double>(mean[rows + r]), s = rstd[r];
    const double sumG = rowTotal(cols, [&](int c) { return static_cast<double>(dr[c]) * gamma[c]; });
    const double sumGX = rowTotal(cols, [&](int c) { return static_cast<double>(dr[c]) * gamma[c] * ((static_cast<double>(xr[c]) - m) * s); });
    const float a0 = static_cast<float>(sumG / cols), a1 = static_cast<float>(sumGX / cols), sf = static_cast<float>(s), mf = mean[r], lo = mean[rows + r];
    for (int c = 0; c < cols; c++) o[c] = sf * (dr[c] * gamma[c] - a0 - ((xr[c] - mf) - lo) * sf * a1);
  }
}

}  // namespace

// The table this instruction set hands to kernels.cc.
const KernelSet kernelSet = {
  W,
  ACC,
  conv2dValidRows,
  conv2dImageTiles,
  conv2dFilterGradBlocks,
  columnSumsRange,
  addBiasRows,
  maxPoolGrad2x2Images,
  gemmRows,
  conv2dPixelRows,
  conv2dFilterGradPixelBlocks,
  maxPoolImages,
  unaryMathRange,
  maxPoolGradImages,
  columnMomentsRange,
  channelAffineRows,
  attentionHeads,
  attentionGradHeads,
  rowMomentsRows,
  rowAffineRows,
  layerNormGradRows,
};
