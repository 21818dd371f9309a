import { ExtraInputError } from '../../errors.js';
import { machineInfo } from '../../bench/machine.js';
import { measureTuning, tuneTable } from '../../bench/tune.js';
import { parsePreference } from '../../objectives/index.js';
import { optNumber, optString, reqString } from '../args.js';
import type { BenchmarkEntry } from './entry.js';

export const tuneBench: BenchmarkEntry = {
  summary: 'query --tune at 5 preferences: the curve point, tuned, and from scratch with the same steps (reports/tune.md)',
  help: `extra bench tune --run DIR [--steps 100] [--tune-lr 1e-4] [--method chebyshev|ls]
   [--prefs 0.9,0.1;0.7,0.3;0.5,0.5;0.3,0.7;0.1,0.9] [--backend NAME]

On a run with a fitted and evaluated curve: at each preference, the scalarization of the test losses at the
curve's point C(t*), after --steps more steps at that preference from C(t*) ('extra query --tune'), and after
the same steps from the run's seeded start (an endpoint trained from scratch with the same extra compute).
Lower is better; the tuned and scratch models are kept in DIR/tuned/.`,
  flags: { values: ['run', 'steps', 'tune-lr', 'method', 'prefs', 'backend'] },
  run: async (v, io) => {
    const cmd = 'bench tune';
    const run = reqString(cmd, v, 'run');
    const steps = optNumber(cmd, v, 'steps', { integer: true, positive: true, max: 1_000_000 }) ?? 100;
    const lr = optNumber(cmd, v, 'tune-lr', { positive: true, max: 10 });
    const m = optString(v, 'method') ?? 'chebyshev';
    if (m !== 'chebyshev' && m !== 'ls') throw new ExtraInputError(`${cmd}: --method must be chebyshev or ls, got '${m}'`);
    const prefs = (optString(v, 'prefs') ?? '0.9,0.1;0.7,0.3;0.5,0.5;0.3,0.7;0.1,0.9').split(';').map((p) => parsePreference(p, p.split(',').length));
    io.out(JSON.stringify(machineInfo()));
    const rows = await measureTuning({ run, prefs, steps, lr, method: m, backend: optString(v, 'backend') }, (row) => io.out(JSON.stringify(row)));
    io.out(tuneTable(rows, steps, m));
    return 0;
  },
};
