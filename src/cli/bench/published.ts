import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ExtraInputError } from '../../errors.js';
import { machineInfo } from '../../bench/machine.js';
import { hasPublishedProfile, makePublishedRun, publishedDatasets, publishedFigure, publishedTables, summarizePublished, type PublishedRow } from '../../bench/published.js';
import { optNumber, optString } from '../args.js';
import type { BenchmarkEntry } from './entry.js';
import { figurePng } from './figure.js';

export const publishedBench: BenchmarkEntry = {
  summary: 'the published size: LS endpoints, a NURBS curve (and its Bézier twin) and the (0.5,0.5) query per data set and seed',
  help: `extra bench published [--dataset multi-fashion,multi-fashion-mnist] [--seeds 3] [--epochs 20]
   [--milestones 20,40,80,90] [--curves nurbs,bezier] [--points 21] [--out runs/published] [--reuse]
   [--train-size N --val-size N --test-size N] [--png DIR]
extra bench published --runs DIR,DIR,... [--curves nurbs,bezier]   (summarize finished runs; nothing is trained)

Per data set and seed: two LS endpoints (0.9,0.1) and (0.1,0.9) at the data set's default size, Adam 1e-3,
batch 256, MultiStepLR milestones; a curve of each kind with as many epochs; a profile and the (0.5,0.5) query.
Prints one row per seed and curve, curve minus endpoints, and NURBS minus Bézier paired per seed.
  --out DIR         run directories are OUT/DATASET-sSEED
  --reuse           keep every finished step (endpoints, curve, profile) of them
  --train-size N    smaller data than the published size (with --val-size, --test-size: a smoke test)
  --png DIR         one test-loss front figure per data set (Chromium)`,
  flags: { values: ['dataset', 'seeds', 'epochs', 'milestones', 'curves', 'points', 'out', 'runs', 'png', 'train-size', 'val-size', 'test-size'], switches: ['reuse'] },
  run: async (v, io) => {
    const cmd = 'bench published';
    const curves = (optString(v, 'curves') ?? 'nurbs').split(',');
    const epochs = optNumber(cmd, v, 'epochs', { integer: true, positive: true }) ?? 20;
    const milestones = (optString(v, 'milestones') ?? '20,40,80,90').split(',').map(Number);
    if (milestones.some((m) => !Number.isInteger(m) || m < 1)) throw new ExtraInputError(`${cmd}: --milestones must be positive integers, got '${optString(v, 'milestones')}'`);
    const sizes = {
      ...(v['train-size'] !== undefined ? { trainSize: optNumber(cmd, v, 'train-size', { integer: true, positive: true }) } : {}),
      ...(v['val-size'] !== undefined ? { valSize: optNumber(cmd, v, 'val-size', { integer: true, positive: true }) } : {}),
      ...(v['test-size'] !== undefined ? { testSize: optNumber(cmd, v, 'test-size', { integer: true, positive: true }) } : {}),
    };
    const base = {
      out: optString(v, 'out') ?? 'runs/published',
      reuse: v.reuse === true,
      epochs,
      milestones,
      curves,
      points: optNumber(cmd, v, 'points', { integer: true, min: 2 }) ?? 21,
      sizes,
    };
    const seeds = optNumber(cmd, v, 'seeds', { integer: true, positive: true, max: 100 }) ?? 3;
    io.out(JSON.stringify(machineInfo()));
    const given = optString(v, 'runs');
    const runs: string[] = [];
    if (given) runs.push(...given.split(','));
    else for (const dataset of (optString(v, 'dataset') ?? 'multi-fashion,multi-fashion-mnist').split(',')) for (let seed = 0; seed < seeds; seed++) runs.push(await makePublishedRun({ ...base, dataset, seed }, io.err));
    const rows: PublishedRow[] = [];
    for (const run of runs) for (const kind of curves) if (hasPublishedProfile(run, kind)) rows.push(await summarizePublished(run, kind));
    io.out(publishedTables(rows, curves));

    const png = optString(v, 'png');
    if (png) {
      mkdirSync(png, { recursive: true });
      for (const dataset of publishedDatasets(rows)) {
        const fig = publishedFigure(rows, dataset, epochs, curves);
        const html = path.join(png, `${fig.id}.html`);
        const r = await figurePng(fig, html, png);
        rmSync(html, { force: true });
        io.out(r.files.length ? `\nfigure: ${r.files.join(', ')}` : `\nno figure: ${r.skipped}`);
      }
    }
    return 0;
  },
};
