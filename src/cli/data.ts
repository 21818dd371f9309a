import { ExtraInputError } from '../errors.js';
import { dumpRunData, parseSplits } from '../app/index.js';
import { assertOutputDir, removeCreatedOnFailure } from '../util/fs.js';
import { flagTable, optString, parseFlags, reqString } from './args.js';
import { stdio, type Io } from './context.js';

export const dataHelp = `extra data dump --run DIR --out DIR [--split train,val,test] [--json]

dump: the data set the run was trained on, rebuilt from its recipe (refused if its source files changed), as
NumPy files in the layout 'extra train --data DIR' reads: x_<split>.npy (N × input shape, float32 in [0, 1]),
y_<split>.npy (N × tasks, int32 class indices) when every task is a per-sample classification, otherwise
y_<split>_<task>.npy per task (N × its label shape), and tasks.json (the task names, with their kinds where the
data set gives them). Files of the same names in --out are replaced.
  --split S           train, val, test or a comma list of them (default all three)`;

export async function dataCommand(argv: string[], io: Io = stdio): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(dataHelp);
    return 0;
  }
  if (sub !== 'dump') throw new ExtraInputError(`data: unknown sub-command '${sub}' (known: dump)`);
  const { values: v, positionals } = parseFlags('data dump', rest, flagTable({ values: ['run', 'out', 'split'], switches: ['json'] }));
  if (v.help) {
    io.out(dataHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`data dump: unexpected argument '${positionals[0]}'`);
  const run = reqString('data dump', v, 'run');
  const out = reqString('data dump', v, 'out');
  const split = optString(v, 'split');
  const splits = split === undefined ? undefined : parseSplits(split, 'data dump: --split');
  await assertOutputDir(out, 'data dump: --out');
  const r = await removeCreatedOnFailure(out, () => dumpRunData({ run, out, splits }));
  if (v.json) io.out(JSON.stringify(r));
  else io.out(`${Object.entries(r.rows).map(([s, n]) => `${s} ${n} rows`).join(', ')} written: ${r.files.join(', ')}`);
  return 0;
}
