import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trainEndpoints, fitRunCurve, evaluateRunCurve, exportAt, openRun, importEndpoints, loadRunDataset, compareCurveStatistics } from '../../src/app/index.js';
import { encodeSafetensors, readSafetensors } from '../../src/io/index.js';
import { curvePoint } from '../../src/curves/index.js';
import { openCurve, closeCurve } from '../../src/app/curve.js';
import { evaluateSplit, recomputeStatistics } from '../../src/train/index.js';

/** A small BatchNormalization network with two 10-class heads, written with tfjs' own layers. */
async function writeBnModel(file: string): Promise<void> {
  const input = tf.input({ shape: [36, 36, 1] });
  let h = tf.layers.conv2d({ name: 'conv', filters: 4, kernelSize: 5, strides: 2, useBias: false }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ name: 'bn' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU({ name: 'relu' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ name: 'pool', poolSize: 4 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten({ name: 'flat' }).apply(h) as tf.SymbolicTensor;
  const outs = ['left', 'right'].map((n) => tf.layers.dense({ name: n, units: 10, activation: 'softmax' }).apply(h) as tf.SymbolicTensor);
  const m = tf.model({ inputs: input, outputs: outs });
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      writeFileSync(file, JSON.stringify({ modelTopology: a.modelTopology }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

const sizes = { trainSize: 600, valSize: 200, testSize: 200 };

describe('your own model: --model-json with BatchNormalization, export and import', () => {
  let dir: string;
  const run = () => path.join(dir, 'run');
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'extra-own-'));
    await writeBnModel(path.join(dir, 'model.json'));
    await trainEndpoints({ run: run(), dataset: { name: 'multi-mnist', ...sizes }, modelJson: path.join(dir, 'model.json'), prefs: ['0.8,0.2', '0.2,0.8'], epochs: 1, batchSize: 64, workers: 1, threads: 1, quiet: true, backend: 'cpu' });
    await fitRunCurve({ run: run(), epochs: 1, batchSize: 64, threads: 1, quiet: true, backend: 'cpu' });
    await evaluateRunCurve({ run: run(), points: 5, threads: 1, quiet: true, backend: 'cpu' });
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stores the graph and the inferred losses in run.json and says how BatchNormalization was handled', async () => {
    const info = JSON.parse(readFileSync(path.join(run(), 'run.json'), 'utf8'));
    expect(info.model.arch).toBe('graph');
    expect(info.model.losses).toEqual(['ce', 'ce']);
    const profile = JSON.parse(readFileSync(path.join(run(), 'profile.json'), 'utf8'));
    expect(profile.batchNorm).toMatch(/recomputed at every point.*first 600 training rows/);
    // t = 0 is endpoint A: the profile's numbers there equal those trainEndpoint measured and stored
    const metrics = JSON.parse(readFileSync(path.join(run(), 'endpoints', profile.endpoints[0], 'metrics.json'), 'utf8'));
    const names = profile.taskNames as string[];
    names.forEach((n, k) => {
      expect(profile.points[0].test[k].loss).toBeCloseTo(metrics.test[n].loss, 5);
      expect(profile.points[0].test[k].accuracy).toBe(metrics.test[n].accuracy);
    });
  });

  it('recomputing the statistics matters in the middle of the curve, and the exported model is the profiled one', async () => {
    const r = await openRun(run());
    const ds = await loadRunDataset(r.info);
    const c = await openCurve(r, 'curve');
    const params = curvePoint(c.curve, c.trainable, 0.5);
    const recomputed = recomputeStatistics(r.model, params, ds.train);
    // without the recompute: the endpoints' own statistics, interpolated
    const ends = [0, 1].map((t) => recomputeStatistics(r.model, curvePoint(c.curve, c.trainable, t), ds.train));
    const naive = ends[0].map((s, i) => tf.add(tf.mul(s, 0.5), tf.mul(ends[1][i], 0.5)));
    const a = evaluateSplit(r.model, params, ds.test, 1000, recomputed);
    const b = evaluateSplit(r.model, params, ds.test, 1000, naive);
    expect(Math.abs(a[0].loss - b[0].loss) + Math.abs(a[1].loss - b[1].loss)).toBeGreaterThan(1e-4);
    closeCurve(c);
    const profile = JSON.parse(readFileSync(path.join(run(), 'profile.json'), 'utf8'));
    const mid = profile.points.find((p: { t: number }) => p.t === 0.5);
    a.forEach((m, k) => expect(m.loss).toBeCloseTo(mid.test[k].loss, 5));
    // the export, read back by tfjs itself, predicts with the same accuracy as the profile at t = 0.5
    const out = path.join(dir, 'export');
    await exportAt(r, 'curve', 0.5, 'tfjs', out);
    const j = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8'));
    const w = readFileSync(path.join(out, 'weights.bin'));
    const model = await tf.loadLayersModel({ load: async () => ({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }) });
    const pred = model.predict(tf.tensor(ds.test.x, [ds.test.n, 36, 36, 1])) as tf.Tensor[];
    pred.forEach((p, k) => {
      const arg = p.argMax(1).dataSync();
      let correct = 0;
      for (let i = 0; i < ds.test.n; i++) if (arg[i] === ds.test.y[k][i]) correct++;
      expect(correct / ds.test.n).toBe(mid.test[k].accuracy);
    });
  });

  it('compareCurveStatistics (extra curve bn): recomputed at C(t) is the profile; interpolated at t = 0 is endpoint A\'s own', async () => {
    const r = await compareCurveStatistics({ run: run(), ts: [0, 0.5], backend: 'cpu' });
    const profile = JSON.parse(readFileSync(path.join(run(), 'profile.json'), 'utf8'));
    expect(r.endpoints).toEqual(profile.endpoints);
    expect(r.recomputedOn).toMatch(/first 600 training rows/);
    const [at0, mid] = r.rows;
    const point = (t: number) => profile.points.find((p: { t: number }) => p.t === t);
    // at t = ½ the profile recomputes the statistics as the comparison does
    mid.recomputed.forEach((m, k) => expect(m.loss).toBeCloseTo(point(0.5).test[k].loss, 5));
    // at t = 0 the interpolation is endpoint A's own statistics, which the profile uses there
    at0.interpolated.forEach((m, k) => {
      expect(m).toEqual(at0.endpointA[k]);
      expect(m.loss).toBeCloseTo(point(0).test[k].loss, 5);
    });
    // in the middle the three choices give different models
    expect(Math.abs(mid.recomputed[0].loss - mid.interpolated[0].loss)).toBeGreaterThan(1e-4);
    expect(Math.abs(mid.interpolated[0].loss - mid.endpointA[0].loss)).toBeGreaterThan(1e-4);
  });

  it('import: two exported points as endpoints of a new run; the line between them is the original chord', async () => {
    const r = await openRun(run());
    for (const t of [0.25, 0.75]) await exportAt(r, 'curve', t, 'safetensors', path.join(dir, `p${t}`));
    const run2 = path.join(dir, 'run2');
    await importEndpoints({
      run: run2,
      endpoints: [
        { name: 'a', path: path.join(dir, 'p0.25', 'model.safetensors'), pref: '0.7,0.3' },
        { name: 'b', path: path.join(dir, 'p0.75', 'model.safetensors'), pref: '0.3,0.7' },
      ],
      create: { dataset: { name: 'multi-mnist', seed: 0, ...sizes }, arch: 'graph', modelJson: path.join(dir, 'model.json'), seed: 0 },
      quiet: true,
      backend: 'cpu',
    });
    await fitRunCurve({ run: run2, kind: 'line', endpoints: ['a', 'b'], epochs: 1, batchSize: 64, threads: 1, quiet: true, backend: 'cpu' });
    const r2 = await openRun(run2);
    await exportAt(r2, 'curve', 0.5, 'safetensors', path.join(dir, 'mid'));
    const [p, q, mid] = await Promise.all(['p0.25', 'p0.75', 'mid'].map((d) => readSafetensors(path.join(dir, d, 'model.safetensors'), 'skip')));
    const params = r2.model.params.map((x) => x.name);
    for (const name of params) {
      const a = p.tensors.find((x) => x.name === name)!.data;
      const b = q.tensors.find((x) => x.name === name)!.data;
      const m = mid.tensors.find((x) => x.name === name)!.data;
      for (let i = 0; i < m.length; i++) expect(Math.abs(m[i] - (a[i] + b[i]) / 2)).toBeLessThan(1e-6);
    }
  }, 120_000);

  it('import with --name-map: the run remembers it, and the safetensors export gives the user\'s names back with num_batches_tracked', async () => {
    const theirs = (n: string) => (n.startsWith('left.') ? `head_l.${n.slice(5)}` : n);
    const files: string[] = [];
    for (const t of ['p0.25', 'p0.75']) {
      const st = await readSafetensors(path.join(dir, t, 'model.safetensors'), 'skip');
      const f = path.join(dir, `${t}-renamed.safetensors`);
      writeFileSync(f, encodeSafetensors(st.tensors.map((x) => ({ ...x, name: theirs(x.name) }))));
      files.push(f);
    }
    const map = path.join(dir, 'rename.json');
    writeFileSync(map, JSON.stringify({ 'left.weight': 'head_l.weight', 'left.bias': 'head_l.bias' }));
    const run3 = path.join(dir, 'run3');
    await importEndpoints({
      run: run3,
      endpoints: [{ name: 'a', path: files[0], pref: '0.7,0.3' }, { name: 'b', path: files[1], pref: '0.3,0.7' }],
      nameMap: map,
      create: { dataset: { name: 'multi-mnist', seed: 0, ...sizes }, arch: 'graph', modelJson: path.join(dir, 'model.json'), seed: 0 },
      quiet: true,
      backend: 'cpu',
    });
    await fitRunCurve({ run: run3, kind: 'line', endpoints: ['a', 'b'], epochs: 1, batchSize: 64, threads: 1, quiet: true, backend: 'cpu' });
    await exportAt(await openRun(run3), 'curve', 0, 'safetensors', path.join(dir, 'renamed-out'));
    const out = await readSafetensors(path.join(dir, 'renamed-out', 'model.safetensors'), 'skip');
    const names = out.tensors.map((x) => x.name);
    expect(names).toContain('head_l.weight');
    expect(names).not.toContain('left.weight');
    const counters = out.skipped.filter((x) => x.name.endsWith('.num_batches_tracked'));
    expect(counters.length).toBeGreaterThan(0);
    expect(counters.every((c) => c.dtype === 'I64')).toBe(true);
    // at t = 0 the export is endpoint a itself, under the user's names
    const a = (await readSafetensors(files[0])).tensors.find((x) => x.name === 'head_l.weight')!.data;
    expect(Array.from(out.tensors.find((x) => x.name === 'head_l.weight')!.data)).toEqual(Array.from(a));
  }, 120_000);

  it('import refuses a file for another model, listing the mismatches, and leaves no run behind', async () => {
    const other = path.join(dir, 'other');
    await expect(
      importEndpoints({
        run: other,
        endpoints: [{ name: 'x', path: path.join(dir, 'p0.25', 'model.safetensors') }],
        create: { dataset: { name: 'multi-mnist', seed: 0, ...sizes }, arch: 'mlp-mtl', hidden: [8], seed: 0 },
        quiet: true,
        backend: 'cpu',
      }),
    ).rejects.toThrow(/does not match the run's model: missing trunk\.0\.weight.*unexpected conv\.weight/);
    expect(existsSync(path.join(other, 'run.json'))).toBe(false);
    // the name map is applied: left.weight read from the file's right.weight leaves its left.weight unused
    const map = path.join(dir, 'map.json');
    writeFileSync(map, JSON.stringify({ 'left.weight': 'right.weight' }));
    await expect(
      importEndpoints({ run: run(), endpoints: [{ name: 'y', path: path.join(dir, 'p0.25', 'model.safetensors') }], nameMap: map, quiet: true, backend: 'cpu' }),
    ).rejects.toThrow(/: unexpected left\.weight$/);
    expect(existsSync(path.join(run(), 'endpoints', 'y'))).toBe(false);
  });
});
