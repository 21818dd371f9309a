import * as tf from '@tensorflow/tfjs';
import { describe, it, expect } from 'vitest';
import { buildModel, loadLayersModelFromDir, saveLayersModel, valuesFromStateDict } from '../../src/models/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onnxModelSpec } from '../../src/models/onnx/import.js';
import { ExtraInputError } from '../../src/errors.js';
import { encodeOnnx } from '../../src/models/onnx/proto.js';
import { importOnnx, OnnxRefusal } from '../../src/models/onnx/import.js';

/** A small ONNX model by hand: input x [N, ...dims], the nodes and float initializers (or int64 ones), outputs y0, y1. */
function onnx(nodes: Record<string, unknown>[], inits: { name: string; dims: number[]; ints?: number[] }[], dims: number[], opset = 13): Uint8Array {
  const f32 = (n: number) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => (i % 7) / 7 - 0.3).buffer);
  return encodeOnnx({
    ir_version: 8,
    opset_import: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      node: nodes.map((n, i) => ({ name: `n${i}`, ...n })),
      initializer: inits.map((t) => (t.ints ? { name: t.name, dims: t.dims, data_type: 7, raw_data: new Uint8Array(BigInt64Array.from(t.ints.map(BigInt)).buffer) } : { name: t.name, dims: t.dims, data_type: 1, raw_data: f32(t.dims.reduce((p, q) => p * q, 1)) })),
      input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'N' }, ...dims.map((d) => ({ dim_value: d }))] } } } }],
      output: [{ name: 'y0' }, { name: 'y1' }],
    },
  });
}

const attrInts = (name: string, ints: number[]) => ({ name, type: 7, ints });
const attrInt = (name: string, i: number) => ({ name, type: 2, i });
const gap = (from: string, to: string) => [{ op_type: 'GlobalAveragePool', input: [from], output: [`${to}_p`] }, { op_type: 'Flatten', input: [`${to}_p`], output: [to] }];
const heads = (from: string, f: number) => ({
  nodes: [
    { op_type: 'Gemm', input: [from, 'W0', 'B0'], output: ['y0'], name: 'head0', attribute: [attrInt('transB', 1)] },
    { op_type: 'Gemm', input: [from, 'W1', 'B1'], output: ['y1'], name: 'head1', attribute: [attrInt('transB', 1)] },
  ],
  inits: [{ name: 'W0', dims: [2, f] }, { name: 'B0', dims: [2] }, { name: 'W1', dims: [3, f] }, { name: 'B1', dims: [3] }],
});

function refusal(bytes: Uint8Array): ExtraInputError {
  try {
    importOnnx(bytes, 'm.onnx');
  } catch (e) {
    expect(e).toBeInstanceOf(ExtraInputError);
    expect((e as Error).message).not.toContain('\n');
    return e as ExtraInputError;
  }
  throw new Error('imported');
}

describe('ONNX attributes are checked against the shapes, one writer per value, every refused node at once', () => {
  it('a Conv with group 3 on 10 channels is refused (#42 item 9), group 2 on 10 imports as a GroupConv2D', () => {
    const conv = (group: number, perGroup: number) => onnx([{ op_type: 'Conv', input: ['x', 'K'], output: ['c'], name: 'conv', attribute: [attrInts('kernel_shape', [3, 3]), attrInt('group', group)] }, ...gap('c', 'h'), ...heads('h', 6).nodes], [{ name: 'K', dims: [6, perGroup, 3, 3] }, ...heads('h', 6).inits], [10, 8, 8]);
    expect(refusal(conv(3, 3)).message).toBe("m.onnx: node 'conv' (Conv): group 3 must divide the input's 10 channels and the 6 filters");
    expect(refusal(conv(2, 4)).message).toBe("m.onnx: node 'conv' (Conv): its weight reads 4 channels per group, the input has 10 in 2 group(s)");
    const ok = importOnnx(conv(2, 5), 'm.onnx');
    expect(ok.graph.layers.find((l) => l.class === 'GroupConv2D')?.config).toMatchObject({ group: 2, filters: 6 });
  });

  it('kernel_shape, strides, pads, dilations and ceil_mode that do not fit', () => {
    const conv = (attribute: Record<string, unknown>[]) => onnx([{ op_type: 'Conv', input: ['x', 'K'], output: ['c'], name: 'conv', attribute }, ...gap('c', 'h'), ...heads('h', 6).nodes], [{ name: 'K', dims: [6, 10, 3, 3] }, ...heads('h', 6).inits], [10, 8, 8]);
    expect(refusal(conv([attrInts('kernel_shape', [5, 5])])).message).toMatch(/kernel_shape \[5,5\] disagrees with its \[6,10,3,3\] weight/);
    expect(refusal(conv([attrInts('strides', [0, 1])])).message).toMatch(/strides \[0,1\] must be two positive integers/);
    expect(refusal(conv([attrInts('pads', [1, 1, 1])])).message).toMatch(/pads \[1,1,1\] must be four non-negative integers/);
    expect(refusal(conv([attrInts('dilations', [5, 5])])).message).toMatch(/its 11×11 window does not fit the padded 8×8 input/);
    const pool = onnx([{ op_type: 'MaxPool', input: ['x'], output: ['c'], name: 'pool', attribute: [attrInts('kernel_shape', [2, 2]), attrInt('ceil_mode', 2)] }, ...gap('c', 'h'), ...heads('h', 10).nodes], heads('h', 10).inits, [10, 8, 8]);
    expect(refusal(pool).message).toMatch(/ceil_mode 2 must be 0 or 1/);
    const perm = onnx([{ op_type: 'Transpose', input: ['x'], output: ['t'], name: 'tr', attribute: [attrInts('perm', [0, 2, 2, 1])] }, ...gap('t', 'h'), ...heads('h', 10).nodes], heads('h', 10).inits, [10, 8, 8]);
    expect(refusal(perm).message).toMatch(/node 'tr' \(Transpose\): perm \[0,2,2,1\] is not a permutation of the 4 axes of \[N,10,8,8\]/);
  });

  it('two nodes that write one name are refused (#42 item 12), and a node that writes the input or an initializer', () => {
    const h = heads('h', 4);
    const twice = onnx([{ op_type: 'Relu', input: ['x'], output: ['h'], name: 'first' }, { op_type: 'Sigmoid', input: ['x'], output: ['h'], name: 'second' }, ...h.nodes], h.inits, [4]);
    expect(refusal(twice).message).toBe("m.onnx: node 'second' (Sigmoid) writes 'h', which node 'first' already writes; every value must have one writer");
    const input = onnx([{ op_type: 'Relu', input: ['x'], output: ['x'], name: 'r' }, ...heads('x', 4).nodes], h.inits, [4]);
    expect(refusal(input).message).toMatch(/node 'r' \(Relu\) writes 'x', which is the input/);
  });

  it('a file with several nodes extra cannot read lists every one of them (a count and the first three in the line; all in problems)', () => {
    const h = heads('h', 4);
    const nodes = [
      { op_type: 'Einsum', input: ['x'], output: ['a'], name: 'e1' },
      { op_type: 'Relu', input: ['a'], output: ['a2'], name: 'after_e1' },
      { op_type: 'Slice', input: ['x', 's0', 's1', 'ax0'], output: ['b'], name: 'batch_slice' },
      { op_type: 'Gather', input: ['x', 'i0'], output: ['c'], name: 'batch_gather', attribute: [attrInt('axis', 0)] },
      { op_type: 'Concat', input: ['x', 'x'], output: ['d'], name: 'batch_concat', attribute: [attrInt('axis', 0)] },
      { op_type: 'Relu', input: ['x'], output: ['h'], name: 'fine' },
      ...h.nodes,
    ];
    const e = refusal(onnx(nodes, [...h.inits, { name: 's0', dims: [1], ints: [1] }, { name: 's1', dims: [1], ints: [3] }, { name: 'ax0', dims: [1], ints: [0] }, { name: 'i0', dims: [1], ints: [0] }], [4]));
    expect(e).toBeInstanceOf(OnnxRefusal);
    const problems = (e as OnnxRefusal).problems;
    // the node after a refused one is not a problem of its own
    expect(problems).toEqual([
      "node 'e1' (Einsum): the op Einsum is not supported; replace it in the PyTorch model or ask for it",
      "node 'batch_slice' (Slice): slices the batch axis (axis 0): extra keeps every sample",
      "node 'batch_gather' (Gather): gathers samples of the batch (axis 0)",
      "node 'batch_concat' (Concat): concatenates on the batch axis (axis 0)",
    ]);
    expect(e.message).toMatch(/^m\.onnx: 4 nodes cannot be read: node 'e1' \(Einsum\).*; and 1 more \(--json lists them all\) \(extra reads Conv, .*Gemm/);
  });

  it('broadcasting that would mix samples, and shapes that do not broadcast', () => {
    const h = heads('h', 4);
    const add = (dims: number[]) => onnx([{ op_type: 'Add', input: ['x', 'P'], output: ['h'], name: 'add' }, ...h.nodes], [...h.inits, { name: 'P', dims }], [4]);
    expect(refusal(add([3, 4])).message).toBe("m.onnx: node 'add' (Add): its constant [3,4] has an axis against the batch: broadcasting it would mix samples");
    expect(refusal(add([3])).message).toBe("m.onnx: node 'add' (Add): cannot broadcast [4] against its constant [3]");
    // a [1,4] weight is broadcast over the batch: a parameter under its own name
    const ok = importOnnx(add([1, 4]), 'm.onnx');
    expect(ok.graph.layers.find((l) => l.class === 'ArithmeticWith')?.weightNames).toEqual(['P']);
    // so is a one-number weight (a learned temperature); an exporter's own number stays a fixed scale
    const scalar = (name: string) => importOnnx(onnx([{ op_type: 'Mul', input: ['x', name], output: ['h'], name: 'mul' }, ...h.nodes], [...h.inits, { name, dims: [1] }], [4]), 'm.onnx');
    expect(scalar('temperature').weights.get('temperature')?.shape).toEqual([1]);
    expect(scalar('onnx::Mul_7').graph.layers.some((l) => l.class === 'Rescaling')).toBe(true);
    expect(scalar('onnx::Mul_7').weights.has('onnx::Mul_7')).toBe(false);
  });

  it("Softmax before opset 13 normalizes the axes from its axis on together (the op's own semantics then)", async () => {
    await tf.setBackend('cpu');
    const h = heads('f', 12);
    const nodes = [{ op_type: 'Reshape', input: ['x', 'shp'], output: ['x3'], name: 'view' }, { op_type: 'Softmax', input: ['x3'], output: ['s'], name: 'sm', attribute: [attrInt('axis', 1)] }, { op_type: 'Flatten', input: ['s'], output: ['f'], name: 'flat' }, ...h.nodes];
    const file = onnx(nodes, [...h.inits, { name: 'shp', dims: [3], ints: [0, 3, 4] }], [12], 11);
    const imp = importOnnx(file, 'm.onnx');
    const model = buildModel(onnxModelSpec(imp, 'm.onnx', { inputShape: [12], numClasses: [2, 3], taskNames: ['a', 'b'] }));
    const r = valuesFromStateDict(model, imp.weights);
    const x = tf.randomNormal([2, 12], 0, 1, 'float32', 3);
    const got = model.forward(r.params, x)[1];
    // head 1 on softmax over all twelve values of a sample
    const want = tf.add(tf.matMul(tf.softmax(x.reshape([2, 12])), r.params[2], false, false), r.params[3]);
    expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-6);
  });

  it('a node that reads one tensor twice ((x − p)², x + x, a concatenation of x with itself): the checkpoint predicts as extra computes', async () => {
    await tf.setBackend('cpu');
    const h = heads('c', 12);
    const nodes = [
      { op_type: 'Sub', input: ['x', 'P'], output: ['s'] },
      { op_type: 'Mul', input: ['s', 's'], output: ['m'] },
      { op_type: 'Add', input: ['m', 'm'], output: ['a'] },
      { op_type: 'Concat', input: ['a', 'a', 'x'], output: ['c'], attribute: [attrInt('axis', 1)] },
      ...h.nodes,
    ];
    const imp = importOnnx(onnx(nodes, [...h.inits, { name: 'P', dims: [1, 4] }], [4]), 'm.onnx');
    const spec = onnxModelSpec(imp, 'm.onnx', { inputShape: [4], numClasses: [2, 3], taskNames: ['a', 'b'] });
    const model = buildModel(spec);
    const r = valuesFromStateDict(model, imp.weights);
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-twice-'));
    await saveLayersModel(dir, spec, r.params);
    const back = await loadLayersModelFromDir(dir);
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
    const ours = model.forward(r.params, x);
    const theirs = back.model.predict(x) as tf.Tensor[];
    ours.forEach((y, k) => expect(tf.max(tf.abs(tf.sub(y, theirs[k]))).dataSync()[0]).toBeLessThan(1e-6));
    // and x·x + x·x concatenated twice with x, by hand
    const d = tf.sub(x, r.params[0]);
    const m = tf.mul(d, d);
    const want = tf.add(tf.matMul(tf.concat([tf.add(m, m), tf.add(m, m), x], 1), r.params[3]), r.params[4]);
    expect(tf.max(tf.abs(tf.sub(ours[1], want))).dataSync()[0]).toBeLessThan(1e-6);
  });

  it("shape arithmetic with Mod (Python's sign rule unless fmod) is folded", () => {
    const h = heads('f', 12);
    const file = (fmod: number) => onnx([
      { op_type: 'Mod', input: ['m3', 'five'], output: ['r'], attribute: [attrInt('fmod', fmod)] },
      { op_type: 'Concat', input: ['zero', 'r', 'six'], output: ['shape'], attribute: [attrInt('axis', 0)] },
      { op_type: 'Reshape', input: ['x', 'shape'], output: ['x3'] },
      { op_type: 'Flatten', input: ['x3'], output: ['f'] },
      ...h.nodes,
    ], [...h.inits, { name: 'm3', dims: [1], ints: [-3] }, { name: 'five', dims: [1], ints: [5] }, { name: 'zero', dims: [1], ints: [0] }, { name: 'six', dims: [1], ints: [6] }], [12]);
    // −3 mod 5 = 2 (Python, PyTorch's %): [N, 2, 6]
    expect(importOnnx(file(0), 'm.onnx').graph.layers.some((l) => l.class === 'Reshape' && JSON.stringify(l.config.target_shape) === '[2,6]')).toBe(true);
    // fmod: −3, not a shape
    expect(refusal(file(1)).message).toMatch(/cannot reshape \[12\] per sample to \[-3,6\]/);
  });
});
