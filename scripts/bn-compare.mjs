// BatchNormalization along a curve: test metrics at t = 0.25, 0.5, 0.75 with the statistics recomputed at
// C(t) (what extra does) vs the two endpoints' stored statistics interpolated vs endpoint A's own.
// Usage (after npm run build): node scripts/bn-compare.mjs RUN_DIR
const RUN = process.argv[2] ?? 'runs/own';
import * as tf from '@tensorflow/tfjs';
import { openRun, loadRunDataset, loadEndpointParams } from '../dist/app/index.js';
import { openCurve, closeCurve } from '../dist/app/curve.js';
import { curvePoint } from '../dist/curves/index.js';
import { evaluateSplit, recomputeStatistics } from '../dist/train/index.js';
import { loadLayersModelFromDir } from '../dist/models/index.js';
import { listEndpoints } from '../dist/run/index.js';
import { useBackend } from '../dist/app/index.js';
console.log('backend', await useBackend('wasm'));
const r = await openRun(RUN);
const ds = await loadRunDataset(r.info);
const c = await openCurve(r, 'curve');
const eps = await listEndpoints(RUN);
const stored = await Promise.all(c.file.endpoints.map(async (id) => (await loadLayersModelFromDir(eps.find((e) => e.id === id).dir)).statistics));
const fmt = (m) => m.map((x) => `${(100 * x.accuracy).toFixed(2)}% (loss ${x.loss.toFixed(4)})`).join(' / ');
for (const t of [0.25, 0.5, 0.75]) {
  const p = curvePoint(c.curve, c.trainable, t);
  const rec = recomputeStatistics(r.model, p, ds.train);
  const interp = stored[0].map((s, i) => tf.add(tf.mul(s, 1 - t), tf.mul(stored[1][i], t)));
  console.log(`t=${t}: recomputed ${fmt(evaluateSplit(r.model, p, ds.test, 1000, rec))} | endpoints' stored statistics interpolated ${fmt(evaluateSplit(r.model, p, ds.test, 1000, interp))} | endpoint A's ${fmt(evaluateSplit(r.model, p, ds.test, 1000, stored[0]))}`);
}
closeCurve(c);
