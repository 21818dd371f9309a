// The test split of a run's data set as x_test.npy / y_test.npy (for scripts/torch_residual_check.py).
// Usage (after npm run build): node scripts/dump-test-npy.mjs RUN_DIR OUT_DIR
import { writeFileSync, readFileSync } from 'node:fs';
import { dump } from 'npyjs';
import { loadDataset } from '../dist/data/index.js';
const run = JSON.parse(readFileSync(process.argv[2] + '/run.json', 'utf8'));
const d = run.dataset;
const ds = await loadDataset(d.name, { seed: d.seed, trainSize: d.trainSize, valSize: d.valSize, testSize: d.testSize, quiet: true });
writeFileSync(process.argv[3] + '/x_test.npy', Buffer.from(dump(ds.test.x, [ds.test.n, ...ds.inputShape])));
const y = new Int32Array(ds.test.n * ds.test.y.length);
for (let i = 0; i < ds.test.n; i++) ds.test.y.forEach((l, k) => (y[i * ds.test.y.length + k] = l[i]));
writeFileSync(process.argv[3] + '/y_test.npy', Buffer.from(dump(y, [ds.test.n, ds.test.y.length])));
console.log('dumped', ds.test.n);
