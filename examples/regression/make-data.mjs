// A mixed classification + regression data set from the embedded Multi-MNIST, as NumPy files for
// `extra train --data DIR`: task `left` is the top-left digit's class (int64 labels → softmax
// cross-entropy), task `right_value` is the bottom-right digit read as a number (float32 targets →
// a regression, squared error). Usage (after npm run build):
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
for (const split of ['train', 'val', 'test']) {
  const s = ds[split];
  writeFileSync(path.join(out, `x_${split}.npy`), Buffer.from(dump(s.x, [s.n, ...ds.inputShape])));
  writeFileSync(path.join(out, `y_${split}_left.npy`), Buffer.from(dump(BigInt64Array.from(s.y[0], (d) => BigInt(d)), [s.n])));
  writeFileSync(path.join(out, `y_${split}_right_value.npy`), Buffer.from(dump(Float32Array.from(s.y[1]), [s.n])));
}
console.log(`wrote ${ds.train.n}/${ds.val.n}/${ds.test.n} rows to ${out}`);
