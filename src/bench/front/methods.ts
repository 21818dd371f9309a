/** The curve methods; the nurbs-* variants are the NURBS-vs-Bézier study (issue #21): log-weight learning
 * rate ×10 / ×100, the EXTRA authors' random initial weights, and 6 control points (with bezier6 to pair);
 * nurbs-warm* branch their endpoints from a shared warm start (issue #33). */
export interface CurveMethod {
  kind: string;
  alpha: number;
  controls: number;
  weightLr?: number;
  weightInit?: 'random';
  /** shared epochs at (0.5, 0.5) the two endpoints branch from */
  warmStart?: number;
  /** each endpoint's own epochs after the warm start (default: E − W/2, the same passes as the sweep's ends) */
  own?: number;
  /** curve epochs (default: the equal-budget (k − 2)·E/2) */
  curveEpochs?: number;
  /** the curve's learning rate (default 1e-3) and schedule (default constant) */
  curveLr?: number;
  curveSchedule?: 'cosine';
  /** the endpoints' schedule (warm start and own epochs alike; default constant) */
  endpointSchedule?: 'cosine';
}

export const curveMethods: Record<string, CurveMethod> = {
  line: { kind: 'line', alpha: 0, controls: 2 },
  bezier: { kind: 'bezier', alpha: 0.5, controls: 4 },
  'bezier-a0': { kind: 'bezier', alpha: 0, controls: 4 },
  polychain: { kind: 'polychain', alpha: 0.5, controls: 3 },
  'polychain-a0': { kind: 'polychain', alpha: 0, controls: 3 },
  nurbs: { kind: 'nurbs', alpha: 0.5, controls: 4 },
  'nurbs-a0': { kind: 'nurbs', alpha: 0, controls: 4 },
  'nurbs-wlr10': { kind: 'nurbs', alpha: 0.5, controls: 4, weightLr: 10 },
  'nurbs-wlr100': { kind: 'nurbs', alpha: 0.5, controls: 4, weightLr: 100 },
  'nurbs-rand': { kind: 'nurbs', alpha: 0.5, controls: 4, weightInit: 'random' },
  nurbs6: { kind: 'nurbs', alpha: 0.5, controls: 6 },
  bezier6: { kind: 'bezier', alpha: 0.5, controls: 6 },
  // the recipe study (issue #33): endpoints branched from W epochs of one shared training at (0.5, 0.5),
  // each then trained E − W/2 epochs of its own (the same passes as two endpoints of E epochs)
  'nurbs-warm2': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 2 },
  'nurbs-warm4': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 4 },
  // the rest of the study, all at 20 passes (W + 2·own + 2·curve epochs with E = 4, k = 5):
  // where the passes go (more shared, fewer own, more curve) ...
  'nurbs-warm6': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 6 },
  'nurbs-warm8-c4': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 8, own: 2, curveEpochs: 4 },
  'nurbs-warm4-o1-c7': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 4, own: 1, curveEpochs: 7 },
  // ... and how fast each part learns
  'nurbs-warm4-clr3e-3': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 4, curveLr: 3e-3 },
  'nurbs-warm4-ccos': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 4, curveLr: 3e-3, curveSchedule: 'cosine' },
  'nurbs-warm4-ecos': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 4, endpointSchedule: 'cosine' },
  'nurbs-warm4-wlr100': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 4, weightLr: 100 },
  // round 2: further towards the shared start (round 1's winner was warm8-c4), and with the curve's cosine
  'nurbs-warm10-o1-c4': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 10, own: 1, curveEpochs: 4 },
  'nurbs-warm12-c2': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 12, own: 2, curveEpochs: 2 },
  'nurbs-warm12-o1-c3': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 12, own: 1, curveEpochs: 3 },
  'nurbs-warm8-c4-ccos': { kind: 'nurbs', alpha: 0.5, controls: 4, warmStart: 8, own: 2, curveEpochs: 4, curveLr: 3e-3, curveSchedule: 'cosine' },
};

/**
 * Pareto HyperNetworks (PHN-LS) at the same budget: one ray per batch, so E_sweep·k epochs; `lr` 1e-4 is
 * the authors' setting for Multi-MNIST (they train 150 epochs), 1e-3 the curves' own.
 */
export const phnMethods: Record<string, { lr: number }> = {
  phn: { lr: 1e-4 },
  'phn-lr1e-3': { lr: 1e-3 },
};

/**
 * PaMaL (Dimitriadis et al., code nik-dim/pamal) at the same budget: one model per task trained jointly,
 * `window` Dirichlet(1) preferences per batch (their Multi-MNIST setting: 4, Adam 1e-3, LS inside), so
 * E_sweep·k / window epochs; `pamal-w1` draws one per batch (4× the epochs for the same passes).
 */
export const pamalMethods: Record<string, { window: number; lr: number }> = {
  pamal: { window: 4, lr: 1e-3 },
  // one preference per batch: the same passes spent on 4× the epochs
  'pamal-w1': { window: 1, lr: 1e-3 },
};

/** PHN and PaMaL at equal wall time: `X@time` trains as long as the reference curve method took (run.ts) */
const timedMethods = [...Object.keys(phnMethods), ...Object.keys(pamalMethods)].map((m) => `${m}@time`);

export const frontMethods = ['ls-sweep', ...Object.keys(curveMethods), ...Object.keys(phnMethods), ...Object.keys(pamalMethods), ...timedMethods];

/** What runs without --methods: the sweep and the curves of the main table (PHN and the NURBS study by name). */
export const defaultFrontMethods = ['ls-sweep', 'line', 'bezier', 'bezier-a0', 'polychain', 'polychain-a0', 'nurbs', 'nurbs-a0'];
