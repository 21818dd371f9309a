import { fitRunCurve, evaluateRunCurve } from '../app/index.js';

/**
 * Curve comparison on one run (`extra bench curves`): NURBS with and without the order term, Bézier,
 * PolyChain and the line, all between the same two endpoints with the same curve epochs.
 */
export const curveVariants: Record<string, { kind: string; alpha: number; controls?: number }> = {
  nurbs: { kind: 'nurbs', alpha: 0.5 },
  'nurbs-a0': { kind: 'nurbs', alpha: 0 },
  bezier: { kind: 'bezier', alpha: 0.5 },
  'bezier-a0': { kind: 'bezier', alpha: 0 },
  polychain: { kind: 'polychain', alpha: 0.5, controls: 3 },
  'polychain-a0': { kind: 'polychain', alpha: 0, controls: 3 },
  line: { kind: 'line', alpha: 0, controls: 2 },
};

export interface CurveVariantRow {
  variant: string;
  testLossHV: number;
  endpointsLossHV: number;
  /** null when an objective is a regression (no error rate) */
  testErrorHV: number | null;
  endpointsErrorHV: number | null;
  spearmanA: number;
  spearmanB: number;
  secondsPerEpoch: number;
}

export interface CurveVariantOptions {
  run: string;
  variant: string;
  epochs: number;
  points: number;
  lr: number;
  backend?: string;
}

/** Fit one variant into RUN/curve-VARIANT and evaluate it on `points` values of t. */
export async function measureCurveVariant(o: CurveVariantOptions): Promise<CurveVariantRow> {
  const cfg = curveVariants[o.variant];
  const curve = `curve-${o.variant}`;
  const fit = await fitRunCurve({ run: o.run, kind: cfg.kind, controls: cfg.controls ?? 4, degree: 3, alpha: cfg.alpha, samples: 2, l2: 0, noise: 0, epochs: o.epochs, batchSize: 256, lr: o.lr, seed: 0, curve, evalPoints: 0, backend: o.backend, resume: false, quiet: true });
  const prof = await evaluateRunCurve({ run: o.run, points: o.points, curve, backend: o.backend, quiet: true });
  const names = prof.taskNames;
  return {
    variant: o.variant,
    testLossHV: prof.hypervolume.testLoss.curve,
    endpointsLossHV: prof.hypervolume.testLoss.endpoints,
    testErrorHV: prof.hypervolume.testError?.curve ?? null,
    endpointsErrorHV: prof.hypervolume.testError?.endpoints ?? null,
    spearmanA: prof.spearmanValLoss[names[0]],
    spearmanB: prof.spearmanValLoss[names[1]],
    secondsPerEpoch: fit.secondsPerEpoch,
  };
}

const fixed = (x: number | null, d: number) => (x == null ? 'n/a' : x.toFixed(d));

export function curvesTable(rows: readonly CurveVariantRow[], epochs: number): string {
  return [
    `\n| curve (${epochs} epochs) | test-loss HV (ref 2,2) | endpoints only | test-error HV (ref 1,1) | endpoints only | Spearman val loss a | Spearman val loss b | s / curve epoch |`,
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.variant} | ${r.testLossHV.toFixed(4)} | ${r.endpointsLossHV.toFixed(4)} | ${fixed(r.testErrorHV, 4)} | ${fixed(r.endpointsErrorHV, 4)} | ${r.spearmanA.toFixed(3)} | ${r.spearmanB.toFixed(3)} | ${r.secondsPerEpoch.toFixed(1)} |`),
  ].join('\n');
}
