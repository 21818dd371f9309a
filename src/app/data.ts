import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { npyDumpFiles, splitNames, type SplitName } from '../data/index.js';
import { makeDir, writeFileAtomic } from '../util/fs.js';
import { loadRunDataset, openRun, silent, type Log } from './run.js';

export interface DataDumpRequest {
  run: string;
  /** the directory the files go to (created if missing; files of the same names are replaced) */
  out: string;
  /** default: all three */
  splits?: readonly SplitName[];
}

export interface DataDumpResult {
  /** the files written, in order */
  files: string[];
  /** rows per split written */
  rows: Partial<Record<SplitName, number>>;
}

/** A --split list ('test', 'train,val'): names of splits, each once; `what` starts a refusal. */
export function parseSplits(text: string, what = '--split'): SplitName[] {
  const names = text.split(',').map((s) => s.trim());
  const out: SplitName[] = [];
  for (const n of names) {
    const s = splitNames.find((x) => x === n);
    if (!s) throw new ExtraInputError(`${what} must be train, val or test (or a comma list of them), got '${n}'`);
    if (out.includes(s)) throw new ExtraInputError(`${what} names ${s} twice`);
    out.push(s);
  }
  return out;
}

/**
 * The data set a run was trained on, rebuilt from its recipe (and refused if its fingerprint changed), written as
 * NumPy files in the layout `--data DIR` reads (src/data/npy-dump.ts): for PyTorch twins of a model, or to train
 * another run on exactly these rows.
 */
export async function dumpRunData(req: DataDumpRequest, log: Log = silent): Promise<DataDumpResult> {
  const run = await openRun(req.run, 'dumping its data needs a run');
  const splits = req.splits ?? splitNames;
  const ds = await loadRunDataset(run.info);
  await makeDir(req.out);
  const files: string[] = [];
  for (const f of npyDumpFiles(ds, splits)) {
    const file = path.join(req.out, f.name);
    await writeFileAtomic(file, f.bytes);
    files.push(file);
  }
  const rows: DataDumpResult['rows'] = {};
  for (const s of splits) rows[s] = ds[s].n;
  log(`${ds.name}: ${splits.map((s) => `${s} ${ds[s].n} rows`).join(', ')} written to ${req.out}`);
  return { files, rows };
}
