import { ExtraInputError } from '../errors.js';
import { evaluateRunSurface, fitRunSurface } from '../app/index.js';
import { flagTable, optNumber, optString, parseFlags, reqString } from './args.js';
import { stdio, type Io } from './context.js';

export const surfaceHelp = `extra surface fit  --run DIR [--degree 2] [--alpha 0.5] [--samples 3] [--epochs N]
extra surface eval --run DIR [--resolution 10]

Beyond the paper: preferences over three groups (or three tasks). A triangular Bézier patch in weight
space has three endpoint models at its corners (one favouring each objective; train them first, e.g.
--pref 0.8,0.1,0.1 --pref 0.1,0.8,0.1 --pref 0.1,0.1,0.8); its other control points are trained with the
order-aware term generalised to the simplex. 'eval' sweeps a simplex grid and writes
DIR/surface/profile.json (3-D hypervolume); 'extra query --surface --pref a,b,c' answers from it.`;

export async function surfaceCommand(argv: string[], io: Io = stdio): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'fit' && sub !== 'eval') {
    if (sub === undefined || sub === '--help' || sub === '-h') {
      io.out(surfaceHelp);
      return 0;
    }
    throw new ExtraInputError(`surface: unknown sub-command '${sub}' (known: fit, eval)`);
  }
  const { values: v, positionals } = parseFlags(`surface ${sub}`, rest, flagTable({ values: ['run', 'degree', 'alpha', 'samples', 'epochs', 'batch-size', 'lr', 'seed', 'resolution', 'backend'], switches: ['resume', 'json', 'quiet'] }));
  if (v.help) {
    io.out(surfaceHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`surface: unexpected argument '${positionals[0]}'`);
  const run = reqString(`surface ${sub}`, v, 'run');
  const backend = optString(v, 'backend');
  const quiet = v.quiet === true;
  if (sub === 'fit') {
    const r = await fitRunSurface(
      {
        run,
        degree: optNumber('surface fit', v, 'degree', { integer: true, min: 1, max: 6 }),
        alpha: optNumber('surface fit', v, 'alpha', { min: 0 }),
        samples: optNumber('surface fit', v, 'samples', { integer: true, min: 1 }),
        epochs: optNumber('surface fit', v, 'epochs', { integer: true, positive: true }),
        batchSize: optNumber('surface fit', v, 'batch-size', { integer: true, positive: true }),
        lr: optNumber('surface fit', v, 'lr', { positive: true }),
        seed: optNumber('surface fit', v, 'seed', { integer: true, min: 0 }),
        backend,
        resume: v.resume === true,
        quiet,
      },
      io.err,
    );
    if (v.json) io.out(JSON.stringify(r));
    else io.out(`surface (degree ${r.degree}) fitted with corners ${r.corners.join(', ')} → ${r.dir}`);
    return 0;
  }
  const prof = await evaluateRunSurface({ run, resolution: optNumber('surface eval', v, 'resolution', { integer: true, min: 1, max: 40 }), backend, quiet });
  const h = prof.hypervolume;
  if (v.json) io.out(JSON.stringify({ hypervolume: h, spearmanValLoss: prof.spearmanValLoss, points: prof.points.length }));
  else io.out(`3-D test-loss HV (ref ${h.testLoss.ref.map((r) => +r.toFixed(4)).join(",")}): surface ${h.testLoss.surface.toFixed(4)} vs corners ${h.testLoss.corners.toFixed(4)}; ${h.testError ? `test-error HV (ref 1,1,1): surface ${h.testError.surface.toFixed(4)} vs corners ${h.testError.corners.toFixed(4)}` : 'no test-error HV (a regression objective)'}`);
  return 0;
}
