import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import * as ort from 'onnxruntime-node';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildModel, defaultModelSpec, initParams, loadLayersModelFromDir, paramsToPytorchStateDict, saveLayersModel, type FunctionalModel } from '../../src/models/index.js';
import { graphSpecFor } from '../../src/models/graph/index.js';
import { graphToOnnx } from '../../src/models/onnx/export.js';
import { importOnnx, onnxModelSpec } from '../../src/models/onnx/import.js';
import { valuesFromStateDict } from '../../src/models/index.js';
import type { GraphLayer } from '../../src/models/types.js';
import { encodeOnnx, FLOAT, INT64, replaceInitializers } from '../../src/models/onnx/proto.js';
import { readFileSync } from 'node:fs';

/**
 * Dense prediction through ONNX: per-pixel outputs written N×C×H×W, the transposed convolutions,
 * upsampling, crops and every resize mode extra computes, against onnxruntime; and the written file
 * read back by extra's importer to the same numbers.
 */

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Random parameters (biases too, so their placement is checked). */
function randomParams(model: FunctionalModel, seed: number): tf.Tensor[] {
  return initParams(model.params, seed).map((p, i) => (model.params[i].init === 'zeros' ? tf.randomNormal(p.shape, 0, 0.1, 'float32', seed + i) : p));
}

/** onnxruntime's outputs on x (NHWC here, NCHW there), as extra lays them out ([N,H,W,C] for an image). */
async function runOrt(bytes: Uint8Array, x: tf.Tensor): Promise<tf.Tensor[]> {
  const session = await ort.InferenceSession.create(bytes);
  const onnxIn = tf.transpose(x, [0, 3, 1, 2]);
  const res = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', onnxIn.dataSync() as Float32Array, onnxIn.shape) });
  return session.outputNames.map((n) => {
    const t = tf.tensor(res[n].data as Float32Array, res[n].dims as number[]);
    return t.rank === 4 ? tf.transpose(t, [0, 2, 3, 1]) : t;
  });
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

/** Export at a random point, run in onnxruntime, compare; then import the file back and compare again. */
async function roundTrip(model: FunctionalModel, seed: number): Promise<{ exported: number; reimported: number }> {
  const params = randomParams(model, seed);
  const sd = paramsToPytorchStateDict(model.spec, model.params.map((p) => p.name), params, []);
  const bytes = graphToOnnx(model, sd);
  const x = tf.randomUniform([3, ...model.spec.inputShape], -1, 1, 'float32', seed + 1);
  const theirs = await runOrt(bytes, x);
  const ours = model.forward(params, x);
  expect(theirs.map((t) => t.shape)).toEqual(ours.map((t) => t.shape));
  const exported = Math.max(...ours.map((o, k) => maxDiff(o, theirs[k])));
  expect(exported).toBeLessThan(1e-5);
  // the same file through extra's importer (per-pixel outputs, ConvTranspose, Resize, Slice)
  const imp = importOnnx(bytes, 'exported.onnx');
  const spec = onnxModelSpec(imp, 'exported.onnx', { inputShape: model.spec.inputShape, numClasses: model.spec.numClasses, taskNames: model.spec.taskNames }, model.losses);
  const back = buildModel(spec);
  const r = valuesFromStateDict(back, new Map(sd.map((t) => [t.name, { shape: t.shape, data: t.data }])), {});
  expect(r.problems).toEqual([]);
  const again = back.forward(r.params, x);
  const reimported = Math.max(...again.map((o, k) => maxDiff(o, theirs[k])));
  expect(reimported).toBeLessThan(1e-5);
  return { exported, reimported };
}

const coordinates = ['asymmetric', 'half_pixel', 'pytorch_half_pixel', 'align_corners', 'tf_half_pixel_for_nn'] as const;
const nearest = ['floor', 'ceil', 'round_prefer_floor', 'round_prefer_ceil'] as const;

/** A graph on a [6,8,2] image with every dense layer: each branch ends per pixel at 6×8. */
function zoo(): { layers: GraphLayer[]; outputs: string[]; losses: ('seg' | 'depth' | 'normal')[]; numClasses: number[] } {
  const layers: GraphLayer[] = [];
  const outputs: string[] = [];
  const losses: ('seg' | 'depth' | 'normal')[] = [];
  const numClasses: number[] = [];
  const add = (name: string, cls: string, config: Record<string, unknown>, input: string) => {
    layers.push({ name, class: cls, config, inputs: [input] });
    return name;
  };
  const out = (name: string, kind: 'seg' | 'depth' | 'normal', classes: number) => {
    outputs.push(name);
    losses.push(kind);
    numClasses.push(classes);
  };
  const resize = (name: string, input: string, size: [number, number], interpolation: string, coordinate: string, mode = 'floor') => add(name, 'Resize2D', { size, interpolation, coordinate, nearest_mode: mode }, input);
  // transposed convolutions: same (k > s), valid with k < s, then crops and resizes back to 6×8
  const t1 = add('t1', 'Conv2DTranspose', { filters: 3, kernel_size: 3, strides: 2, padding: 'same', activation: 'relu' }, 'input');
  out(add('t1_crop', 'Cropping2D', { cropping: [[2, 4], [5, 3]] }, t1), 'normal', 3);
  const t2 = add('t2', 'Conv2DTranspose', { filters: 2, kernel_size: [2, 1], strides: [3, 2], padding: 'valid' }, 'input');
  out(resize('t2_back', t2, [6, 8], 'nearest', 'asymmetric'), 'seg', 2);
  const t3 = add('t3', 'Conv2DTranspose', { filters: 1, kernel_size: 4, strides: 2, padding: 'same', use_bias: false }, 'input');
  out(resize('t3_back', t3, [6, 8], 'bilinear', 'half_pixel'), 'depth', 1);
  // tfjs' UpSampling2D, both interpolations, and back
  const u1 = add('u1', 'UpSampling2D', { size: [2, 3], interpolation: 'bilinear' }, 'input');
  out(resize('u1_back', u1, [6, 8], 'bilinear', 'align_corners'), 'seg', 2);
  const u2 = add('u2', 'UpSampling2D', { size: [3, 2], interpolation: 'nearest' }, 'input');
  out(resize('u2_back', u2, [6, 8], 'nearest', 'half_pixel', 'round_prefer_ceil'), 'seg', 2);
  // every coordinate mode through a chain of sizes (up, down, odd ratios, a single row), nearest in every rounding, then bilinear
  for (const c of coordinates) {
    let v = 'input';
    const sizes: [number, number][] = [[9, 5], [4, 7], [11, 13], [1, 4], [5, 3]];
    nearest.forEach((m, i) => (v = resize(`${c}_${m}`, v, sizes[i], 'nearest', c, m)));
    v = resize(`${c}_lin1`, v, sizes[4], 'bilinear', c);
    out(resize(`${c}_lin2`, v, [6, 8], 'bilinear', c), 'seg', 2);
  }
  return { layers, outputs, losses, numClasses };
}

describe('dense prediction through ONNX: extra → onnxruntime → extra', () => {
  it('segnet-mtl: per-pixel outputs N×C×H×W, onnxruntime equals extra to 1e-5', async () => {
    const model = buildModel(defaultModelSpec('segnet-mtl', [16, 12, 3], [13, 1, 3], ['seg', 'depth', 'normal'], undefined, ['seg', 'depth', 'normal']));
    const d = await roundTrip(model, 3);
    process.stderr.write(`segnet-mtl max |extra − onnxruntime| ${d.exported.toExponential(2)}, reimported ${d.reimported.toExponential(2)}\n`);
  });

  it('Conv2DTranspose, Cropping2D, UpSampling2D and Resize2D in every mode: onnxruntime equals extra to 1e-5', async () => {
    const z = zoo();
    const taskNames = z.outputs.map((o) => o);
    const spec = graphSpecFor({ input: 'input', layers: z.layers, outputs: z.outputs }, [6, 8, 2], 'zoo', { inputShape: [6, 8, 2], numClasses: z.numClasses, taskNames }, z.losses);
    const d = await roundTrip(buildModel(spec), 5);
    process.stderr.write(`dense zoo max |extra − onnxruntime| ${d.exported.toExponential(2)}, reimported ${d.reimported.toExponential(2)}\n`);
  });

  it('the same graph as a tfjs layers checkpoint: saved, loaded by tf.loadLayersModel (Resize2D registered), its predict equal to extra', async () => {
    const z = zoo();
    const spec = graphSpecFor({ input: 'input', layers: z.layers, outputs: z.outputs }, [6, 8, 2], 'zoo', { inputShape: [6, 8, 2], numClasses: z.numClasses, taskNames: z.outputs }, z.losses);
    const model = buildModel(spec);
    const params = randomParams(model, 9);
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-dense-'));
    await saveLayersModel(dir, spec, params);
    const loaded = await loadLayersModelFromDir(dir);
    const x = tf.randomUniform([2, 6, 8, 2], -1, 1, 'float32', 10);
    const theirs = loaded.model.predict(x) as tf.Tensor[];
    const ours = model.forward(loaded.values, x);
    expect(Math.max(...ours.map((o, k) => maxDiff(o, theirs[k])))).toBeLessThan(1e-5);
    expect(Math.max(...ours.map((o, k) => maxDiff(o, model.forward(params, x)[k])))).toBe(0);
  });
});

/** A one-node ONNX file on a [N,2,4,6] input: the node's own inputs beyond x as initializers. */
function oneNode(op: string, attrs: { name: string; type: number; i?: number; f?: number; ints?: number[]; s?: Uint8Array }[], extra: { name: string; dims: number[]; f32?: number[]; i64?: number[] }[], opset = 17): Uint8Array {
  const init = extra.filter((e) => e.name).map((e) => ({ name: e.name, dims: e.dims, data_type: e.f32 ? FLOAT : INT64, raw_data: e.f32 ? new Uint8Array(Float32Array.from(e.f32).buffer) : new Uint8Array(BigInt64Array.from((e.i64 ?? []).map(BigInt)).buffer) }));
  const dims = (d: (number | string)[]) => ({ tensor_type: { elem_type: FLOAT, shape: { dim: d.map((v) => (typeof v === 'string' ? { dim_param: v } : { dim_value: v })) } } });
  return encodeOnnx({
    ir_version: 8, producer_name: 'test', producer_version: '0', opset_import: [{ domain: '', version: opset }],
    graph: { name: 'g', node: [{ input: ['x', ...extra.map((e) => e.name)], output: ['y'], name: 'the_node', op_type: op, attribute: attrs }], initializer: init, input: [{ name: 'x', type: dims(['N', 2, 4, 6]) }], output: [{ name: 'y', type: dims(['N', 2, 8, 12]) }] },
  });
}
const s = (name: string, v: string) => ({ name, type: 3, s: new TextEncoder().encode(v) });
const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
const int = (name: string, v: number) => ({ name, type: 2, i: v });

describe('an ONNX-made dense run exports its own file (NCHW outputs) with new weights', () => {
  it('dense-mtl (BatchNorm, ConvTranspose, bilinear Resize; log-softmax, depth and L2-normalized normal heads): new state_dict in the PyTorch file, onnxruntime equals extra', async () => {
    const file = path.resolve(__dirname, '../fixtures/onnx/dense-mtl-op17-preserve.onnx');
    const bytes = new Uint8Array(readFileSync(file));
    const imp = importOnnx(bytes, file);
    const spec = onnxModelSpec(imp, file, { inputShape: imp.inputShape, numClasses: [13, 1, 3], taskNames: ['seg', 'depth', 'normal'] }, ['seg', 'depth', 'normal']);
    const model = buildModel(spec);
    const params = randomParams(model, 21);
    const statistics = model.statistics.map((st, i) => (st.name.endsWith('running_var') ? tf.randomUniform(st.shape, 0.5, 2, 'float32', 30 + i) : tf.randomNormal(st.shape, 0, 0.3, 'float32', 30 + i)));
    const sd = paramsToPytorchStateDict(model.spec, model.params.map((p) => p.name), params, statistics);
    const written = replaceInitializers(bytes, new Map(sd.map((t) => [t.name, t.data])), file);
    const x = tf.randomUniform([2, ...imp.inputShape], -1, 1, 'float32', 22);
    const theirs = await runOrt(written, x);
    const ours = model.forward(params, x, statistics);
    // the segmentation head ends in log_softmax (dim=1), which extra's forward leaves out (its loss reads logits)
    const d = Math.max(...ours.map((o, k) => (k === 0 ? maxDiff(tf.logSoftmax(o), tf.logSoftmax(theirs[k])) : maxDiff(o, theirs[k]))));
    process.stderr.write(`dense-mtl re-weighted file: max |extra − onnxruntime| ${d.toExponential(2)}\n`);
    expect(d).toBeLessThan(1e-5);
  });
});

describe('ONNX Resize and ConvTranspose: what is not exact is refused, naming the node', () => {
  const scales = (v: number[]) => [{ name: '', dims: [0], f32: [] }, { name: 'scales', dims: [4], f32: v }];
  const refuse = (bytes: Uint8Array, why: RegExp) => expect(() => importOnnx(bytes, 'm.onnx')).toThrow(why);
  it('Resize', () => {
    refuse(oneNode('Resize', [s('mode', 'cubic')], scales([1, 1, 2, 2])), /m\.onnx: node 'the_node' \(Resize\): mode 'cubic' is not supported/);
    refuse(oneNode('Resize', [s('mode', 'linear'), s('coordinate_transformation_mode', 'tf_crop_and_resize')], scales([1, 1, 2, 2])), /coordinate_transformation_mode 'tf_crop_and_resize' is not supported/);
    refuse(oneNode('Resize', [s('mode', 'nearest')], scales([1, 1, 1.3, 2])), /scales \[1,1,1\.29.*,2\] on a 4×6 image give no whole size/);
    refuse(oneNode('Resize', [s('mode', 'nearest')], scales([1, 2, 2, 2])), /resize the batch or the channels/);
    refuse(oneNode('Resize', [s('mode', 'linear'), int('antialias', 1)], scales([1, 1, 0.5, 0.5]), 18), /antialias = 1 is not supported/);
    refuse(oneNode('Resize', [s('mode', 'linear'), int('exclude_outside', 1)], scales([1, 1, 2, 2])), /exclude_outside = 1 is not supported/);
  });
  it('ConvTranspose', () => {
    const w = (cin: number, cout: number, k: number) => [{ name: 'w', dims: [cin, cout, k, k], f32: Array(cin * cout * k * k).fill(0.1) }];
    refuse(oneNode('ConvTranspose', [int('group', 2)], w(2, 1, 3)), /node 'the_node' \(ConvTranspose\): group 2 is not supported/);
    refuse(oneNode('ConvTranspose', [ints('dilations', [2, 2])], w(2, 2, 3)), /dilations \[2,2\] are not supported/);
    refuse(oneNode('ConvTranspose', [ints('strides', [2, 2]), ints('output_padding', [1, 1])], w(2, 2, 3)), /output_padding larger than the end pad is not supported/);
    refuse(oneNode('ConvTranspose', [ints('output_shape', [8, 12])], w(2, 2, 3)), /output_shape is not supported/);
    refuse(oneNode('ConvTranspose', [s('auto_pad', 'SAME_UPPER')], w(2, 2, 3)), /auto_pad SAME_UPPER is not supported/);
    refuse(oneNode('ConvTranspose', [], w(3, 2, 3)), /its weight reads 3 channels, the input has 2/);
  });
});
