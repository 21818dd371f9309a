import { ExtraInputError } from '../errors.js';
import { computePlane, planeDefaults, planePath } from '../app/plane.js';
import { flagTable, optNumber, optString, parseFlags, reqString } from './args.js';
import { assertRunWritable } from '../run/index.js';
import { stdio, type Io } from './context.js';

export const planeHelp = `extra plane --run DIR [--grid ${planeDefaults.grid}] [--margin ${planeDefaults.margin}] [--split train|val|test] [--points A,B,C] [--curve NAME] [--threads N] [--resume] [--json]

The loss landscape on the plane through three weight vectors (orthonormal basis by Gram–Schmidt on B − A and
C − A): every task's loss and error at grid × grid models of the plane, the curve projected onto it and how far
it leaves it (residual norm along t), and the mode-connectivity barrier of the straight line vs the curve per
task (max over t of L(t) − ((1−t)·L(0) + t·L(1)), on train and test). Writes DIR/plane.json; 'extra report'
and 'extra serve' draw it.
  --points A,B,C   t:T (the curve at T), cp:I or cp:mid (a control point), or an endpoint id
                   (default ${planeDefaults.points.join(',')}: the curve's ends and its middle control point)
  --split S        the split the grid is evaluated on (default test)
  --threads N      worker threads (default: all cores)   --resume  keep the nodes an interrupted run finished`;

export async function planeCommand(argv: string[], io: Io = stdio): Promise<number> {
  const { values: v, positionals } = parseFlags('plane', argv, flagTable({ values: ['run', 'grid', 'margin', 'split', 'points', 'curve', 'threads', 'backend'], switches: ['resume', 'json', 'quiet'] }));
  if (v.help) {
    io.out(planeHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`plane: unexpected argument '${positionals[0]}'`);
  const split = optString(v, 'split') ?? 'test';
  if (split !== 'train' && split !== 'val' && split !== 'test') throw new ExtraInputError(`plane: --split must be train, val or test, got '${split}'`);
  const run = reqString('plane', v, 'run');
  await assertRunWritable(run);
  const p = await computePlane({
    run,
    curve: optString(v, 'curve'),
    grid: optNumber('plane', v, 'grid', { integer: true, min: 2, max: 201 }),
    margin: optNumber('plane', v, 'margin', { min: 0, max: 10 }),
    split,
    points: optString(v, 'points')?.split(','),
    threads: optNumber('plane', v, 'threads', { integer: true, positive: true, max: 64 }),
    resume: v.resume === true,
    backend: optString(v, 'backend'),
    quiet: v.quiet === true,
  });
  if (v.json) {
    io.out(JSON.stringify({ file: planePath(run, p.curve), barrier: p.barrier.byTask, maxResidual: Math.max(...p.curvePath.map((q) => q.residual)), seconds: p.seconds }));
    return 0;
  }
  io.out(`plane through ${p.points.map((q) => q.label).join(', ')}: ${p.grid.n}×${p.grid.n} models on ${p.split} in ${p.seconds.toFixed(1)} s → ${planePath(run, p.curve)}`);
  io.out(`the curve leaves the plane by at most ${Math.max(...p.curvePath.map((q) => q.residual)).toFixed(4)} (weight-space distance)`);
  io.out('barrier (max over t of L(t) − linear interpolation of the end losses):');
  for (const [task, b] of Object.entries(p.barrier.byTask)) {
    io.out(`  ${task}: line train ${b.line.train.toFixed(4)} test ${b.line.test.toFixed(4)} | curve train ${b.curve.train.toFixed(4)} test ${b.curve.test.toFixed(4)}`);
  }
  return 0;
}
