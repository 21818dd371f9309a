import type { HeadLayout, HeadPlace } from '../../backend/index.js';

/**
 * Multi-head self-attention as PyTorch exports it, found in a compiled graph so that its forward can
 * run as one fused op (nativeAttention) instead of its dozen layers. The pattern, per sample:
 *
 *   q = Permute[2,1,3](Reshape[T,H,D](Slice of X's last axis, or X itself))     [H, T, D]
 *   kᵀ = Permute[2,3,1](Reshape[T,H,D](…))                                      [H, D, T]
 *   v = Permute[2,1,3](Reshape[T,H,D](…))                                       [H, T, D]
 *   out = Reshape[T, H·D](Permute[2,1,3](MatMul(Softmax_last(Rescaling?(MatMul(q, kᵀ))), v)))
 *
 * (`q, k, v = qkv(x).chunk(3, -1)`, split into heads by reshape and transpose, `(q @ k.transpose(-2, -1)
 * * scale).softmax(-1) @ v`, merged back). Every layer inside the pattern must feed only the next one
 * (nothing else reads the scores or the heads), and the places of q, k and v on one input must not
 * overlap; anything else runs layer by layer as before. The graph itself is unchanged: its exports
 * still write the layers it holds.
 */

/** What the matcher reads of a compiled layer. */
export interface MatchNode {
  layer: { class: string };
  config: unknown;
  /** value indices: 0 the graph's input, i + 1 node i */
  inputs: number[];
  outShape: number[];
}

/** One fused attention: the node it computes, the nodes it replaces, and the values it reads. */
export interface AttentionFusion {
  /** the node whose value the fused op gives (the merging Reshape) */
  node: number;
  /** the other nodes of the pattern, whose values nothing outside it reads */
  covered: number[];
  /** value indices of the distinct inputs q, k and v are read from (HeadPlace.input indexes this list) */
  inputs: number[];
  layout: HeadLayout;
}

const field = (config: unknown, key: string): unknown => (config && typeof config === 'object' ? (config as Record<string, unknown>)[key] : undefined);
const numbers = (v: unknown): number[] | null => (Array.isArray(v) && v.every((x) => typeof x === 'number') ? v : null);
const same = (a: readonly number[] | null, b: readonly number[]) => a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
/** whether a per-sample axis in Keras numbering (1 first after the batch, negative from the end) is the last of rank r */
const isLast = (axis: unknown, rank: number) => typeof axis === 'number' && (axis < 0 ? axis + rank + 1 : axis) === rank;

interface Head {
  place: { value: number; column: number };
  /** the pattern's nodes of this operand */
  nodes: number[];
  t: number;
}

/**
 * All attention patterns of a graph (value 0 is its input, of `inputShape` per sample; `outputs` are node indices).
 */
export function attentionFusions(inputShape: readonly number[], nodes: readonly MatchNode[], outputs: readonly number[]): AttentionFusion[] {
  const shapeOf = (v: number): readonly number[] => (v === 0 ? inputShape : nodes[v - 1].outShape);
  // the layers reading each value, plus one for an output
  const consumers = new Array<number>(nodes.length + 1).fill(0);
  for (const n of nodes) for (const v of n.inputs) consumers[v]++;
  for (const o of outputs) consumers[o + 1]++;
  const node = (v: number): MatchNode | null => (v >= 1 ? nodes[v - 1] : null);
  const only = (v: number) => v >= 1 && consumers[v] === 1;
  const is = (v: number, cls: string) => node(v)?.layer.class === cls && only(v);

  /** q or v (perm [2,1,3]: [H,T,D]) or kᵀ (perm [2,3,1]: [H,D,T]) back to its place in a [T, C] value */
  const head = (v: number, perm: number[], h: number, d: number): Head | null => {
    if (!is(v, 'Permute') || !same(numbers(field(node(v)!.config, 'dims')), perm)) return null;
    const r = node(v)!.inputs[0];
    const rs = node(r)?.outShape;
    if (!is(r, 'Reshape') || !rs || rs.length !== 3 || rs[1] !== h || rs[2] !== d) return null;
    // the reshape reads [T, H·D]: a slice of a wider projection (q, k and v from one), or a projection of its own
    const src = node(r)!.inputs[0];
    if (!same(shapeOf(src), [rs[0], h * d])) return null;
    const s = node(src);
    if (s && s.layer.class === 'Slice' && only(src) && s.inputs.length === 1) {
      const base = s.inputs[0];
      const bs = shapeOf(base);
      const begin = field(s.config, 'begin');
      const step = field(s.config, 'step') ?? 1;
      if (bs && bs.length === 2 && bs[0] === rs[0] && isLast(field(s.config, 'axis'), 2) && step === 1 && typeof begin === 'number') {
        return { place: { value: base, column: begin }, nodes: [v - 1, r - 1, src - 1], t: rs[0] };
      }
    }
    return { place: { value: src, column: 0 }, nodes: [v - 1, r - 1], t: rs[0] };
  };

  const found: AttentionFusion[] = [];
  nodes.forEach((out, o) => {
    // from the end: Reshape[T, H·D] ← Permute[2,1,3] ← MatMul(P, v)
    if (out.layer.class !== 'Reshape' || out.outShape.length !== 2) return;
    const merge = out.inputs[0];
    if (!is(merge, 'Permute') || !same(numbers(field(node(merge)!.config, 'dims')), [2, 1, 3])) return;
    const pv = node(merge)!.inputs[0];
    if (!is(pv, 'MatMul') || node(pv)!.inputs.length !== 2) return;
    const [hs, t, d] = node(pv)!.outShape;
    if (node(pv)!.outShape.length !== 3 || !same(out.outShape, [t, hs * d])) return;
    const [pIn, vIn] = node(pv)!.inputs;
    if (!is(pIn, 'Softmax') || field(node(pIn)!.config, 'log') === true || !isLast(field(node(pIn)!.config, 'axis') ?? -1, 3)) return;
    let scores = node(pIn)!.inputs[0];
    let scale = 1;
    const chain = [merge - 1, pv - 1, pIn - 1];
    if (is(scores, 'Rescaling')) {
      const c = node(scores)!.config;
      const s = field(c, 'scale');
      if (typeof s !== 'number' || (field(c, 'offset') ?? 0) !== 0) return;
      scale = s;
      chain.push(scores - 1);
      scores = node(scores)!.inputs[0];
    }
    if (!is(scores, 'MatMul') || node(scores)!.inputs.length !== 2) return;
    chain.push(scores - 1);
    const [qIn, kIn] = node(scores)!.inputs;
    const q = head(qIn, [2, 1, 3], hs, d);
    const k = head(kIn, [2, 3, 1], hs, d);
    const v = head(vIn, [2, 1, 3], hs, d);
    if (!q || !k || !v || q.t !== t || k.t !== t || v.t !== t) return;
    // the distinct inputs, and no two heads' column ranges overlapping on one of them
    const inputs = [...new Set([q, k, v].map((x) => x.place.value))];
    const places = [q, k, v].map((x): HeadPlace => ({ input: inputs.indexOf(x.place.value), column: x.place.column }));
    const width = hs * d;
    for (let a = 0; a < 3; a++)
      for (let b = a + 1; b < 3; b++)
        if (places[a].input === places[b].input && Math.abs(places[a].column - places[b].column) < width) return;
    const covered = [...chain, ...q.nodes, ...k.nodes, ...v.nodes];
    if (new Set(covered).size !== covered.length || covered.includes(o)) return;
    found.push({ node: o, covered, inputs, layout: { heads: hs, dim: d, scale, q: places[0], k: places[1], v: places[2] } });
  });
  return found;
}
