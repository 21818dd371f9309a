import { ExtraInputError } from '../../errors.js';
import { curveVariants, curvesTable, measureCurveVariant, type CurveVariantRow } from '../../bench/curves.js';
import { machineInfo } from '../../bench/machine.js';
import { optNumber, optString, reqString } from '../args.js';
import type { BenchmarkEntry } from './entry.js';

const variants = Object.keys(curveVariants);

export const curvesBench: BenchmarkEntry = {
  summary: 'NURBS vs Bézier vs PolyChain vs line (with and without the order term) on one run (reports/curves.md)',
  help: `extra bench curves --run DIR [--epochs 5] [--points 31] [--kinds nurbs,nurbs-a0,bezier,bezier-a0,polychain,line]
   [--lr 1e-3] [--backend NAME]

Curve comparison on one run: each variant between the same two endpoints with the same curve epochs, written
to RUN/curve-VARIANT; prints HV, Spearman and time per epoch.
  --kinds LIST      variants, of ${variants.join(', ')}`,
  flags: { values: ['run', 'epochs', 'points', 'kinds', 'lr', 'backend'] },
  run: async (v, io) => {
    const cmd = 'bench curves';
    const run = reqString(cmd, v, 'run');
    const epochs = optNumber(cmd, v, 'epochs', { integer: true, positive: true }) ?? 5;
    const points = optNumber(cmd, v, 'points', { integer: true, min: 2 }) ?? 31;
    const lr = optNumber(cmd, v, 'lr', { positive: true }) ?? 1e-3;
    const backend = optString(v, 'backend');
    const kinds = (optString(v, 'kinds') ?? 'nurbs,nurbs-a0,bezier,bezier-a0,polychain,line').split(',');
    const unknown = kinds.filter((k) => !Object.hasOwn(curveVariants, k));
    if (unknown.length) throw new ExtraInputError(`${cmd}: unknown --kinds ${unknown.join(', ')} (known: ${variants.join(', ')})`);
    io.out(JSON.stringify(machineInfo()));
    const rows: CurveVariantRow[] = [];
    for (const variant of kinds) {
      rows.push(await measureCurveVariant({ run, variant, epochs, points, lr, backend }));
      io.out(JSON.stringify(rows[rows.length - 1]));
    }
    io.out(curvesTable(rows, epochs));
    return 0;
  },
};
