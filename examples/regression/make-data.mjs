// A mixed classification + regression data set from the embedded Multi-MNIST, as NumPy files for
// `extra train --data DIR`: task `left` is the top-left digit's class (int64 labels → softmax
// cross-entropy), task `right_value` is the bottom-right digit read as a number (float32 targets →
// a regression, squared error), standardized with the training rows' mean and standard deviation (written to
// targets.json to map predictions back): a regression head starts near 0, and Adam moves its bias by about
// the learning rate per step, so unscaled targets averaging 4.5 would take thousands of steps just to reach
// their mean. Usage (after npm run build):
//   node examples/regression/make-data.mjs OUT_DIR [--train-size 10000] [--val-size 2000] [--test-size 2000]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dump } from 'npyjs';
import { loadDataset } from '../../dist/data/index.js';

const { values: v, positionals } = parseArgs({ allowPositionals: true, options: { 'train-size': { type: 'string', default: '10000' }, 'val-size': { type: 'string', default: '2000' }, 'test-size': { type: 'string', default: '2000' } } });
const out = positionals[0];
if (!out) {
  console.error('usage: node examples/regression/make-data.mjs OUT_DIR [--train-size N] [--val-size N] [--test-size N]');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const ds = await loadDataset('multi-mnist', { seed: 0, trainSize: Number(v['train-size']), valSize: Number(v['val-size']), testSize: Number(v['test-size']), quiet: true });
const right = Array.from(ds.train.y[1]);
const mean = right.reduce((a, b) => a + b, 0) / right.length;
const std = Math.sqrt(right.reduce((a, b) => a + (b - mean) ** 2, 0) / right.length);
writeFileSync(path.join(out, 'targets.json'), JSON.stringify({ right_value: { mean, std } }, null, 2) + '\n');
for (const split of ['train', 'val', 'test']) {
  const s = ds[split];
  writeFileSync(path.join(out, `x_${split}.npy`), Buffer.from(dump(s.x, [s.n, ...ds.inputShape])));
  writeFileSync(path.join(out, `y_${split}_left.npy`), Buffer.from(dump(BigInt64Array.from(s.y[0], (d) => BigInt(d)), [s.n])));
  writeFileSync(path.join(out, `y_${split}_right_value.npy`), Buffer.from(dump(Float32Array.from(s.y[1], (d) => (d - mean) / std), [s.n])));
}
console.log(`wrote ${ds.train.n}/${ds.val.n}/${ds.test.n} rows to ${out} (right_value = (digit − ${mean.toFixed(4)}) / ${std.toFixed(4)})`);
