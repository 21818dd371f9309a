/** The kernel table our wasm-memory kernels share (assembly/kernels.ts and native/*.cc). */

/** One kernel table (pointers are byte offsets into tfjs-wasm's memory). */
export interface SimdKernels {
  /** vector lanes: the channel axes read vector-wise are padded by the caller to a multiple of this */
  lanes: number;
  conv2dValid(x: number, w: number, bias: number, y: number, b: number, h: number, wd: number, ci: number, oh: number, ow: number, co: number, coP: number, kh: number, kw: number, sh: number, sw: number, rowLo: number, rowHi: number, colLo: number, colHi: number): void;
  conv2dFilterGrad(x: number, dy: number, dw: number, b: number, h: number, wd: number, ci: number, oh: number, ow: number, coP: number, dyStride: number, kh: number, kw: number, sh: number, sw: number): void;
  padNHWC(src: number, dst: number, b: number, h: number, w: number, c: number, hp: number, wp: number, cp: number, top: number, left: number): void;
  flipFilter(w: number, dst: number, kh: number, kw: number, ci: number, co: number, ciP: number): void;
  padColumns(src: number, dst: number, rows: number, c: number, cp: number): void;
  cropColumns(src: number, dst: number, rows: number, c: number, cp: number): void;
  maxPoolGrad(x: number, dy: number, dx: number, b: number, h: number, w: number, c: number, oh: number, ow: number, fh: number, fw: number, sh: number, sw: number, top: number, left: number): void;
  maxPoolGrad2x2(x: number, dy: number, dx: number, b: number, h: number, w: number, c: number, oh: number, ow: number): void;
  columnSums(x: number, out: number, rows: number, cols: number): void;
  addBias(x: number, bias: number, out: number, rows: number, cols: number): void;
  /** dx of a convolution (any stride, padding top/left) as dy·wᵀ and a col2im, per image (native kernels only) */
  conv2dInputGrad?(dy: number, w: number, dx: number, b: number, h: number, wd: number, ci: number, oh: number, ow: number, co: number, kh: number, kw: number, sh: number, sw: number, top: number, left: number): void;
  /** out[r, c] = x[r, c] ∘ v[c] (v[r] when perRow is 1), ∘ = + − (v−x) · / (v/x) for op 0…5 (native kernels only) */
  channelBinary?(x: number, v: number, out: number, rows: number, cols: number, op: number, perRow: number): void;
  /** out[i] = a[i] ∘ b[i] (op 0 +, 1 −, 3 ·, 4 /) or a unary op of a (6 relu, 7 step, 8 square) (native kernels only) */
  elementwise?(a: number, b: number, out: number, n: number, op: number): void;
  /** max pooling, windows clipped at the borders (native kernels only) */
  maxPool?(x: number, y: number, b: number, h: number, w: number, c: number, oh: number, ow: number, fh: number, fw: number, sh: number, sw: number, top: number, left: number): void;
  /** out[i] = e^x[i] (op 0), erf(x[i]) (op 1), GELU(x[i]) (op 2) or dy[i]·GELU′(x[i]) (op 3) (native kernels only) */
  unaryMath?(x: number, dy: number, out: number, n: number, op: number): void;
  /** out[r] = Σ_c x[r, c], over cols when mean is 1 (native kernels only) */
  rowSums?(x: number, out: number, rows: number, cols: number, mean: number): void;
  /** c[q] = op(a[q])·op(b[q]) (+ bias [n] unless 0), a batch of 1 broadcast (native kernels only) */
  matMul?(a: number, b: number, c: number, batchA: number, batchB: number, m: number, n: number, k: number, transA: number, transB: number, bias: number): void;
}
