// Curve comparison on one run: NURBS with and without the order term, Bézier, PolyChain and the line,
// all between the same two endpoints with the same curve epochs; prints HV, Spearman and time.
// Usage: npm run bench -- curves --run DIR [--epochs N] [--points N] [--kinds nurbs,nurbs-a0,bezier,...]
import { parseArgs } from 'node:util';
import { fitRunCurve, evaluateRunCurve } from '../dist/index.js';
import { machineInfo } from './machine.js';

const { values: v } = parseArgs({
  options: {
    run: { type: 'string' },
    epochs: { type: 'string', default: '5' },
    points: { type: 'string', default: '31' },
    kinds: { type: 'string', default: 'nurbs,nurbs-a0,bezier,bezier-a0,polychain,line' },
    lr: { type: 'string', default: '1e-3' },
    backend: { type: 'string' },
  },
});
if (!v.run) {
  console.error('usage: npm run bench -- curves --run DIR [--epochs N] [--points N] [--kinds ...]');
  process.exit(2);
}
const epochs = Number(v.epochs);
const points = Number(v.points);
const variants = {
  nurbs: { kind: 'nurbs', alpha: 0.5 },
  'nurbs-a0': { kind: 'nurbs', alpha: 0 },
  bezier: { kind: 'bezier', alpha: 0.5 },
  'bezier-a0': { kind: 'bezier', alpha: 0 },
  polychain: { kind: 'polychain', alpha: 0.5, controls: 3 },
  'polychain-a0': { kind: 'polychain', alpha: 0, controls: 3 },
  line: { kind: 'line', alpha: 0, controls: 2 },
};
console.log(JSON.stringify(machineInfo()));
const rows = [];
for (const name of v.kinds.split(',')) {
  const cfg = variants[name];
  if (!cfg) throw new Error(`unknown variant ${name}`);
  const curve = `curve-${name}`;
  const fit = await fitRunCurve({ run: v.run, kind: cfg.kind, controls: cfg.controls ?? 4, degree: 3, alpha: cfg.alpha, samples: 2, l2: 0, noise: 0, epochs, batchSize: 256, lr: Number(v.lr), seed: 0, curve, evalPoints: 0, backend: v.backend, resume: false, quiet: true });
  const prof = await evaluateRunCurve({ run: v.run, points, curve, backend: v.backend, quiet: true });
  const names = prof.taskNames;
  const row = {
    variant: name,
    testLossHV: prof.hypervolume.testLoss.curve,
    endpointsLossHV: prof.hypervolume.testLoss.endpoints,
    testErrorHV: prof.hypervolume.testError.curve,
    endpointsErrorHV: prof.hypervolume.testError.endpoints,
    spearmanA: prof.spearmanValLoss[names[0]],
    spearmanB: prof.spearmanValLoss[names[1]],
    secondsPerEpoch: fit.secondsPerEpoch,
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}
console.log(`\n| curve (${epochs} epochs) | test-loss HV (ref 2,2) | endpoints only | test-error HV (ref 1,1) | endpoints only | Spearman val loss a | Spearman val loss b | s / curve epoch |`);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.variant} | ${r.testLossHV.toFixed(4)} | ${r.endpointsLossHV.toFixed(4)} | ${r.testErrorHV.toFixed(4)} | ${r.endpointsErrorHV.toFixed(4)} | ${r.spearmanA.toFixed(3)} | ${r.spearmanB.toFixed(3)} | ${r.secondsPerEpoch.toFixed(1)} |`);
}
