import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, afterAll } from 'vitest';
import { selectBackend, nativeKernelsDecision, setNativeThreads, nativeGelu } from '../../src/backend/index.js';
import { randomArray } from './values.js';

// Exp, Erf and the fused erf GELU on the native kernels (native/kernels-impl.h expOf, erfOf,
// unaryMathRange) against float64 oracles:
// Math.exp, and erf from its textbook series and continued fraction (Abramowitz & Stegun 7.1.5 and
// 7.1.14), in ulps of the float32 result.
const native = nativeKernelsDecision();
const available = native.use || process.env.CI === 'true';

/** erf in float64: the Maclaurin series below 2.5, 1 − erfc by its continued fraction (Lentz) above. */
function erf64(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (!Number.isFinite(x)) return Math.sign(x);
  const a = Math.abs(x);
  let r: number;
  if (a < 2.5) {
    // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = a;
    let sum = a;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-20 * Math.abs(sum); n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), by modified Lentz
    const tiny = 1e-300;
    let f = a;
    let c = a;
    let d = 0;
    for (let k = 1; k < 500; k++) {
      const ak = k / 2;
      d = a + ak * d;
      d = Math.abs(d) < tiny ? tiny : d;
      c = a + ak / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      const delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-17) break;
    }
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}

/** The spacing of float32 values at |v| (the smallest denormal at 0). */
function ulpAt(v: number): number {
  const a = Math.fround(Math.abs(v));
  if (a < 1.1754943508222875e-38) return 1.401298464324817e-45;
  const e = Math.floor(Math.log2(a));
  return 2 ** (e - 23) * (2 ** e > a ? 0.5 : 1);
}

/** Inputs: a dense sweep of each range that matters, random values, and the edges. */
function inputs(lo: number, hi: number, edges: number[]): Float32Array {
  const sweep = Array.from({ length: 20001 }, (_, i) => lo + ((hi - lo) * i) / 20000);
  return Float32Array.from([...sweep, ...randomArray(5000, 7, hi / 3), ...edges]);
}

function onWasm(f: (x: tf.Tensor) => tf.Tensor, xv: Float32Array): Float32Array {
  return tf.tidy(() => f(tf.tensor1d(xv)).dataSync() as Float32Array);
}

describe.runIf(available)('Exp and Erf on the native kernels', () => {
  afterAll(async () => {
    setNativeThreads(1);
    await tf.setBackend('cpu');
  });

  it('exp is within 1 ulp of float64 over its whole range, overflows to +∞, underflows through the denormals to 0, keeps NaN', async () => {
    await selectBackend({ prefer: 'wasm', quiet: true });
    const xv = inputs(-110, 95, [0, -0, 1, -1, 88.72283, 88.7229, 89, 1e30, Infinity, -87.33655, -87.4, -100, -103.97, -103.98, -104, -1e30, -Infinity, NaN, 1e-8, -1e-8]);
    const y = onWasm(tf.exp, xv);
    let worst = 0;
    for (let i = 0; i < xv.length; i++) {
      const want = Math.exp(xv[i]);
      if (Number.isNaN(xv[i])) expect(y[i]).toBeNaN();
      else if (want > 3.4028234663852886e38) expect(y[i], `exp(${xv[i]})`).toBe(Math.fround(want));
      else worst = Math.max(worst, Math.abs(y[i] - want) / ulpAt(want));
    }
    expect(worst).toBeLessThanOrEqual(1);
    const at = (v: number) => y[xv.findIndex((u) => u === v)];
    expect([at(89), at(Infinity), at(-104), at(-Infinity), at(0)]).toEqual([Infinity, Infinity, 0, 0, 1]);
  });

  it('erf is within 2.5 ulp (and 1.5e-7) of float64 everywhere, odd, ±1 beyond 4, keeps NaN; its gradient is 2/√π e^(−x²)', async () => {
    await selectBackend({ prefer: 'wasm', quiet: true });
    const xv = inputs(-6, 6, [0, -0, 0.5, 0.9999999, 1, 1.0000001, 3.9999998, 4, 4.0000005, 10, -10, 1e30, Infinity, -Infinity, NaN, 1e-30, -1e-30, 1e-40]);
    const y = onWasm(tf.erf, xv);
    let worstUlp = 0;
    let worstAbs = 0;
    for (let i = 0; i < xv.length; i++) {
      if (Number.isNaN(xv[i])) {
        expect(y[i]).toBeNaN();
        continue;
      }
      const want = erf64(xv[i]);
      worstUlp = Math.max(worstUlp, Math.abs(y[i] - want) / ulpAt(want));
      worstAbs = Math.max(worstAbs, Math.abs(y[i] - want));
      expect(Object.is(y[i], -0) || y[i] < 0, `sign of erf(${xv[i]})`).toBe(Object.is(xv[i], -0) || xv[i] < 0);
      if (Math.abs(xv[i]) >= 4) expect(Math.abs(y[i])).toBe(1);
    }
    expect(worstUlp).toBeLessThanOrEqual(2.5);
    expect(worstAbs).toBeLessThanOrEqual(1.5e-7);
    // tfjs's gradient of Erf goes through Exp: d erf/dx = 2/√π e^(−x²)
    const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.erf(x)))(tf.tensor1d(xv.slice(0, 20001))).dataSync() as Float32Array);
    for (let i = 0; i < 20001; i += 7) expect(Math.abs(g[i] - (2 / Math.sqrt(Math.PI)) * Math.exp(-xv[i] * xv[i]))).toBeLessThan(3e-7);
  });

  it('give the same values on 1 and 3 threads, and are also what the oracle checks on a large tensor', async () => {
    await selectBackend({ prefer: 'wasm', quiet: true });
    const xv = randomArray(1024 * 1024 + 5, 11, 3);
    setNativeThreads(1);
    const one = [onWasm(tf.exp, xv), onWasm(tf.erf, xv)];
    setNativeThreads(3);
    const three = [onWasm(tf.exp, xv), onWasm(tf.erf, xv)];
    setNativeThreads(1);
    const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(bits(three[0]).equals(bits(one[0])), 'exp').toBe(true);
    expect(bits(three[1]).equals(bits(one[1])), 'erf').toBe(true);
    for (let i = 0; i < xv.length; i += 997) {
      expect(Math.abs(one[0][i] - Math.exp(xv[i])) / ulpAt(Math.exp(xv[i]))).toBeLessThanOrEqual(1);
      expect(Math.abs(one[1][i] - erf64(xv[i]))).toBeLessThanOrEqual(1.5e-7);
    }
  });

  it('the fused GELU equals its five ops on the same kernels bit for bit, and its gradient is x·φ(x) + Φ(x) in float64 (and finite differences)', async () => {
    await selectBackend({ prefer: 'wasm', quiet: true });
    const gelu = nativeGelu();
    expect(gelu).not.toBeNull();
    if (!gelu) return;
    const xv = Float32Array.from([...inputs(-12, 12, [0, -0, 1e-30, 30, -30, Infinity, -Infinity]), ...randomArray(4000, 12, 2)]);
    const up = randomArray(xv.length, 13);
    const [fused, ops, grad] = tf.tidy(() => {
      const x = tf.tensor1d(xv);
      const f = (t: tf.Tensor) => tf.sum(tf.mul(gelu(t), tf.tensor1d(up))) as tf.Scalar;
      return [gelu(x), tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))), tf.grad(f)(x)].map((t) => t.dataSync() as Float32Array);
    });
    const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(bits(fused).equals(bits(ops))).toBe(true);
    const phi = (v: number) => Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
    const Phi = (v: number) => 0.5 * (1 + erf64(v / Math.SQRT2));
    let worst = 0;
    for (let i = 0; i < xv.length; i++) {
      const v = xv[i];
      if (!Number.isFinite(v)) continue;
      const want = up[i] * (Phi(v) + v * phi(v));
      worst = Math.max(worst, Math.abs(grad[i] - want) / Math.max(1, Math.abs(want)));
      expect(Math.abs(fused[i] - v * Phi(v)), `gelu(${v})`).toBeLessThanOrEqual(3e-7 * Math.max(1, Math.abs(v)));
    }
    expect(worst).toBeLessThan(6e-7);
    // central differences of Σ up·gelu(x) in float64 terms, at points away from 0 where the step is resolvable
    for (const v of [-3.1, -1.2, -0.4, 0.3, 0.9, 2.2, 4.5]) {
      const h = 1e-2;
      const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(gelu(t)) as tf.Scalar)(tf.tensor1d([v])).dataSync()[0]);
      const fd = ((v + h) * Phi(v + h) - (v - h) * Phi(v - h)) / (2 * h);
      expect(Math.abs(g - fd)).toBeLessThan(5e-5);
    }
    // ±∞: gelu(+∞) = +∞, gelu(−∞) = −∞·0 is NaN in both forms
    expect(Array.from(fused.slice(20001 + 5000 + 5, 20001 + 5000 + 7))).toEqual(Array.from(ops.slice(20001 + 5000 + 5, 20001 + 5000 + 7)));
  });
});
