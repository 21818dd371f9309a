import { z } from 'zod';
import { ExtraInputError } from '../../errors.js';
import { layerClassNames, layerKinds } from './kinds.js';

import type { GraphLayer, GraphSpec } from '../types.js';
export type { GraphLayer, GraphSpec } from '../types.js';

export const graphSpecSchema: z.ZodType<GraphSpec, z.ZodTypeDef, unknown> = z.object({
  input: z.string().min(1),
  layers: z.array(z.object({ name: z.string().min(1), class: z.string().min(1), config: z.record(z.unknown()), inputs: z.array(z.string()), weightNames: z.array(z.string().min(1)).optional() })).min(1),
  outputs: z.array(z.string().min(1)).min(1),
});

/** What a model.json's topology says: the graph plus the input shape (without the batch axis). */
export interface ParsedTopology {
  graph: GraphSpec;
  inputShape: number[];
}

const obj = z.record(z.unknown());
const keras2Node = z.array(z.array(z.unknown()).min(1));

/** The layer names a Keras 3 inbound node refers to (its args hold `keras_history: [name, node, tensor]`). */
function kerasHistories(v: unknown, out: string[][]): void {
  if (Array.isArray(v)) v.forEach((x) => kerasHistories(x, out));
  else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const cfg = o.config as Record<string, unknown> | undefined;
    if (o.class_name === '__keras_tensor__' && cfg && Array.isArray(cfg.keras_history)) out.push(cfg.keras_history.map(String));
    else Object.values(o).forEach((x) => kerasHistories(x, out));
  }
}

function inboundNames(layer: string, nodes: unknown, where: string): string[] {
  if (!Array.isArray(nodes) || nodes.length === 0) return [];
  if (nodes.length > 1) throw new ExtraInputError(`${where}: layer '${layer}' is applied ${nodes.length} times (shared layers are not supported)`);
  const node = nodes[0];
  const refs: string[][] = [];
  if (Array.isArray(node)) {
    const parsed = keras2Node.safeParse(node);
    if (!parsed.success) throw new ExtraInputError(`${where}: layer '${layer}' has a malformed inbound node`);
    parsed.data.forEach((r) => refs.push(r.slice(0, 3).map(String)));
  } else kerasHistories(node, refs);
  return refs.map(([name, node, tensor]) => {
    // every layer is applied once (shared layers are refused), so its only node is node 0
    if (node !== undefined && node !== '0') throw new ExtraInputError(`${where}: layer '${layer}' reads node ${node} of '${name}', which has only node 0 (each layer is applied once)`);
    if (tensor !== undefined && tensor !== '0') throw new ExtraInputError(`${where}: layer '${layer}' reads output ${tensor} of '${name}' (multi-output layers are not supported)`);
    return name;
  });
}

/**
 * A layer's `dtype`: extra computes in float32 and feeds float32 inputs, so any other dtype (or a
 * dtype policy of another name, Keras 3's `{class_name: 'DTypePolicy', config: {name}}`) is refused.
 */
function checkDtype(layer: string, cfg: Record<string, unknown>, where: string): void {
  for (const flag of ['sparse', 'ragged'] as const) {
    if (cfg[flag] !== undefined && cfg[flag] !== null && cfg[flag] !== false) throw new ExtraInputError(`${where}: layer '${layer}': field ${flag} is ${JSON.stringify(cfg[flag])}; extra feeds dense float32 inputs (${flag}: false)`);
  }
  const d = cfg.dtype;
  if (d === undefined || d === null) return;
  const policyName = typeof d === 'object' && !Array.isArray(d) ? (d as { config?: { name?: unknown } }).config?.name : undefined;
  const name = typeof d === 'string' ? d : policyName;
  if (name !== 'float32') {
    throw new ExtraInputError(`${where}: layer '${layer}': field dtype is ${JSON.stringify(d)}; extra computes in float32 (dtype "float32" or no dtype)`);
  }
}

function shapeOf(cfg: Record<string, unknown>): number[] | null {
  const s = cfg.batch_input_shape ?? cfg.batch_shape ?? cfg.batchInputShape;
  if (!Array.isArray(s)) return null;
  const rest = s.slice(1);
  if (!rest.every((d) => Number.isInteger(d) && (d as number) > 0)) return null;
  return rest as number[];
}

function layerRefs(v: unknown, field: string, where: string): string[] {
  // [[name, 0, 0], ...] (Keras 2) or [name, 0, 0] (Keras 3, single)
  if (!Array.isArray(v)) return [];
  const refs = (v.length && typeof v[0] === 'string' ? [v] : v.filter(Array.isArray)) as unknown[][];
  return refs.map((r) => {
    const [name, node, tensor] = r.map(String);
    // each layer is applied once and has one output: anything but node 0, tensor 0 names something that is not there
    if ((node !== undefined && node !== '0') || (tensor !== undefined && tensor !== '0')) throw new ExtraInputError(`${where}: field ${field} refers to node ${node}, tensor ${tensor} of '${name}'; a layer has only node 0, tensor 0`);
    return name;
  });
}

function checkClass(name: string, cls: string, where: string): void {
  if (!Object.hasOwn(layerKinds, cls)) {
    throw new ExtraInputError(`${where}: layer '${name}' is a ${cls}, which extra does not support (supported: ${layerClassNames.join(', ')})`);
  }
}

/**
 * Read a tfjs-layers / Keras model topology (what `model.save()` and the Keras→tfjs converter write:
 * the whole model.json, its `modelTopology`, or a `model_config`): Sequential or functional. The
 * layers are checked against the table in kinds.ts; anything else is a one-line error naming it.
 */
export function parseTopology(json: unknown, where: string): ParsedTopology {
  let top: unknown = json;
  for (const key of ['modelTopology', 'model_config']) {
    if (top && typeof top === 'object' && key in (top as object)) top = (top as Record<string, unknown>)[key];
  }
  const t = z.object({ class_name: z.string(), config: z.unknown() }).safeParse(top);
  if (!t.success) throw new ExtraInputError(`${where}: not a Keras / tfjs-layers model topology (no class_name and config)`);
  const cls = t.data.class_name;
  if (cls === 'Sequential') return parseSequential(t.data.config, where);
  if (cls === 'Model' || cls === 'Functional') return parseFunctional(t.data.config, where);
  throw new ExtraInputError(`${where}: model class ${cls} is not supported (Sequential or functional Model)`);
}

function parseSequential(config: unknown, where: string): ParsedTopology {
  const raw = Array.isArray(config) ? config : (obj.safeParse(config).data?.layers as unknown);
  const layers = z.array(z.object({ class_name: z.string(), config: obj })).min(1).safeParse(raw);
  if (!layers.success) throw new ExtraInputError(`${where}: a Sequential model needs a list of layers`);
  let inputShape: number[] | null = null;
  const out: GraphLayer[] = [];
  let prev = 'input';
  layers.data.forEach((l, i) => {
    const name = typeof l.config.name === 'string' ? l.config.name : `layer_${i}`;
    inputShape ??= shapeOf(l.config);
    checkDtype(name, l.config, where);
    if (l.class_name === 'InputLayer') return;
    checkClass(name, l.class_name, where);
    out.push({ name, class: l.class_name, config: l.config, inputs: [prev] });
    prev = name;
  });
  if (!inputShape) throw new ExtraInputError(`${where}: the first layer of the Sequential model has no batch_input_shape`);
  if (!out.length) throw new ExtraInputError(`${where}: the model has no layers`);
  return { graph: { input: 'input', layers: out, outputs: [prev] }, inputShape };
}

function parseFunctional(config: unknown, where: string): ParsedTopology {
  const c = z
    .object({ layers: z.array(z.object({ class_name: z.string(), config: obj, name: z.string().optional(), inbound_nodes: z.unknown() })).min(1), input_layers: z.unknown(), output_layers: z.unknown() })
    .safeParse(config);
  if (!c.success) throw new ExtraInputError(`${where}: a functional model needs layers, input_layers and output_layers`);
  const inputs = layerRefs(c.data.input_layers, 'input_layers', where);
  const outputs = layerRefs(c.data.output_layers, 'output_layers', where);
  if (inputs.length !== 1) throw new ExtraInputError(`${where}: the model has ${inputs.length} inputs; extra needs exactly one`);
  if (!outputs.length) throw new ExtraInputError(`${where}: the model has no outputs`);
  let inputShape: number[] | null = null;
  const byName = new Map<string, GraphLayer>();
  for (const l of c.data.layers) {
    const name = l.name ?? (typeof l.config.name === 'string' ? l.config.name : '');
    if (!name) throw new ExtraInputError(`${where}: a layer has no name`);
    if (byName.has(name)) throw new ExtraInputError(`${where}: two layers are named '${name}'`);
    checkDtype(name, l.config, where);
    if (l.class_name === 'InputLayer') {
      if (name !== inputs[0]) throw new ExtraInputError(`${where}: input layer '${name}' is not the model's input`);
      inputShape = shapeOf(l.config);
      byName.set(name, { name, class: 'InputLayer', config: l.config, inputs: [] });
      continue;
    }
    checkClass(name, l.class_name, where);
    byName.set(name, { name, class: l.class_name, config: l.config, inputs: inboundNames(name, l.inbound_nodes, where) });
  }
  if (!inputShape) throw new ExtraInputError(`${where}: the input layer '${inputs[0]}' has no batch_input_shape with positive sizes`);
  for (const l of byName.values()) {
    for (const i of l.inputs) if (!byName.has(i)) throw new ExtraInputError(`${where}: layer '${l.name}' reads '${i}', which is not a layer of the model`);
  }
  for (const o of outputs) if (!byName.has(o)) throw new ExtraInputError(`${where}: output '${o}' is not a layer of the model`);
  // topological order from the outputs back (only layers that reach an output are kept)
  const order: GraphLayer[] = [];
  const state = new Map<string, 1 | 2>();
  const visit = (n: string) => {
    if (state.get(n) === 2) return;
    if (state.get(n) === 1) throw new ExtraInputError(`${where}: the layer graph has a cycle through '${n}'`);
    state.set(n, 1);
    const l = byName.get(n)!;
    l.inputs.forEach(visit);
    state.set(n, 2);
    if (l.class !== 'InputLayer') order.push(l);
  };
  outputs.forEach(visit);
  if (!state.has(inputs[0])) throw new ExtraInputError(`${where}: no output depends on the input '${inputs[0]}'`);
  return { graph: { input: inputs[0], layers: order, outputs }, inputShape };
}
