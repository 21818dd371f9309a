import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { extra, refused, tinyData } from '../fixtures.js';
import { npy } from '../npy-writer.js';
import { encodeOnnx } from '../../src/models/onnx/proto.js';
import { loadRunDataset } from '../../src/app/run.js';
import { readRun } from '../../src/run/index.js';
import { buildModel, loadLayersModelFromDir, valuesFromStateDict } from '../../src/models/index.js';
import { importOnnx } from '../../src/models/onnx/import.js';

const FIX = path.resolve(__dirname, '../fixtures/onnx');
const torchThere = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

/** Accuracy and mean cross-entropy per task of an ONNX file on a split, by onnxruntime (NHWC rows → NCHW). */
async function ortMetrics(file: string, split: { x: Float32Array; n: number; y: (Int32Array | Float32Array)[] }, shape: number[], logits: boolean[]): Promise<{ accuracy: number; loss: number }[]> {
  const s = await ort.InferenceSession.create(file);
  const x = tf.tidy(() => tf.transpose(tf.tensor(split.x, [split.n, ...shape]), [0, 3, 1, 2]).dataSync() as Float32Array);
  const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [split.n, shape[2], shape[0], shape[1]]) });
  return s.outputNames.map((o, k) => {
    const out = r[o].data as Float32Array;
    const C = out.length / split.n;
    let right = 0;
    let loss = 0;
    for (let i = 0; i < split.n; i++) {
      const row = Array.from(out.subarray(i * C, (i + 1) * C));
      const label = split.y[k][i];
      if (row.indexOf(Math.max(...row)) === label) right++;
      // a head that ends in softmax gives probabilities, one in log-softmax log-probabilities
      loss -= logits[k] ? row[label] : Math.log(row[label]);
    }
    return { accuracy: right / split.n, loss: loss / split.n };
  });
}

describe('From PyTorch: torch.onnx.export → extra import → curve → query → export onnx / safetensors', () => {
  const run = mkdtempSync(path.join(tmpdir(), 'extra-onnx-'));
  const a = path.join(FIX, 'residual-bn-op13-preserve.onnx');
  const b = path.join(FIX, 'residual-bn-op17-preserve.onnx');
  beforeAll(() => {
    const r = extra(['import', '--run', run, '--endpoint', `a=${a}`, '--endpoint', `b=${b}`, '--pref', '0.8,0.2', '--pref', '0.2,0.8', ...tinyData]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/with the file's own BatchNorm statistics/);
    for (const step of [['curve', 'fit', '--run', run, '--epochs', '1', '--batch-size', '64', '--eval-points', '0'], ['curve', 'eval', '--run', run, '--points', '5']]) {
      const s = extra(step);
      expect(s.code, s.err).toBe(0);
    }
  }, 300_000);

  it("the profile's ends are the PyTorch endpoints: extra's metrics at t = 0 and 1 equal onnxruntime's on the original files", async () => {
    const info = await readRun(run);
    const ds = await loadRunDataset(info!, true);
    const profile = JSON.parse(readFileSync(path.join(run, 'profile.json'), 'utf8'));
    for (const [file, point, id] of [[a, profile.points[0], 'a'], [b, profile.points[profile.points.length - 1], 'b']] as const) {
      const metrics = JSON.parse(readFileSync(path.join(run, 'endpoints', id, 'metrics.json'), 'utf8'));
      const theirs = await ortMetrics(file, ds.test, ds.inputShape, [false, true]);
      ds.taskNames.forEach((name, k) => {
        expect(point.test[k].accuracy).toBe(theirs[k].accuracy);
        expect(metrics.test[name].accuracy).toBe(theirs[k].accuracy);
        expect(Math.abs(point.test[k].loss - theirs[k].loss)).toBeLessThan(1e-4);
      });
    }
  });

  it("export --format onnx at a preference: onnxruntime's accuracy is the query's", async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'extra-onnx-exp-'));
    const r = extra(['export', '--run', run, '--pref', '0.5,0.5', '--format', 'onnx', '--out', path.join(out, 'm'), '--json']);
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out);
    const info = await readRun(run);
    const ds = await loadRunDataset(info!, true);
    const theirs = await ortMetrics(res.files[0], ds.test, ds.inputShape, [false, true]);
    ds.taskNames.forEach((name, k) => expect(theirs[k].accuracy).toBe(res.query.predicted[name].accuracy));
  });

  it.skipIf(!torchThere)('export --format safetensors at t = 0 loads with load_state_dict(strict=True) and gives the endpoint’s tensors back exactly', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'extra-onnx-st-'));
    const r = extra(['export', '--run', run, '--t', '0', '--format', 'safetensors', '--out', out]);
    expect(r.code, r.err).toBe(0);
    // the fixture case index 2 is residual-bn at opset 13 (scripts/onnx_fixtures.py)
    const p = spawnSync('/usr/bin/python3', [path.resolve('scripts/torch_load_check.py'), 'residual-bn', path.join(out, 'model.safetensors'), '2'], { encoding: 'utf8' });
    expect(p.status, p.stderr).toBe(0);
    const report = JSON.parse(p.stdout.trim().split('\n').pop()!);
    expect(report.loaded).toBe(true);
    expect(report.maxDiff).toBe(0);
  });

  it('a network that is not the run’s is refused on import, every difference in one line', () => {
    refused(['import', '--run', run, '--endpoint', `c=${path.join(FIX, 'depthwise-op13-preserve.onnx')}`], /is not the same network as the run: .*layer 0/);
  });
});

/** A small ONNX model by hand: input x [N, 4], the given nodes and initializers, output y. */
function onnxFile(dir: string, name: string, nodes: Record<string, unknown>[], initializers: Record<string, unknown>[], opts: { inputDims?: Record<string, unknown>[]; opset?: number } = {}): string {
  const f32 = (n: number) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => (i % 7) / 7 - 0.3).buffer);
  const bytes = encodeOnnx({
    ir_version: 8,
    opset_import: [{ domain: '', version: opts.opset ?? 13 }],
    graph: {
      name: 'g',
      node: nodes,
      initializer: initializers.map((t) => ({ data_type: 1, raw_data: f32((t.dims as number[]).reduce((p, q) => p * q, 1)), ...t })),
      input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: opts.inputDims ?? [{ dim_param: 'N' }, { dim_value: 4 }] } } } }],
      output: [{ name: 'y0' }, { name: 'y1' }],
    },
  });
  const file = path.join(dir, `${name}.onnx`);
  writeFileSync(file, bytes);
  return file;
}

describe('ONNX files extra cannot read are refused with one line naming the node, its op and what to do', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'extra-onnx-bad-'));
  const heads = [
    { op_type: 'Gemm', input: ['h', 'W0', 'B0'], output: ['y0'], name: 'head0', attribute: [{ name: 'transB', type: 2, i: 1 }] },
    { op_type: 'Gemm', input: ['h', 'W1', 'B1'], output: ['y1'], name: 'head1', attribute: [{ name: 'transB', type: 2, i: 1 }] },
  ];
  const headInits = [{ name: 'W0', dims: [2, 4] }, { name: 'B0', dims: [2] }, { name: 'W1', dims: [3, 4] }, { name: 'B1', dims: [3] }];
  const data = ['--data', ''];
  let npyDir = '';
  beforeAll(() => {
    // four features, a binary and a 3-class task
    npyDir = mkdtempSync(path.join(tmpdir(), 'extra-onnx-npy-'));
    for (const [split, n] of [['train', 64], ['test', 16]] as const) {
      writeFileSync(path.join(npyDir, `x_${split}.npy`), npy('<f4', [n, 4], Float32Array.from({ length: n * 4 }, (_, i) => (i % 11) / 11)));
      writeFileSync(path.join(npyDir, `y_${split}_a.npy`), npy('<i4', [n], Int32Array.from({ length: n }, (_, i) => i % 2)));
      writeFileSync(path.join(npyDir, `y_${split}_b.npy`), npy('<i4', [n], Int32Array.from({ length: n }, (_, i) => i % 3)));
    }
    data[1] = npyDir;
  });
  let lastRun = '';
  const train = (file: string) => {
    lastRun = path.join(mkdtempSync(path.join(tmpdir(), 'extra-onnx-run-')), 'r');
    return ['train', '--run', lastRun, '--model-onnx', file, '--pref', '0.5,0.5', '--epochs', '1', ...data];
  };

  it('a good hand-made file trains from its own weights (the refusals below are about the file, not the harness)', async () => {
    const file = onnxFile(dir, 'good', [{ op_type: 'Relu', input: ['x'], output: ['h'], name: 'relu' }, ...heads], headInits);
    // a learning rate far below float32's resolution: the trained endpoint is the file's starting point itself
    const r = extra([...train(file), '--lr', '1e-30']);
    expect(r.code, r.err).toBe(0);
    const info = await readRun(lastRun);
    const model = buildModel(info!.model);
    const want = valuesFromStateDict(model, importOnnx(new Uint8Array(readFileSync(file)), file).weights).params;
    const got = await loadLayersModelFromDir(path.join(lastRun, 'endpoints', 'ls-0.5_0.5'));
    got.model.dispose();
    expect(got.values.map((v) => Array.from(v.dataSync()))).toEqual(want.map((v) => Array.from(v.dataSync())));
    expect(model.params.map((p) => p.name)).toEqual(['W0', 'B0', 'W1', 'B1']);
  });
  it('an op outside the table', () => {
    refused(train(onnxFile(dir, 'einsum', [{ op_type: 'Einsum', input: ['x'], output: ['h'], name: 'act' }, ...heads], headInits)), /node 'act' \(Einsum\): the op Einsum is not supported; replace it in the PyTorch model or ask for it \(extra reads Conv, .*Gemm/);
    // nothing half-made: the run directory the command would have created is not there
    expect(existsSync(lastRun)).toBe(false);
  });
  it('several nodes extra cannot read: all of them in one refusal, every one with --json', () => {
    const nodes = [{ op_type: 'Einsum', input: ['x'], output: ['a'], name: 'e1' }, { op_type: 'Relu', input: ['x'], output: ['h'], name: 'relu' }, { op_type: 'Einsum', input: ['x'], output: ['b'], name: 'e2' }, ...heads];
    const file = onnxFile(dir, 'two-einsums', nodes, headInits);
    refused(train(file), /2 nodes cannot be read: node 'e1' \(Einsum\): .*; node 'e2' \(Einsum\)/);
    const r = extra([...train(file), '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).problems).toEqual(["node 'e1' (Einsum): the op Einsum is not supported; replace it in the PyTorch model or ask for it", "node 'e2' (Einsum): the op Einsum is not supported; replace it in the PyTorch model or ask for it"]);
  });
  it('weights in an external data file', () => {
    refused(train(onnxFile(dir, 'external', [{ op_type: 'Relu', input: ['x'], output: ['h'], name: 'relu' }, ...heads], [{ name: 'W0', dims: [2, 4], raw_data: new Uint8Array(0), data_location: 1, external_data: [{ key: 'location', value: 'w.bin' }] }, ...headInits.slice(1)])), /external data file/);
  });
  it('a float64 weight', () => {
    refused(train(onnxFile(dir, 'double', [{ op_type: 'Relu', input: ['x'], output: ['h'], name: 'relu' }, ...heads], [{ name: 'W0', dims: [2, 4], data_type: 11, raw_data: new Uint8Array(64) }, ...headInits.slice(1)])), /node 'head0' \(Gemm\): its input 'W0' is DOUBLE; extra reads float32 weights/);
  });
  it('a dynamic shape that cannot be folded', () => {
    refused(train(onnxFile(dir, 'dynamic', [{ op_type: 'Relu', input: ['x'], output: ['h'], name: 'relu' }, ...heads], headInits, { inputDims: [{ dim_param: 'N' }, { dim_param: 'F' }] })), /input 'x' has shape \[N,F\]; every axis but the batch must be a fixed size/);
  });
  it('a Reshape that mixes samples', () => {
    const nodes = [{ op_type: 'Reshape', input: ['x', 'shape'], output: ['h'], name: 'view' }, ...heads];
    refused(train(onnxFile(dir, 'mix', nodes, [{ name: 'shape', dims: [2], data_type: 7, raw_data: new Uint8Array(BigInt64Array.of(-1n, 2n).buffer) }, ...headInits])), /node 'view' \(Reshape\): reshapes to \[-1,2\], which mixes samples/);
  });
  it('an opset outside 11–21, and a file that is not ONNX', () => {
    refused(train(onnxFile(dir, 'old', [{ op_type: 'Relu', input: ['x'], output: ['h'], name: 'relu' }, ...heads], headInits, { opset: 9 })), /opset 9 is outside the opsets extra reads \(11–21\)/);
    const bad = path.join(dir, 'truncated.onnx');
    writeFileSync(bad, readFileSync(path.join(FIX, 'lenet-op13-preserve.onnx')).subarray(0, 3000));
    refused(train(bad), /is not an ONNX model/);
    expect(existsSync(bad)).toBe(true);
  });
});
