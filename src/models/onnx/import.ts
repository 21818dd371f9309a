import { createHash } from 'node:crypto';
import { ExtraInputError, FileFormatError } from '../../errors.js';
import type { GraphSpec, ModelSpec, TaskLoss } from '../types.js';
import { graphSpecFor } from '../graph/index.js';
import type { StateTensor } from '../state-dict.js';
import { onnxOpNames, onnxOps } from './ops.js';
import { decodeOnnx, onnxDataTypes, tensorValues, transposed2d, type OnnxNode, type OnnxTensor } from './proto.js';
import { GraphBuilder, type ConstValue, type Value } from './values.js';

/** The opsets (default domain) whose operators the table was checked against. */
export const onnxOpsets = { min: 11, max: 21 } as const;


/**
 * A file with nodes extra cannot read: all of them at once (a count and the first few in the message,
 * every one in `problems`), so that a network is fixed in one round.
 */
export class OnnxRefusal extends ExtraInputError {
  constructor(where: string, readonly problems: string[], unsupportedOps: boolean) {
    const shown = 3;
    const list = problems.slice(0, shown).join('; ');
    const more = problems.length > shown ? `; and ${problems.length - shown} more (--json lists them all)` : '';
    const hint = unsupportedOps ? ` (extra reads ${onnxOpNames.join(', ')})` : '';
    super(problems.length === 1 ? `${where}: ${problems[0]}${hint}` : `${where}: ${problems.length} nodes cannot be read: ${list}${more}${hint}`);
  }
}

/** What an ONNX file becomes: a layer graph, its input shape (NHWC inside), and its weights by initializer name. */
export interface OnnxImport {
  graph: GraphSpec;
  inputShape: number[];
  /** every parameter and statistic, by initializer name, in state_dict layout ([out, in] for linear layers) */
  weights: Map<string, StateTensor>;
  /** parameters the file holds transposed ([in, out]: MatMul, Gemm with transB = 0) */
  transposed: string[];
  /** parameter name → initializer name where they differ */
  renamed: Record<string, string>;
  /** the graph's outputs (ONNX names) and the layer answering each */
  outputs: { name: string; layer: string }[];
  opset: number;
  producer: string;
  sha256: string;
  /** one line per op type: how many nodes of it were read */
  ops: Record<string, number>;
}

/** Translate an ONNX model (bytes of a .onnx file) into extra's layer graph. */
export function importOnnx(bytes: Uint8Array, where: string): OnnxImport {
  const model = decodeOnnx(bytes, where);
  const graph = model.graph!;
  const opsetEntry = model.opset_import.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const opset = opsetEntry?.version ?? 0;
  if (opset < onnxOpsets.min || opset > onnxOpsets.max) {
    throw new ExtraInputError(`${where}: opset ${opset} is outside the opsets extra reads (${onnxOpsets.min}–${onnxOpsets.max}); export with torch.onnx.export(..., opset_version=17)`);
  }
  const initializers = new Map<string, OnnxTensor>(graph.initializer.map((t) => [t.name, t]));
  const b = new GraphBuilder(initializers, where);
  b.opset = opset;
  for (const n of graph.node) for (const i of n.input) if (i) b.uses.set(i, (b.uses.get(i) ?? 0) + 1);
  // the network's input: the one graph input that is not an initializer
  const inputs = graph.input.filter((i) => !initializers.has(i.name));
  if (inputs.length !== 1) throw new ExtraInputError(`${where}: the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); extra trains models with one input`);
  const input = inputs[0];
  const tt = input.type?.tensor_type;
  if (!tt || tt.elem_type !== 1) throw new ExtraInputError(`${where}: input '${input.name}' is not a float32 tensor`);
  const dims = tt.shape?.dim ?? [];
  const perSample = dims.slice(1).map((d) => d.dim_value);
  if (dims.length < 2 || perSample.some((d) => !(d > 0))) {
    throw new ExtraInputError(`${where}: input '${input.name}' has shape [${dims.map((d) => d.dim_param || d.dim_value).join(',')}]; every axis but the batch must be a fixed size (export with a sample input of the data's shape)`);
  }
  if (perSample.length !== 1 && perSample.length !== 3) throw new ExtraInputError(`${where}: input '${input.name}' is [N,${perSample.join(',')}]; extra reads images [N,C,H,W] or features [N,F]`);
  const inputShape = perSample.length === 3 ? [perSample[1], perSample[2], perSample[0]] : perSample;
  const inputName = b.layerName(`input_${input.name}`);
  b.input = { kind: 'tensor', layer: inputName, shape: perSample, layout: perSample.length === 3 ? 'nhwc' : 'logical', physical: inputShape, nonNegative: false };
  b.values.set(input.name, b.input);
  const ops: Record<string, number> = {};
  const valueOf = (node: OnnxNode, name: string): Value | undefined => {
    if (!name) return undefined;
    const v = b.values.get(name);
    if (v) return b.resolve(v);
    const init = initializers.get(name);
    if (!init) return b.fail(node, `reads '${name}', which no node before it writes`);
    let decoded: ReturnType<typeof tensorValues>;
    try {
      decoded = tensorValues(init, where);
    } catch (e) {
      if (init.data_type !== 1 && init.data_type !== 6 && init.data_type !== 7) b.fail(node, `its input '${name}' is ${onnxDataTypes[init.data_type] ?? init.data_type}; extra reads float32 weights (export the model in float32: model.float())`);
      throw e;
    }
    const c: ConstValue = decoded.dtype === 'float32' ? { kind: 'const', shape: init.dims, float: decoded.data, initializer: name } : { kind: 'const', shape: init.dims, ints: decoded.data, initializer: name };
    b.values.set(name, c);
    return c;
  };
  // every name is written once: by the input, an initializer or one node
  const writer = new Map<string, string>([[input.name, 'the input'], ...graph.initializer.map((t) => [t.name, 'an initializer'] as [string, string])]);
  for (const node of graph.node) {
    for (const o of node.output) {
      if (!o) continue;
      const before = writer.get(o);
      if (before) throw new ExtraInputError(`${where}: node '${node.name || o}' (${node.op_type}) writes '${o}', which ${before.startsWith('node') ? before : `is ${before}`} already writes; every value must have one writer`.replace('which is the input already writes', 'which is the input').replace('which is an initializer already writes', 'which is an initializer'));
      writer.set(o, `node '${node.name || o}'`);
    }
  }
  // every node that cannot be read is reported, in one refusal; nodes that read a refused node's outputs are skipped
  const problems: string[] = [];
  const unread = new Set<string>();
  let unsupported = false;
  for (const node of graph.node) {
    if (node.input.some((i) => unread.has(i))) {
      node.output.forEach((o) => unread.add(o));
      continue;
    }
    try {
      if (node.domain !== '' && node.domain !== 'ai.onnx') b.fail(node, `is in domain '${node.domain}'; extra reads the standard ONNX operators`);
      if (!Object.hasOwn(onnxOps, node.op_type)) unsupported = true;
      const op = (Object.hasOwn(onnxOps, node.op_type) ? onnxOps[node.op_type] : undefined) ?? b.fail(node, `the op ${node.op_type} is not supported; replace it in the PyTorch model or ask for it`);
      const outs = op(b, node, node.input.map((i) => valueOf(node, i)));
      node.output.forEach((o, i) => {
        if (o && outs[i]) b.values.set(o, outs[i]);
      });
      ops[node.op_type] = (ops[node.op_type] ?? 0) + 1;
    } catch (e) {
      if (!(e instanceof ExtraInputError)) throw e;
      problems.push(e.message.startsWith(`${where}: `) ? e.message.slice(where.length + 2) : e.message);
      node.output.forEach((o) => unread.add(o));
    }
  }
  if (problems.length) throw new OnnxRefusal(where, problems, unsupported);
  const outputs = graph.output.map((o) => {
    const v = b.values.get(o.name);
    const fake: OnnxNode = { name: `output ${o.name}`, op_type: 'output', input: [o.name], output: [], domain: '', attribute: [] };
    if (!v) return b.fail(fake, 'no node writes it');
    const m = b.materialize(fake, v);
    if (m.kind !== 'tensor' || m.layer === inputName) return b.fail(fake, 'is not computed from the input');
    // N×C×H×W: a per-pixel task's output, [H,W,C] in extra's graph
    if (m.shape.length === 3) return { name: o.name, layer: b.asImage(fake, m).layer };
    if (m.shape.length !== 1) return b.fail(fake, `has shape [${m.shape.join(',')}] per sample; a task output is flat [classes] (N×C) or an image [C,H,W] (N×C×H×W)`);
    return { name: o.name, layer: b.asLogical(m, [m.shape[0]]).layer };
  });
  const seen = new Set<string>();
  for (const o of outputs) {
    if (seen.has(o.layer)) throw new ExtraInputError(`${where}: outputs ${outputs.filter((p) => p.layer === o.layer).map((p) => `'${p.name}'`).join(' and ')} are the same tensor; give each task its own head`);
    seen.add(o.layer);
  }
  const weights = new Map<string, StateTensor>();
  const fileNameOf = new Map([...b.renamed].map(([own, file]) => [file, own]));
  for (const init of b.weightOwner.keys()) {
    const name = fileNameOf.get(init) ?? init;
    const v = b.values.get(init);
    if (!v || v.kind !== 'const' || !v.float) throw new FileFormatError(`${where}: initializer ${init} is not float32`);
    if (b.transposed.has(name)) {
      const [r, c] = v.shape;
      weights.set(name, { shape: [c, r], data: transposed2d(v.float, r, c) });
    } else weights.set(name, { shape: v.shape.length ? v.shape : [1], data: v.float });
  }
  return {
    graph: { input: inputName, layers: b.layers, outputs: outputs.map((o) => o.layer) },
    inputShape,
    weights,
    transposed: [...b.transposed],
    renamed: Object.fromEntries(b.renamed),
    outputs,
    opset,
    producer: `${model.producer_name} ${model.producer_version}`.trim(),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ops,
  };
}

/**
 * The run's model spec for an imported ONNX graph and a data set: outputs are the tasks in order,
 * or those `tasks` names (ONNX output names) in the data set's task order; losses as for a model.json.
 */
export function onnxModelSpec(imp: OnnxImport, where: string, data: { inputShape: number[]; numClasses: number[]; taskNames: string[] }, losses?: TaskLoss[], tasks?: string[]): ModelSpec {
  let outputs: string[] | undefined;
  if (tasks) {
    const unknown = tasks.filter((t) => !imp.outputs.some((o) => o.name === t));
    if (unknown.length) throw new ExtraInputError(`--tasks names ${unknown.map((u) => `'${u}'`).join(', ')}, not outputs of ${where} (its outputs: ${imp.outputs.map((o) => o.name).join(', ')})`);
    outputs = tasks.map((t) => imp.outputs.find((o) => o.name === t)!.layer);
  }
  return graphSpecFor(imp.graph, imp.inputShape, where, data, losses, outputs, { onnx: { sha256: imp.sha256, opset: imp.opset, transposed: [...imp.transposed], ...(Object.keys(imp.renamed).length ? { renamed: { ...imp.renamed } } : {}) } });
}
