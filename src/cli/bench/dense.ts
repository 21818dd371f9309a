import { machineInfo } from '../../bench/machine.js';
import { checkDenseOptions, denseBenchDefaults, denseDeltaTable, denseEndpointLines, endpointPrefs, measureDense } from '../../bench/dense.js';
import { denseTable } from '../demo-dense.js';
import { optNumber, optString, reqString } from '../args.js';
import type { BenchmarkEntry } from './entry.js';

const d = denseBenchDefaults;

export const denseBench: BenchmarkEntry = {
  summary: "the EXTRA paper's NYUv2 Table 2 in small on dense-digits: single-task, LS, FairGrad, EXTRA-L/F (reports/BENCHMARKS.md)",
  help: `extra bench dense --out DIR [--seeds ${d.seeds}] [--train-size ${d.trainSize}] [--epochs ${d.epochs}] [--curve-epochs ${d.curveEpochs}]
   [--points ${d.points}] [--methods ${d.methods.join(',')}] [--backend NAME] [--json]
   [--dataset nyuv2|cityscapes --data-dir DIR [--resolution H]]

The paper's NYUv2 protocol (Table 2) in small, on the built-in dense set (dense-digits: seg, depth, normal;
${d.valSize} validation and ${d.testSize} test images) with segnet-mtl. For each seed, one run in DIR/seed-S:
  - the single-task models (the Independent row; Δm% of every row is against them, 0 for this row)
  - each of --methods at the balanced preference (ls and fairgrad always)
  - EXTRA-L and EXTRA-F: NURBS curves between LS (FairGrad) endpoints at (${endpointPrefs(3).join(') and (')}),
    read at t = ½ and at the grid point of best Δm% (chosen on validation)
All numbers on the test split; the table has the mean over seeds of the nine metrics, Δm% and the mean rank
of those means, then Δm% per seed (mean ± sd, median) and the mean of the per-seed ranks.
Each seed trains ${3 * 2 + 3} models (+1 per extra method) for --epochs and two curves for --curve-epochs.
One seed at the defaults took 3–5 minutes on a 2-core machine shared with other work (load 8–12;
reports/BENCHMARKS.md, 'The dense benchmark').
  --json            one JSON object (everything, per seed too) instead of the tables
  --dataset NAME    a per-pixel set from files instead (nyuv2, cityscapes: the MTAN/LibMTL layout in --data-dir;
                    validation a 10 % hold-out of train/, test val/; all of train/ unless --train-size); on
                    this machine one segnet-mtl epoch of nyuv2 cost about 29 s at --resolution 72 and 6 minutes
                    at 288×384, per model (extrapolated from a generated set: reports/train.md)`,
  flags: { values: ['out', 'seeds', 'train-size', 'epochs', 'curve-epochs', 'points', 'methods', 'backend', 'dataset', 'data-dir', 'resolution'], switches: ['json'] },
  run: async (v, io) => {
    const cmd = 'bench dense';
    const out = reqString(cmd, v, 'out');
    const seeds = optNumber(cmd, v, 'seeds', { integer: true, positive: true, max: 100 });
    const trainSize = optNumber(cmd, v, 'train-size', { integer: true, min: 16, max: 1_000_000 });
    const epochs = optNumber(cmd, v, 'epochs', { integer: true, positive: true, max: 10_000 });
    const curveEpochs = optNumber(cmd, v, 'curve-epochs', { integer: true, positive: true, max: 10_000 });
    const points = optNumber(cmd, v, 'points', { integer: true, min: 3, max: 1001 });
    const methods = optString(v, 'methods')?.split(',').map((m) => m.trim()).filter((m) => m);
    const json = v.json === true;
    const resolution = optNumber(cmd, v, 'resolution', { integer: true, min: 8, max: 100_000 });
    const dataset = { name: optString(v, 'dataset') ?? d.dataset, ...(optString(v, 'data-dir') !== undefined ? { dataDir: optString(v, 'data-dir') } : {}), ...(resolution !== undefined ? { resolution } : {}) };
    const opts = { out, dataset, seeds, trainSize, epochs, curveEpochs, points, methods, backend: optString(v, 'backend') };
    await checkDenseOptions(opts); // a bad flag is one line, before the machine line
    const machine = machineInfo();
    if (!json) io.out(JSON.stringify(machine));
    const r = await measureDense(opts, json ? () => {} : io.err);
    if (json) {
      io.out(JSON.stringify({ machine, ...r }));
      return 0;
    }
    const rc = r.recipe;
    const sizes = rc.trainSize === null ? 'all train' : `${rc.trainSize} train`;
    io.out(`${rc.dataset.name}${rc.dataset.resolution ? ` at --resolution ${rc.dataset.resolution}` : ''} (${r.taskNames.join(', ')}) with segnet-mtl: ${r.seeds.length} seed(s), ${sizes}${rc.valSize !== null ? ` / ${rc.valSize} val / ${rc.testSize} test` : ''} images, ${rc.epochs} epochs per model, ${rc.curveEpochs} curve epochs, ${rc.points} points per curve; ${r.seconds.toFixed(0)} s in all`);
    io.out(`mean over seeds (test split; Δm% and MR of these means, against the mean single-task numbers):`);
    for (const l of denseTable(r.taskNames, r.rows, r.baseline)) io.out(`  ${l}`);
    io.out('');
    for (const l of denseDeltaTable(r.rows)) io.out(l);
    io.out('');
    for (const l of denseEndpointLines(r.perSeed)) io.out(l);
    return 0;
  },
};
