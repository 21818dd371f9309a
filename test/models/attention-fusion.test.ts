import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { selectBackend, nativeKernelsDecision } from '../../src/backend/index.js';
import { buildModel, valuesFromStateDict } from '../../src/models/index.js';
import { importOnnx, onnxModelSpec } from '../../src/models/onnx/import.js';
import { compileGraph, graphForward } from '../../src/models/graph/compile.js';
import type { GraphSpec } from '../../src/models/graph/topology.js';

// The attention pattern of an exported ViT (src/models/graph/attention.ts) found in the graph and run as
// one fused op on the native kernels: PyTorch's numbers at the ends, the unfused layers' gradients, and
// no fusion where the pattern's values are read elsewhere or its arithmetic differs.
const DIR = path.resolve(__dirname, '../fixtures/onnx-zoo');
const native = nativeKernelsDecision();
const available = native.use || process.env.CI === 'true';

function load(file: string) {
  const fx = JSON.parse(readFileSync(path.join(DIR, file.replace(/\.onnx$/, '.json')), 'utf8')) as { input: number[]; outputs: { shape: number[]; data: number[] }[] };
  const imp = importOnnx(new Uint8Array(readFileSync(path.join(DIR, file))), file);
  const inputShape = [fx.input[2], fx.input[3], fx.input[1]];
  const spec = onnxModelSpec(imp, file, { inputShape, numClasses: [10, 3], taskNames: ['a', 'b'] });
  if (!spec.graph) throw new Error('no graph');
  const n = fx.input.reduce((a, b) => a * b, 1);
  const x = tf.transpose(tf.tensor(Float32Array.from({ length: n }, (_, i) => (((i * 37) % 101) / 101) * 2 - 1), fx.input), [0, 2, 3, 1]);
  return { fx, imp, spec, graph: spec.graph, inputShape, x };
}

/** The graph with one layer's config changed, or a layer added after the last. */
function edited(g: GraphSpec, cls: string, change: (config: Record<string, unknown>) => Record<string, unknown>, nth = 0): GraphSpec {
  let seen = -1;
  return { ...g, layers: g.layers.map((l) => (l.class === cls && ++seen === nth ? { ...l, config: change(l.config) } : l)) };
}

describe('attention in an imported graph', () => {
  it.each(['vit-op11.onnx', 'vit-op13.onnx'])('%s: the block is found (2 heads of 8, scale 1/√8, q, k, v side by side)', (file) => {
    const { graph, inputShape } = load(file);
    const g = compileGraph(graph, inputShape);
    expect(g.attention.length).toBe(1);
    const f = g.attention[0];
    expect(f.layout).toEqual({ heads: 2, dim: 8, scale: Math.fround(8 ** -0.5), q: { input: 0, column: 0 }, k: { input: 0, column: 16 }, v: { input: 0, column: 32 } });
    // 3 slices, 3 reshapes and 3 transposes of the heads, 2 products, the scaling, the softmax and the merging transpose
    expect(f.covered.length).toBe(14);
    expect(g.nodes[f.node].layer.class).toBe('Reshape');
  });

  it('is not fused where a value inside the pattern is read elsewhere, the scaling has an offset, or q and v overlap', () => {
    const { graph, inputShape } = load('vit-op13.onnx');
    const softmax = graph.layers.find((l) => l.class === 'Softmax')!;
    const peeked = { ...graph, layers: [...graph.layers, { name: 'peek', class: 'Rescaling', config: { scale: 2, offset: 0 }, inputs: [softmax.name] }] };
    expect(compileGraph(peeked, inputShape).attention).toEqual([]);
    expect(compileGraph(edited(graph, 'Rescaling', (c) => ({ ...c, offset: 0.5 })), inputShape).attention).toEqual([]);
    // the third slice (v) made to start where the first (q) does: two heads read the same columns
    const slices = graph.layers.filter((l) => l.class === 'Slice');
    expect(slices.length).toBeGreaterThanOrEqual(3);
    const overlapping = edited(graph, 'Slice', (c) => ({ ...c, begin: 0, end: 16 }), 2);
    expect(compileGraph(overlapping, inputShape).attention).toEqual([]);
  });

  describe.runIf(available)('on the native kernels', () => {
    afterAll(async () => {
      await tf.setBackend('cpu');
    });
    it.each(['vit-op11.onnx', 'vit-op13.onnx'])("%s: the fused forward equals PyTorch's to 1e-5 and the gradients those of the layers it replaces", async (file) => {
      await selectBackend({ prefer: 'wasm', quiet: true });
      const { fx, imp, spec, graph, inputShape, x } = load(file);
      const model = buildModel(spec);
      const r = valuesFromStateDict(model, imp.weights, { statistics: true });
      expect(r.problems).toEqual([]);
      const g = compileGraph(graph, inputShape);
      expect(g.attention.length).toBe(1);
      const plain = { ...g, attention: [] };
      const ys = graphForward(g, r.params, x, r.statistics);
      fx.outputs.forEach((want, k) => {
        const diff = tf.max(tf.abs(tf.sub(ys[k], tf.tensor(want.data, want.shape)))).dataSync()[0];
        expect(diff, `output ${k}`).toBeLessThan(1e-5);
      });
      const loss = (graphOf: typeof g) => (...ps: tf.Tensor[]) => {
        const o = graphForward(graphOf, ps, x);
        return tf.add(tf.sum(tf.square(o[0])), tf.sum(tf.mul(o[1], tf.range(0, o[1].shape[1] ?? 1)))) as tf.Scalar;
      };
      const fusedGrads = tf.grads(loss(g))(r.params);
      const plainGrads = tf.grads(loss(plain))(r.params);
      fusedGrads.forEach((t, i) => {
        const scale = tf.max(tf.abs(plainGrads[i])).dataSync()[0];
        const diff = tf.max(tf.abs(tf.sub(t, plainGrads[i]))).dataSync()[0];
        expect(diff / Math.max(scale, 1e-12), g.params[i].name).toBeLessThan(1e-4);
      });
    });
  });
});
