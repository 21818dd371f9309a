import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { extra } from '../fixtures.js';
import { loadRunDataset } from '../../src/app/run.js';
import { readRun } from '../../src/run/index.js';

/**
 * Issue 40's "Done when", with PyTorch as the oracle: a SegNet-style network trained by PyTorch at two
 * preferences on data in the MTAN/LibMTL NYUv2 layout (scripts/dense_torch_endpoints.py writes both), then
 * torch.onnx.export → extra import → curve fit → curve eval (the nine metrics and Δm% along the curve) →
 * query → export onnx (onnxruntime) and safetensors (load_state_dict(strict=True) in PyTorch).
 */
const python = '/usr/bin/python3';
const script = path.resolve('scripts/dense_torch_endpoints.py');
const torchThere = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;

type Metrics = Record<string, number>;
interface Oracle {
  endpoints: Record<'a' | 'b', { pref: number[]; test: Record<string, Metrics>; losses: number[]; normalPixels: number; nearThreshold: Metrics }>;
}
const tasks = ['segmentation', 'depth', 'normal'];
const angleNames = ['meanAngle', 'medianAngle'];
const metricNames: Record<string, string[]> = {
  segmentation: ['miou', 'pixelAccuracy'],
  depth: ['absErr', 'relErr'],
  normal: ['meanAngle', 'medianAngle', 'within11_25', 'within22_5', 'within30'],
};
const higher = new Set(['miou', 'pixelAccuracy', 'within11_25', 'within22_5', 'within30']);
const pref = '0.4,0.4,0.2';

function ok(args: string[]): string {
  const r = extra(args);
  expect(r.code, `extra ${args.join(' ')}\n${r.err}`).toBe(0);
  return r.out;
}

/** Differences of extra's metrics from the oracle's: relative, but absolute degrees for the two angles. */
function differences(got: Metrics[], want: Record<string, Metrics>): Record<string, number> {
  const out: Record<string, number> = {};
  tasks.forEach((task, k) =>
    metricNames[task].forEach((m) => {
      const d = Math.abs(got[k][m] - want[task][m]);
      out[m] = angleNames.includes(m) ? d : d / Math.abs(want[task][m]);
    }),
  );
  return out;
}

/**
 * < 1e-4 relative, angles < 1e-3°; a share of pixels within an angle may also differ by the pixels whose
 * PyTorch angle is within 1e-3° of the threshold (`near`, as shares of the oracle's value), which count on
 * either side at that tolerance.
 */
function expectClose(diffs: Record<string, number>, what: string, near: Metrics = {}): void {
  for (const [m, d] of Object.entries(diffs)) expect(d, `${what} ${m}`).toBeLessThan((angleNames.includes(m) ? 1e-3 : 1e-4) + (near[m] ?? 0));
}

/** An oracle's near-threshold pixels as relative shares of its within-metrics. */
function nearShares(e: Oracle['endpoints']['a']): Metrics {
  return Object.fromEntries(Object.entries(e.nearThreshold).map(([m, c]) => [m, c / e.normalPixels / e.test.normal[m]]));
}

/** Δm% as Maninis et al. define it, over the nine metrics (an implementation independent of extra's). */
function deltaM(point: Record<string, Metrics>, base: Record<string, Metrics>): number {
  const terms = tasks.flatMap((t) => metricNames[t].map((m) => ((higher.has(m) ? -1 : 1) * (point[t][m] - base[t][m])) / base[t][m]));
  return (100 * terms.reduce((a, b) => a + b, 0)) / terms.length;
}

/** The nine metrics of NCHW outputs on a split's labels, over the whole split, pixel-weighted, in float64. */
function nineMetrics(outs: Float32Array[], y: ArrayLike<number>[], n: number, H: number, W: number, C: number): Metrics[] {
  const P = H * W;
  const conf = new Float64Array(C * C);
  let abs = 0;
  let rel = 0;
  let nd = 0;
  const angles: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < P; p++) {
      const label = y[0][i * P + p];
      if (label >= 0) {
        let best = 0;
        for (let c = 1; c < C; c++) if (outs[0][(i * C + c) * P + p] > outs[0][(i * C + best) * P + p]) best = c;
        conf[label * C + best]++;
      }
      const d = y[1][i * P + p];
      if (d !== 0) {
        const e = Math.abs(outs[1][i * P + p] - d);
        abs += e;
        rel += e / d;
        nd++;
      }
      const g = [0, 1, 2].map((c) => y[2][(i * P + p) * 3 + c]);
      if (g.some((v) => v !== 0)) {
        const q = [0, 1, 2].map((c) => outs[2][(i * 3 + c) * P + p]);
        const norm = Math.max(Math.hypot(...q), 1e-12);
        const cos = (q[0] * g[0] + q[1] * g[1] + q[2] * g[2]) / norm;
        angles.push((Math.acos(Math.min(1, Math.max(-1, cos))) * 180) / Math.PI);
      }
    }
  }
  let iou = 0;
  let present = 0;
  let tp = 0;
  let all = 0;
  for (let c = 0; c < C; c++) {
    let row = 0;
    let col = 0;
    for (let j = 0; j < C; j++) {
      row += conf[c * C + j];
      col += conf[j * C + c];
    }
    tp += conf[c * C + c];
    all += row;
    if (row + col - conf[c * C + c] > 0) {
      iou += conf[c * C + c] / (row + col - conf[c * C + c]);
      present++;
    }
  }
  const sorted = Float64Array.from(angles).sort();
  const h = sorted.length >> 1;
  const share = (limit: number) => angles.filter((a) => a < limit).length / angles.length;
  return [
    { miou: iou / present, pixelAccuracy: tp / all },
    { absErr: abs / nd, relErr: rel / nd },
    {
      meanAngle: angles.reduce((a, b) => a + b, 0) / angles.length,
      medianAngle: sorted.length % 2 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2,
      within11_25: share(11.25),
      within22_5: share(22.5),
      within30: share(30),
    },
  ];
}

async function ortRun(file: string, x: Float32Array, dims: number[]): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(file);
  const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, dims) });
  return s.outputNames.map((o) => r[o].data as Float32Array);
}

describe.skipIf(!torchThere)('From a PyTorch SegNet on NYUv2-layout data to a chosen trade-off (needs /usr/bin/python3 with torch and numpy)', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'extra-dense-torch-'));
  const out = path.join(root, 'torch');
  const run = path.join(root, 'run');
  const data = ['--dataset', 'nyuv2', '--data-dir', path.join(out, 'data')];
  let oracle: Oracle;
  const baselineFile = path.join(root, 'baseline.json');
  let baseline: Record<string, Metrics>;
  let exported: { t: number; files: string[]; query: { t: number; predicted: Record<string, Metrics> } } | null = null;
  /** export --pref P --format onnx, once (two tests read it) */
  const exportOnnx = () => (exported ??= JSON.parse(ok(['export', '--run', run, '--pref', pref, '--format', 'onnx', '--out', path.join(root, 'x-onnx'), '--json'])));

  beforeAll(() => {
    const p = spawnSync(python, [script, 'write', out], { encoding: 'utf8', timeout: 120_000 });
    expect(p.status, p.stderr).toBe(0);
    oracle = JSON.parse(readFileSync(path.join(out, 'endpoints.json'), 'utf8'));
    const { a, b } = oracle.endpoints;
    ok(['import', '--run', run, '--endpoint', `a=${path.join(out, 'a.onnx')}`, '--endpoint', `b=${path.join(out, 'b.onnx')}`, '--pref', a.pref.join(','), '--pref', b.pref.join(','), ...data]);
    ok(['curve', 'fit', '--run', run, '--epochs', '1', '--batch-size', '16', '--eval-points', '0']);
    // the "Independent" numbers: each task's better endpoint by PyTorch's numbers (segmentation from a, the others from b)
    baseline = { segmentation: a.test.segmentation, depth: b.test.depth, normal: b.test.normal };
    writeFileSync(baselineFile, JSON.stringify(baseline));
    ok(['curve', 'eval', '--run', run, '--points', '5', '--baseline', baselineFile]);
  }, 300_000);

  it("the profile's ends and the endpoints' metrics.json are PyTorch's nine metrics on val/; Δm% along the curve", () => {
    const profile = JSON.parse(readFileSync(path.join(run, 'profile.json'), 'utf8'));
    expect(profile.taskNames).toEqual(tasks);
    const ends = [['a', profile.points[0]], ['b', profile.points[profile.points.length - 1]]] as const;
    const worst: Record<string, number> = {};
    for (const [id, point] of ends) {
      const want = oracle.endpoints[id].test;
      const fromProfile = differences(point.test, want);
      const metrics = JSON.parse(readFileSync(path.join(run, 'endpoints', id, 'metrics.json'), 'utf8'));
      const fromMetrics = differences(tasks.map((t) => metrics.test[t]), want);
      expectClose(fromProfile, `profile ${id}`, nearShares(oracle.endpoints[id]));
      expectClose(fromMetrics, `metrics.json ${id}`, nearShares(oracle.endpoints[id]));
      for (const [m, d] of Object.entries(fromProfile)) worst[m] = Math.max(worst[m] ?? 0, d, fromMetrics[m]);
      // the per-pixel losses too (PyTorch's CE with ignore_index=−1, masked L1, 1 − cosine)
      const losses = oracle.endpoints[id].losses;
      tasks.forEach((_, k) => expect(Math.abs(point.test[k].loss - losses[k]) / losses[k], `loss ${id} ${k}`).toBeLessThan(1e-4));
    }
    console.log(`dense-torch: largest difference from PyTorch at t = 0 and 1 (relative; angles in degrees): ${JSON.stringify(worst)}`);
    // Δm% against the baseline file, at every point; at the ends as computed from PyTorch's own numbers
    expect(profile.deltaM.source).toBe(baselineFile);
    expect(profile.deltaM.test).toHaveLength(5);
    const dmA = deltaM(oracle.endpoints.a.test, baseline);
    const dmB = deltaM(oracle.endpoints.b.test, baseline);
    expect(Math.abs(profile.deltaM.test[0] - dmA)).toBeLessThan(1e-3);
    expect(Math.abs(profile.deltaM.test[4] - dmB)).toBeLessThan(1e-3);
    console.log(`dense-torch: Δm% at t = 0: ${profile.deltaM.test[0]} (PyTorch ${dmA}), at t = 1: ${profile.deltaM.test[4]} (PyTorch ${dmB})`);
  });

  it("query --pref and export --format onnx at that point: onnxruntime's nine metrics on the test split are the query's", async () => {
    const q = JSON.parse(ok(['query', '--run', run, '--pref', pref, '--json']));
    expect(q.t).toBeGreaterThan(0);
    expect(q.t).toBeLessThan(1);
    const res = exportOnnx()!;
    expect(res.t).toBe(q.t);
    const info = await readRun(run);
    const ds = await loadRunDataset(info!, true);
    const [H, W, Cin] = ds.inputShape;
    const n = ds.test.n;
    // NHWC rows → NCHW
    const x = new Float32Array(n * Cin * H * W);
    for (let i = 0; i < n; i++) for (let p = 0; p < H * W; p++) for (let c = 0; c < Cin; c++) x[(i * Cin + c) * H * W + p] = ds.test.x[(i * H * W + p) * Cin + c];
    const outs = await ortRun(res.files[0], x, [n, Cin, H, W]);
    const ours = nineMetrics(outs, ds.test.y, n, H, W, 13);
    const d = differences(ours, Object.fromEntries(tasks.map((t) => [t, q.predicted[t]])));
    console.log(`dense-torch: query t = ${q.t}; onnxruntime on the exported ONNX against the query's metrics: ${JSON.stringify(d)}`);
    expectClose(d, 'export onnx');
  });

  it('export --format safetensors loads with load_state_dict(strict=True): the endpoint’s tensors at t = 0, and at the query point PyTorch’s outputs are onnxruntime’s', async () => {
    const check = (args: string[]) => {
      const p = spawnSync(python, [script, 'check', out, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
      expect(p.status, p.stderr).toBe(0);
      return JSON.parse(p.stdout.trim().split('\n').pop()!);
    };
    const at0 = path.join(root, 'x-st0');
    ok(['export', '--run', run, '--t', '0', '--format', 'safetensors', '--out', at0]);
    const r0 = check([path.join(at0, 'model.safetensors'), 'a']);
    expect(r0.loaded).toBe(true);
    expect(r0.maxDiff, r0.worst).toBe(0);

    const st = path.join(root, 'x-st');
    ok(['export', '--run', run, '--pref', pref, '--format', 'safetensors', '--out', st]);
    const r = check([path.join(st, 'model.safetensors'), '', '4']);
    expect(r.loaded).toBe(true);
    // PyTorch's nine metrics of the loaded model on the test split are the query's
    const q = exportOnnx()!.query;
    const dq = differences(tasks.map((t) => q.predicted[t]), r.test);
    console.log(`dense-torch: PyTorch's metrics of the safetensors export against the query's at t = ${q.t}: ${JSON.stringify(dq)}`);
    expectClose(dq, 'safetensors in PyTorch', nearShares(r));
    const x = Float32Array.from(r.input as number[]);
    const outs = await ortRun(exportOnnx()!.files[0], x, [4, 3, 32, 32]);
    let worst = 0;
    (r.outputs as { shape: number[]; data: number[] }[]).forEach((o, k) => {
      expect(o.data.length).toBe(outs[k].length);
      let m = 0;
      o.data.forEach((v, i) => (m = Math.max(m, Math.abs(v - outs[k][i]))));
      expect(m, `output ${k}`).toBeLessThan(1e-4);
      worst = Math.max(worst, m);
    });
    console.log(`dense-torch: PyTorch (load_state_dict of the safetensors export) against onnxruntime (ONNX export), largest output difference ${worst}`);
  }, 120_000);
});
