/**
 * WebAssembly SIMD kernels for lenet-style conv nets on tfjs-backend-wasm (AssemblyScript, built by
 * `npm run build:wasm` into dist/backend/kernels.wasm). The module imports tfjs-wasm's own memory,
 * so every pointer below is a byte offset of a tfjs tensor: no copies between two heaps.
 *
 * Hand-written because XNNPACK (inside tfjs-wasm) has no convolution-gradient operators and its
 * forward convolution runs far below the matMul peak for few input channels; no maintained package
 * ships wasm conv kernels that can work on another module's memory.
 *
 * Layouts are tfjs ones: activations NHWC, filters [kh, kw, ci, co]. Output channels are processed
 * in blocks of up to 12 (three f32x4 vectors); `coP` is co rounded up to a multiple of 4, and the
 * operands whose channel axis is read vector-wise are padded to coP by the caller. Summation order is
 * fixed by the loops, so results are deterministic.
 */

/** Output pixels per block of the direct convolution (accumulators: PIX × 3 vectors). */
const PIX = 2;
/** Filter taps per block of the filter gradient (accumulators: TAPS × 3 vectors). */
const TAPS = 4;

@inline function splat4(p: usize): v128 {
  return v128.load32_splat(p);
}

@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** Store the first `remaining` (capped at 4) lanes of v at p. */
@inline function storePartial(p: usize, v: v128, remaining: i32): void {
  if (remaining >= 4) {
    v128.store(p, v);
  } else {
    if (remaining > 0) store<f32>(p, f32x4.extract_lane(v, 0));
    if (remaining > 1) store<f32>(p + 4, f32x4.extract_lane(v, 1));
    if (remaining > 2) store<f32>(p + 8, f32x4.extract_lane(v, 2));
  }
}

/**
 * One block of a 'valid' convolution: `np` neighbouring output pixels × `nv` channel vectors.
 * x: padded input [b, h, wd, ci]; w: filter [kh·kw·ci, coP]; y: output [b, oh, ow, co].
 * `np` and `nv` are compile-time constants at every call site, so the branches fold away.
 */
@inline function convBlock(
  x: usize, w: usize, bias: usize, y: usize, h: i32, wd: i32, ci: i32, co: i32, coP: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  n: i32, oh: i32, ow: i32, yy: i32, x0: i32, o: i32, rowLo: i32, rowHi: i32, colLo: i32, colHi: i32, np: i32, nv: i32,
): void {
  const zero = f32x4.splat(0);
  let a00 = zero, a01 = zero, a02 = zero;
  let a10 = zero, a11 = zero, a12 = zero;
  let a20 = zero, a21 = zero, a22 = zero;
  let a30 = zero, a31 = zero, a32 = zero;
  const rowLen = kw * ci;
  const xStep = <usize>(sw * ci) << 2;
  const wStep = <usize>coP << 2;
  // kernel rows and columns that read only the zero padding of every pixel of the block are skipped
  const i0 = max(0, rowLo - yy * sh);
  const i1 = min(kh, rowHi - yy * sh);
  const q0 = max(0, colLo - (x0 + np - 1) * sw) * ci;
  const q1 = min(kw, colHi - x0 * sw) * ci;
  for (let i = i0; i < i1; i++) {
    let xp = x + ((<usize>(((n * h + yy * sh + i) * wd + x0 * sw) * ci + q0)) << 2);
    let wp = w + ((<usize>((i * rowLen + q0) * coP + o)) << 2);
    for (let q = q0; q < q1; q++) {
      const w0 = v128.load(wp);
      const w1 = nv >= 2 ? v128.load(wp, 16) : zero;
      const w2 = nv >= 3 ? v128.load(wp, 32) : zero;
      const s0 = splat4(xp);
      a00 = madd(a00, s0, w0);
      if (nv >= 2) a01 = madd(a01, s0, w1);
      if (nv >= 3) a02 = madd(a02, s0, w2);
      if (np >= 2) {
        const s1 = splat4(xp + xStep);
        a10 = madd(a10, s1, w0);
        if (nv >= 2) a11 = madd(a11, s1, w1);
        if (nv >= 3) a12 = madd(a12, s1, w2);
      }
      if (np >= 3) {
        const s2 = splat4(xp + 2 * xStep);
        a20 = madd(a20, s2, w0);
        if (nv >= 2) a21 = madd(a21, s2, w1);
        if (nv >= 3) a22 = madd(a22, s2, w2);
      }
      if (np >= 4) {
        const s3 = splat4(xp + 3 * xStep);
        a30 = madd(a30, s3, w0);
        if (nv >= 2) a31 = madd(a31, s3, w1);
        if (nv >= 3) a32 = madd(a32, s3, w2);
      }
      xp += 4;
      wp += wStep;
    }
  }
  if (bias) {
    // added after the sum, as a separate bias add would: the same floats as conv + add
    const b0 = v128.load(bias + ((<usize>o) << 2));
    const b1 = nv >= 2 ? v128.load(bias + ((<usize>o) << 2), 16) : zero;
    const b2 = nv >= 3 ? v128.load(bias + ((<usize>o) << 2), 32) : zero;
    a00 = f32x4.add(a00, b0); a01 = f32x4.add(a01, b1); a02 = f32x4.add(a02, b2);
    a10 = f32x4.add(a10, b0); a11 = f32x4.add(a11, b1); a12 = f32x4.add(a12, b2);
    a20 = f32x4.add(a20, b0); a21 = f32x4.add(a21, b1); a22 = f32x4.add(a22, b2);
    a30 = f32x4.add(a30, b0); a31 = f32x4.add(a31, b1); a32 = f32x4.add(a32, b2);
  }
  const rem = co - o;
  let yp = y + ((<usize>(((n * oh + yy) * ow + x0) * co + o)) << 2);
  const yStep = <usize>co << 2;
  storePartial(yp, a00, rem);
  if (nv >= 2) storePartial(yp + 16, a01, rem - 4);
  if (nv >= 3) storePartial(yp + 32, a02, rem - 8);
  if (np >= 2) {
    yp += yStep;
    storePartial(yp, a10, rem);
    if (nv >= 2) storePartial(yp + 16, a11, rem - 4);
    if (nv >= 3) storePartial(yp + 32, a12, rem - 8);
  }
  if (np >= 3) {
    yp += yStep;
    storePartial(yp, a20, rem);
    if (nv >= 2) storePartial(yp + 16, a21, rem - 4);
    if (nv >= 3) storePartial(yp + 32, a22, rem - 8);
  }
  if (np >= 4) {
    yp += yStep;
    storePartial(yp, a30, rem);
    if (nv >= 2) storePartial(yp + 16, a31, rem - 4);
    if (nv >= 3) storePartial(yp + 32, a32, rem - 8);
  }
}

/**
 * y = conv2d(x, w), 'valid' on an already padded input, strides (sh, sw), no dilation.
 * x [b, h, wd, ci], w [kh·kw·ci, coP] (channel-padded), y [b, oh, ow, co]; bias [coP] is added
 * when its pointer is not 0. Rows outside [rowLo, rowHi) and columns outside [colLo, colHi) of x are
 * known to be zero padding.
 */
export function conv2dValid(
  x: usize, w: usize, bias: usize, y: usize, b: i32, h: i32, wd: i32, ci: i32, oh: i32, ow: i32, co: i32, coP: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  rowLo: i32, rowHi: i32, colLo: i32, colHi: i32,
): void {
  for (let n = 0; n < b; n++) {
    for (let yy = 0; yy < oh; yy++) {
      let x0 = 0;
      for (; x0 + PIX <= ow; x0 += PIX) {
        for (let o = 0; o < coP; o += 12) {
          const nv = min(3, (coP - o) >> 2);
          if (nv == 3) convBlock(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n, oh, ow, yy, x0, o, rowLo, rowHi, colLo, colHi, PIX, 3);
          else if (nv == 2) convBlock(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n, oh, ow, yy, x0, o, rowLo, rowHi, colLo, colHi, PIX, 2);
          else convBlock(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n, oh, ow, yy, x0, o, rowLo, rowHi, colLo, colHi, PIX, 1);
        }
      }
      for (; x0 < ow; x0++) {
        for (let o = 0; o < coP; o += 12) {
          const nv = min(3, (coP - o) >> 2);
          if (nv == 3) convBlock(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n, oh, ow, yy, x0, o, rowLo, rowHi, colLo, colHi, 1, 3);
          else if (nv == 2) convBlock(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n, oh, ow, yy, x0, o, rowLo, rowHi, colLo, colHi, 1, 2);
          else convBlock(x, w, bias, y, h, wd, ci, co, coP, kh, kw, sh, sw, n, oh, ow, yy, x0, o, rowLo, rowHi, colLo, colHi, 1, 1);
        }
      }
    }
  }
}

/**
 * One block of the filter gradient for image n and kernel row i: `nt` neighbouring taps of that row
 * × `nv` channel vectors, summed over every output pixel of the image and added into dw.
 */
@inline function filterGradBlock(
  x: usize, dy: usize, dw: usize, h: i32, wd: i32, ci: i32, coP: i32, dyStride: i32, kw: i32, sh: i32, sw: i32,
  n: i32, oh: i32, ow: i32, i: i32, q0: i32, o: i32, nt: i32, nv: i32,
): void {
  const zero = f32x4.splat(0);
  let a00 = zero, a01 = zero, a02 = zero;
  let a10 = zero, a11 = zero, a12 = zero;
  let a20 = zero, a21 = zero, a22 = zero;
  let a30 = zero, a31 = zero, a32 = zero;
  const xStep = <usize>(sw * ci) << 2;
  const dStep = <usize>dyStride << 2;
  for (let yy = 0; yy < oh; yy++) {
    let xp = x + ((<usize>((n * h + yy * sh + i) * wd * ci + q0)) << 2);
    let dp = dy + ((<usize>((n * oh + yy) * ow * dyStride + o)) << 2);
    for (let xx = 0; xx < ow; xx++) {
      const d0 = v128.load(dp);
      const d1 = nv >= 2 ? v128.load(dp, 16) : zero;
      const d2 = nv >= 3 ? v128.load(dp, 32) : zero;
      const s0 = splat4(xp);
      a00 = madd(a00, s0, d0);
      if (nv >= 2) a01 = madd(a01, s0, d1);
      if (nv >= 3) a02 = madd(a02, s0, d2);
      if (nt >= 2) {
        const s1 = splat4(xp + 4);
        a10 = madd(a10, s1, d0);
        if (nv >= 2) a11 = madd(a11, s1, d1);
        if (nv >= 3) a12 = madd(a12, s1, d2);
      }
      if (nt >= 3) {
        const s2 = splat4(xp + 8);
        a20 = madd(a20, s2, d0);
        if (nv >= 2) a21 = madd(a21, s2, d1);
        if (nv >= 3) a22 = madd(a22, s2, d2);
      }
      if (nt >= 4) {
        const s3 = splat4(xp + 12);
        a30 = madd(a30, s3, d0);
        if (nv >= 2) a31 = madd(a31, s3, d1);
        if (nv >= 3) a32 = madd(a32, s3, d2);
      }
      xp += xStep;
      dp += dStep;
    }
  }
  const tStep = <usize>coP << 2;
  let wp = dw + ((<usize>((i * kw * ci + q0) * coP + o)) << 2);
  v128.store(wp, f32x4.add(v128.load(wp), a00));
  if (nv >= 2) v128.store(wp, f32x4.add(v128.load(wp, 16), a01), 16);
  if (nv >= 3) v128.store(wp, f32x4.add(v128.load(wp, 32), a02), 32);
  if (nt >= 2) {
    wp += tStep;
    v128.store(wp, f32x4.add(v128.load(wp), a10));
    if (nv >= 2) v128.store(wp, f32x4.add(v128.load(wp, 16), a11), 16);
    if (nv >= 3) v128.store(wp, f32x4.add(v128.load(wp, 32), a12), 32);
  }
  if (nt >= 3) {
    wp += tStep;
    v128.store(wp, f32x4.add(v128.load(wp), a20));
    if (nv >= 2) v128.store(wp, f32x4.add(v128.load(wp, 16), a21), 16);
    if (nv >= 3) v128.store(wp, f32x4.add(v128.load(wp, 32), a22), 32);
  }
  if (nt >= 4) {
    wp += tStep;
    v128.store(wp, f32x4.add(v128.load(wp), a30));
    if (nv >= 2) v128.store(wp, f32x4.add(v128.load(wp, 16), a31), 16);
    if (nv >= 3) v128.store(wp, f32x4.add(v128.load(wp, 32), a32), 32);
  }
}

/**
 * dw += Σ_{n, pixels} patch ⊗ dy for a 'valid' convolution on an already padded input.
 * x [b, h, wd, ci]; dy [b, oh, ow, dyStride] with dyStride = co or coP; dw [kh·kw·ci, coP] (zeroed by
 * the caller). With dyStride = co < coP the last vector of a pixel reads the next pixel's first
 * channels: they only reach dw's padding columns, which the caller drops (and it checks that the read
 * past the last pixel stays inside the memory).
 */
export function conv2dFilterGrad(
  x: usize, dy: usize, dw: usize, b: i32, h: i32, wd: i32, ci: i32, oh: i32, ow: i32, coP: i32, dyStride: i32, kh: i32, kw: i32, sh: i32, sw: i32,
): void {
  const rowLen = kw * ci;
  for (let n = 0; n < b; n++) {
    for (let i = 0; i < kh; i++) {
      let q0 = 0;
      for (; q0 + TAPS <= rowLen; q0 += TAPS) {
        for (let o = 0; o < coP; o += 12) {
          const nv = min(3, (coP - o) >> 2);
          if (nv == 3) filterGradBlock(x, dy, dw, h, wd, ci, coP, dyStride, kw, sh, sw, n, oh, ow, i, q0, o, TAPS, 3);
          else if (nv == 2) filterGradBlock(x, dy, dw, h, wd, ci, coP, dyStride, kw, sh, sw, n, oh, ow, i, q0, o, TAPS, 2);
          else filterGradBlock(x, dy, dw, h, wd, ci, coP, dyStride, kw, sh, sw, n, oh, ow, i, q0, o, TAPS, 1);
        }
      }
      for (; q0 < rowLen; q0++) {
        for (let o = 0; o < coP; o += 12) {
          const nv = min(3, (coP - o) >> 2);
          if (nv == 3) filterGradBlock(x, dy, dw, h, wd, ci, coP, dyStride, kw, sh, sw, n, oh, ow, i, q0, o, 1, 3);
          else if (nv == 2) filterGradBlock(x, dy, dw, h, wd, ci, coP, dyStride, kw, sh, sw, n, oh, ow, i, q0, o, 1, 2);
          else filterGradBlock(x, dy, dw, h, wd, ci, coP, dyStride, kw, sh, sw, n, oh, ow, i, q0, o, 1, 1);
        }
      }
    }
  }
}

/**
 * dst [b, hp, wp, cp] = src [b, h, w, c] placed at (top, left), channels padded from c to cp,
 * zeros elsewhere. Used for spatial padding and for channel padding (or both).
 */
export function padNHWC(src: usize, dst: usize, b: i32, h: i32, w: i32, c: i32, hp: i32, wp: i32, cp: i32, top: i32, left: i32): void {
  memory.fill(dst, 0, <usize>(b * hp * wp * cp) << 2);
  for (let n = 0; n < b; n++) {
    for (let r = 0; r < h; r++) {
      const s = src + ((<usize>((n * h + r) * w * c)) << 2);
      const d = dst + ((<usize>(((n * hp + r + top) * wp + left) * cp)) << 2);
      if (cp == c) {
        memory.copy(d, s, <usize>(w * c) << 2);
      } else {
        for (let q = 0; q < w; q++) memory.copy(d + ((<usize>(q * cp)) << 2), s + ((<usize>(q * c)) << 2), <usize>c << 2);
      }
    }
  }
}

/**
 * Filter for the input gradient of a stride-1 convolution: dst[kh−1−i, kw−1−j, o, c] = w[i, j, c, o],
 * with the last axis padded from ci to ciP (so dx = conv2dValid(padded dy, dst)).
 */
export function flipFilter(w: usize, dst: usize, kh: i32, kw: i32, ci: i32, co: i32, ciP: i32): void {
  memory.fill(dst, 0, <usize>(kh * kw * co * ciP) << 2);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < ci; c++)
        for (let o = 0; o < co; o++) {
          const v = load<f32>(w + ((<usize>(((i * kw + j) * ci + c) * co + o)) << 2));
          store<f32>(dst + ((<usize>((((kh - 1 - i) * kw + (kw - 1 - j)) * co + o) * ciP + c)) << 2), v);
        }
}

/** dst [rows, cp] = src [rows, c] with zero columns appended. */
export function padColumns(src: usize, dst: usize, rows: i32, c: i32, cp: i32): void {
  padNHWC(src, dst, 1, rows, 1, c, rows, 1, cp, 0, 0);
}

/** dst [rows, c] = the first c columns of src [rows, cp]. */
export function cropColumns(src: usize, dst: usize, rows: i32, c: i32, cp: i32): void {
  for (let r = 0; r < rows; r++) memory.copy(dst + ((<usize>(r * c)) << 2), src + ((<usize>(r * cp)) << 2), <usize>c << 2);
}

/**
 * Max-pool gradient: each dy entry goes to the first maximum of its window (tfjs cpu's rule; windows
 * clipped at the borders). x [b, h, w, c], dy [b, oh, ow, c], dx [b, h, w, c].
 */
export function maxPoolGrad(
  x: usize, dy: usize, dx: usize, b: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, fh: i32, fw: i32, sh: i32, sw: i32, top: i32, left: i32,
): void {
  memory.fill(dx, 0, <usize>(b * h * w * c) << 2);
  for (let n = 0; n < b; n++)
    for (let yr = 0; yr < oh; yr++)
      for (let yc = 0; yc < ow; yc++) {
        const r0 = max(0, yr * sh - top);
        const r1 = min(h, yr * sh - top + fh);
        const c0 = max(0, yc * sw - left);
        const c1 = min(w, yc * sw - left + fw);
        if (r0 >= r1 || c0 >= c1) continue;
        const dyBase = ((n * oh + yr) * ow + yc) * c;
        for (let ch = 0; ch < c; ch++) {
          let best: f32 = 0;
          let arg = -1;
          for (let r = r0; r < r1; r++)
            for (let q = c0; q < c1; q++) {
              const idx = ((n * h + r) * w + q) * c + ch;
              const v = load<f32>(x + ((<usize>idx) << 2));
              if (arg < 0 || v > best) {
                best = v;
                arg = idx;
              }
            }
          const dp = dx + ((<usize>arg) << 2);
          store<f32>(dp, load<f32>(dp) + load<f32>(dy + ((<usize>(dyBase + ch)) << 2)));
        }
      }
}

/**
 * Max-pool gradient for the common 2×2 window, stride 2, no padding: every input lies in at most one
 * window, so dx is written once (no zero fill, no scatter), four channels at a time. The first
 * maximum of each window gets dy, matching maxPoolGrad for ordered (non-NaN) inputs.
 */
export function maxPoolGrad2x2(x: usize, dy: usize, dx: usize, b: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32): void {
  if (h != 2 * oh || w != 2 * ow) memory.fill(dx, 0, <usize>(b * h * w * c) << 2);
  const c4 = c & ~3;
  const rowBytes = <usize>(w * c) << 2;
  const colBytes = <usize>c << 2;
  for (let n = 0; n < b; n++)
    for (let yr = 0; yr < oh; yr++)
      for (let yc = 0; yc < ow; yc++) {
        const off = (<usize>(((n * h + 2 * yr) * w + 2 * yc) * c)) << 2;
        const pa = x + off;
        const qa = dx + off;
        const pd = dy + ((<usize>(((n * oh + yr) * ow + yc) * c)) << 2);
        let ch = 0;
        for (; ch < c4; ch += 4) {
          const o = <usize>ch << 2;
          const a = v128.load(pa + o);
          const bb = v128.load(pa + o + colBytes);
          const cc = v128.load(pa + o + rowBytes);
          const d = v128.load(pa + o + rowBytes + colBytes);
          const g = v128.load(pd + o);
          const m = f32x4.max(f32x4.max(a, bb), f32x4.max(cc, d));
          const ma = f32x4.eq(a, m);
          const mb = v128.andnot(f32x4.eq(bb, m), ma);
          const taken = v128.or(ma, mb);
          const mc = v128.andnot(f32x4.eq(cc, m), taken);
          const md = v128.not(v128.or(taken, mc));
          v128.store(qa + o, v128.and(g, ma));
          v128.store(qa + o + colBytes, v128.and(g, mb));
          v128.store(qa + o + rowBytes, v128.and(g, mc));
          v128.store(qa + o + rowBytes + colBytes, v128.and(g, md));
        }
        for (; ch < c; ch++) {
          const o = <usize>ch << 2;
          const a = load<f32>(pa + o);
          const bb = load<f32>(pa + o + colBytes);
          const cc = load<f32>(pa + o + rowBytes);
          const d = load<f32>(pa + o + rowBytes + colBytes);
          const g = load<f32>(pd + o);
          let k = 0;
          let best = a;
          if (bb > best) { best = bb; k = 1; }
          if (cc > best) { best = cc; k = 2; }
          if (d > best) k = 3;
          store<f32>(qa + o, k == 0 ? g : 0);
          store<f32>(qa + o + colBytes, k == 1 ? g : 0);
          store<f32>(qa + o + rowBytes, k == 2 ? g : 0);
          store<f32>(qa + o + rowBytes + colBytes, k == 3 ? g : 0);
        }
      }
}

/**
 * out[c] = Σ_r x[r, c] for x [rows, cols]: the bias gradient (a sum over every leading axis), which
 * tfjs-wasm computes after transposing the whole tensor. Rows are added in order (as tfjs does).
 */
export function columnSums(x: usize, out: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  const rowBytes = <usize>cols << 2;
  for (let c = 0; c < c4; c += 4) {
    let acc = f32x4.splat(0);
    let p = x + ((<usize>c) << 2);
    for (let r = 0; r < rows; r++) {
      acc = f32x4.add(acc, v128.load(p));
      p += rowBytes;
    }
    v128.store(out + ((<usize>c) << 2), acc);
  }
  for (let c = c4; c < cols; c++) {
    let acc: f32 = 0;
    let p = x + ((<usize>c) << 2);
    for (let r = 0; r < rows; r++) {
      acc += load<f32>(p);
      p += rowBytes;
    }
    store<f32>(out + ((<usize>c) << 2), acc);
  }
}

/** out[r, c] = x[r, c] + bias[c] for x [rows, cols] (a bias add, broadcast over every leading axis). */
export function addBias(x: usize, bias: usize, out: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const base = (<usize>(r * cols)) << 2;
    let c = 0;
    for (; c < c4; c += 4) {
      const o = (<usize>c) << 2;
      v128.store(out + base + o, f32x4.add(v128.load(x + base + o), v128.load(bias + o)));
    }
    for (; c < cols; c++) {
      const o = (<usize>c) << 2;
      store<f32>(out + base + o, load<f32>(x + base + o) + load<f32>(bias + o));
    }
  }
}
