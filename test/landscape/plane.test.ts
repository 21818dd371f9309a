import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { barrier, planeBasis, planeCoordinates, planeGrid, planePoint } from '../../src/landscape/plane.js';
import { ExtraInputError } from '../../src/errors.js';
import { makeRng } from '../../src/util/rng.js';
import { extra, makeTinyRun, cacheDir, tinyData } from '../fixtures.js';
import { computePlane, openRun, openCurve, closeCurve, loadRunDataset, useBackend } from '../../src/app/index.js';
import { controlPoints } from '../../src/curves/index.js';
import { evaluateSplit } from '../../src/train/index.js';
import { listEndpoints } from '../../src/run/index.js';

const rand = (seed: number, sizes: number[]) => {
  const r = makeRng(seed);
  return sizes.map((n) => Float32Array.from({ length: n }, () => 2 * r.next() - 1));
};
const flat = (w: readonly Float32Array[]) => w.flatMap((x) => Array.from(x));
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

describe('plane maths', () => {
  const sizes = [7, 3, 12];
  const [w0, w1, w2] = [rand(1, sizes), rand(2, sizes), rand(3, sizes)];
  const basis = planeBasis(w0, w1, w2);

  it('an orthonormal basis; the three points have coordinates (0,0), (|w1−w0|,0), (·,·) and no residual', () => {
    const u = flat(basis.u);
    const v = flat(basis.v);
    expect(dot(u, u)).toBeCloseTo(1, 6);
    expect(dot(v, v)).toBeCloseTo(1, 6);
    expect(dot(u, v)).toBeCloseTo(0, 6);
    const d1 = flat(w1).map((x, i) => x - flat(w0)[i]);
    const c1 = planeCoordinates(basis, w1);
    expect(c1.a).toBeCloseTo(Math.sqrt(dot(d1, d1)), 5);
    expect(c1.b).toBeCloseTo(0, 5);
    for (const w of [w0, w1, w2]) expect(planeCoordinates(basis, w).residual).toBeLessThan(1e-5);
    // planePoint inverts the coordinates
    const c2 = planeCoordinates(basis, w2);
    const back = flat(planePoint(basis.origin, basis.u, basis.v, c2.a, c2.b));
    back.forEach((x, i) => expect(x).toBeCloseTo(flat(w2)[i], 5));
  });

  it('a point off the plane: residual = its distance from the plane (the component along a normal)', () => {
    // w2 + 0.7 · n, n a unit vector orthogonal to u and v
    const u = flat(basis.u);
    const v = flat(basis.v);
    let n = flat(rand(9, sizes));
    n = n.map((x, i) => x - dot(n, u) * u[i]);
    n = n.map((x, i) => x - dot(n, v) * v[i]);
    const nn = Math.sqrt(dot(n, n));
    const off = flat(w2).map((x, i) => x + (0.7 * n[i]) / nn);
    let k = 0;
    const w = sizes.map((s) => Float32Array.from(off.slice(k, (k += s))));
    expect(planeCoordinates(basis, w).residual).toBeCloseTo(0.7, 5);
  });

  it('collinear points are refused; the grid covers the points with the margin; the barrier of textbook paths', () => {
    const mid = w0.map((x, i) => Float32Array.from(x, (y, q) => 0.5 * y + 0.5 * w1[i][q]));
    expect(() => planeBasis(w0, w1, mid)).toThrow(ExtraInputError);
    const g = planeGrid([{ a: 0, b: 0 }, { a: 2, b: 1 }], 5, 0.5);
    expect(g.as).toEqual([-1, 0, 1, 2, 3]);
    expect(g.bs[0]).toBeCloseTo(-0.5, 12);
    expect(g.bs[4]).toBeCloseTo(1.5, 12);
    expect(barrier([0, 0.5, 1], [1, 2, 1])).toBe(1);
    expect(barrier([0, 0.5, 1], [1, 1.5, 2])).toBe(0); // on the chord
    expect(barrier([0, 0.25, 0.5, 1], [2, 1, 1, 0])).toBe(0); // below the chord everywhere
  });
});

describe('extra plane on a tiny run', () => {
  let run = '';
  beforeAll(() => {
    process.env.EXTRA_CACHE_DIR = cacheDir;
    run = makeTinyRun('extra-plane-');
    const third = extra(['train', '--run', run, '--pref', '0.5,0.5', '--epochs', '1', '--batch-size', '64', ...tinyData]);
    if (third.code !== 0) throw new Error(third.err);
    const line = extra(['curve', 'fit', '--run', run, '--kind', 'line', '--curve', 'line', '--epochs', '1', '--eval-points', '0', '--endpoints', 'ls-0.8_0.2,ls-0.2_0.8']);
    if (line.code !== 0) throw new Error(line.err);
  }, 240_000);

  it('grid values equal direct evaluations of the same models; the CLI prints the barrier', async () => {
    const p = await computePlane({ run, grid: 3, margin: 0.1, threads: 2, quiet: true, backend: 'wasm' });
    expect(p.points.map((q) => q.label)).toEqual(['C(0)', 'C(1)', 'P2']);
    // independent check: rebuild the plane from the curve's own control points and evaluate on this thread
    await useBackend('wasm');
    const r = await openRun(run);
    const c = await openCurve(r, 'curve');
    const ds = await loadRunDataset(r.info);
    const pts = controlPoints(c.curve, c.trainable);
    const vals = (ts: tf.Tensor[]) => ts.map((t) => Float32Array.from(t.dataSync()));
    const basis = planeBasis(vals(pts[0]), vals(pts[3]), vals(pts[2]));
    for (const [row, col] of [[0, 0], [1, 2], [2, 1]]) {
      const w = planePoint(basis.origin, basis.u, basis.v, p.grid.as[col], p.grid.bs[row]).map((x, i) => tf.tensor(x, r.model.params[i].shape));
      const m = evaluateSplit(r.model, w, ds.test);
      tf.dispose(w);
      ds.taskNames.forEach((name, k) => {
        expect(p.surfaces[name].loss[row][col]).toBeCloseTo(m[k].loss, 5);
        expect(p.surfaces[name].error[row][col]).toBeCloseTo(1 - m[k].accuracy!, 6);
      });
    }
    closeCurve(c);
    // the curve's ends are two of the points: they project onto themselves
    expect(p.curvePath[0].residual).toBeLessThan(1e-3);
    expect(p.curvePath[p.curvePath.length - 1].residual).toBeLessThan(1e-3);
    const cli = extra(['plane', '--run', run, '--grid', '3', '--json']);
    expect(cli.code, cli.err).toBe(0);
    const j = JSON.parse(cli.out) as { barrier: Record<string, { line: { test: number } }> };
    expect(Object.keys(j.barrier)).toEqual(ds.taskNames);
  }, 240_000);

  it('a line lies in any plane through its ends: zero residual and b = 0 all along', async () => {
    const third = (await listEndpoints(run)).find((e) => e.id === 'ls-0.5_0.5')!;
    expect(third).toBeDefined();
    const p = await computePlane({ run, curve: 'line', grid: 2, points: ['t:0', 't:1', third.id], threads: 1, quiet: true, backend: 'wasm' });
    const len = p.points[1].a;
    for (const q of p.curvePath) {
      expect(q.residual).toBeLessThan(1e-3 * len);
      expect(Math.abs(q.b)).toBeLessThan(1e-3 * len);
      expect(q.a).toBeCloseTo(q.t * len, 3);
    }
    // the line's barrier from its own evaluation equals the curve entry (the curve is the line)
    for (const b of Object.values(p.barrier.byTask)) expect(b.curve.test).toBeCloseTo(b.line.test, 5);
  }, 240_000);

  it('bad input is one line', () => {
    const r = extra(['plane', '--run', run, '--points', 't:0,t:1']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n').filter((l) => !l.startsWith('['))).toEqual(['extra plane: --points takes three points, got 2']);
    const col = extra(['plane', '--run', run, '--points', 't:0,t:1,t:0.5', '--curve', 'line']);
    expect(col.code).toBe(2);
    expect(col.err).toMatch(/on one line/);
  }, 60_000);
});
