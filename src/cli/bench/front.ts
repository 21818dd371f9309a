import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { writeFileAtomicSync } from '../../util/fs.js';
import path from 'node:path';
import { z } from 'zod';
import { ExtraInputError } from '../../errors.js';
import { curveMethods, TIME_SUFFIX, timeReference, frontCell, frontMethods, defaultFrontMethods, curveWeightTable, frontPlotFigure, localFrontRunner, pairedComparison, summarizeRows, type FrontOptions, type FrontRow, type FrontRunner } from '../../bench/front.js';
import { machineInfo } from '../../bench/machine.js';
import { queuedFrontRunner, frontRowSchema } from '../../queue/front.js';
import { optNumber, optString } from '../args.js';
import { withJobClient } from '../queue.js';
import type { BenchmarkEntry } from './entry.js';
import { figurePng } from './figure.js';

const savedRowsSchema = z.object({ key: z.string(), rows: z.array(frontRowSchema) });

export const frontBench: BenchmarkEntry = {
  summary: 'equal-budget Pareto fronts: an LS sweep vs curves between its extreme models (locally or on a queue)',
  help: `extra bench front [--dataset multi-mnist,...] [--seeds 3] [--epochs N] [--quick] [--out DIR]
   [--train-size N --val-size N --test-size N] [--workers N] [--endpoint-method ls|fairgrad|cagrad|...]
   [--methods ${frontMethods.join(',')}] [--time-of METHOD] [--against METHOD] [--reuse] [--png DIR] [--queue redis://HOST:PORT [--store DIR]] [--json]

Equal-budget Pareto fronts: an LS sweep vs curves (line, Bézier, PolyChain, NURBS, each with and without the
order term) between the sweep's extreme models, per data set and seed; markdown tables on stdout.
  --quick           1 seed of multi-mnist on 1024 images (256 val/test; sizes given with it are kept), 2 epochs
                    (a minutes-long smoke run)
  --methods X@time  PHN or PaMaL at equal wall time: stopped when it has trained as many seconds as the reference
                    curve method (--time-of, default the first curve method in --methods) took in the same cell,
                    and never past its equal-passes budget (a method faster than the reference keeps that row)
  --against METHOD  the method of the paired table (default nurbs when it runs, else the first curve method)
  --reuse           keep the finished seeds of an interrupted run made with the same options
  --queue URL       one job per data set × seed × method on a BullMQ queue (run 'extra worker's); the
                    rows equal a local run's for the same seeds
  --store DIR       the run store the workers share (default: the current directory; --out inside it)
  --json            the rows as one JSON object instead of tables`,
  flags: { values: ['dataset', 'seeds', 'epochs', 'sweep', 'points', 'methods', 'out', 'backend', 'png', 'train-size', 'val-size', 'test-size', 'workers', 'endpoint-method', 'queue', 'store', 'time-of', 'against'], switches: ['quick', 'reuse', 'json'] },
  run: async (v, io) => {
    const cmd = 'bench front';
    const quick = v.quick === true;
    const datasets = quick ? ['multi-mnist'] : (optString(v, 'dataset') ?? 'multi-mnist').split(',');
    const seeds = quick ? 1 : (optNumber(cmd, v, 'seeds', { integer: true, positive: true, max: 100 }) ?? 3);
    const epochs = optNumber(cmd, v, 'epochs', { integer: true, positive: true }) ?? (quick ? 2 : 4);
    const sweep = optNumber(cmd, v, 'sweep', { integer: true, min: 2, max: 64 }) ?? 5;
    const points = quick ? 7 : (optNumber(cmd, v, 'points', { integer: true, min: 2 }) ?? 21);
    const methods = (optString(v, 'methods') ?? defaultFrontMethods.join(',')).split(',');
    const endpointMethod = optString(v, 'endpoint-method') ?? 'ls';
    const unknown = methods.filter((m) => !frontMethods.includes(m) && m !== `${endpointMethod}-sweep`);
    if (unknown.length) throw new ExtraInputError(`bench front: unknown --methods ${unknown.join(', ')} (known: ${frontMethods.join(', ')})`);
    const timeOf = optString(v, 'time-of');
    if (timeOf !== undefined && !(timeOf in curveMethods)) throw new ExtraInputError(`bench front: --time-of takes a curve method (${Object.keys(curveMethods).join(', ')}), got '${timeOf}'`);
    if (methods.some((m) => m.endsWith(TIME_SUFFIX))) timeReference({ methods, timeOf });
    const against = optString(v, 'against') ?? (methods.includes('nurbs') ? 'nurbs' : methods.find((m) => m in curveMethods));
    if (against !== undefined && !methods.includes(against) && optString(v, 'against') !== undefined) throw new ExtraInputError(`bench front: --against ${against} is not in --methods`);
    const out = optString(v, 'out') ?? 'runs/bench-front';
    // --quick's sizes are defaults: sizes given with it are kept (a smaller smoke run), not dropped
    const given = { trainSize: optNumber(cmd, v, 'train-size', { integer: true, positive: true }), valSize: optNumber(cmd, v, 'val-size', { integer: true, positive: true }), testSize: optNumber(cmd, v, 'test-size', { integer: true, positive: true }) };
    const sizes = quick ? { trainSize: given.trainSize ?? 1024, valSize: given.valSize ?? 256, testSize: given.testSize ?? 256 } : given;
    const queue = optString(v, 'queue');
    if (optString(v, 'store') !== undefined && queue === undefined) throw new ExtraInputError('bench front: --store is only used with --queue');
    const backend = optString(v, 'backend');
    const workers = optNumber(cmd, v, 'workers', { integer: true, positive: true }) ?? 2;
    const machine = { ...machineInfo(), backend: backend ?? process.env.EXTRA_BACKEND ?? 'auto', ...(queue ? { queue } : {}) };
    // with --json the machine goes into the one JSON object printed at the end
    if (!v.json) io.out(JSON.stringify(machine));

    const grid = async (runner: FrontRunner): Promise<{ dataset: string; rows: FrontRow[][] }[]> => {
      const cells = datasets.flatMap((dataset) => Array.from({ length: seeds }, (_, seed) => ({ dataset, seed })));
      const runCell = async ({ dataset, seed }: { dataset: string; seed: number }): Promise<FrontRow[]> => {
        const opts: FrontOptions = { dataset, out, seed, sizes, epochs, sweep, points, lr: 3e-3, methods, backend, workers, endpointMethod, ...(timeOf ? { timeOf } : {}), quiet: true };
        // each finished seed is kept (atomically) beside the runs, so an interrupted benchmark re-run with --reuse
        // skips the seeds it already has — but only when they were made with the same options
        const saved = path.join(out, `${dataset}-${endpointMethod}-seed${seed}.rows.json`);
        const key = JSON.stringify(opts);
        if (v.reuse && existsSync(saved)) {
          // a saved file that does not parse or has another shape is recomputed, not trusted
          let prev: { key: string; rows: FrontRow[] } | null = null;
          try {
            const r = savedRowsSchema.safeParse(JSON.parse(readFileSync(saved, 'utf8')));
            prev = r.success ? (r.data as { key: string; rows: FrontRow[] }) : null;
          } catch {
            prev = null;
          }
          if (prev && prev.key === key) {
            io.err(`[bench front] ${dataset} seed ${seed}: reusing ${saved}`);
            return prev.rows;
          }
        }
        const rows = await frontCell(opts, runner);
        writeFileAtomicSync(saved, JSON.stringify({ key, rows }));
        return rows;
      };
      const all = runner.parallel ? await Promise.all(cells.map(runCell)) : await cells.reduce<Promise<FrontRow[][]>>(async (acc, c) => [...(await acc), await runCell(c)], Promise.resolve([]));
      return datasets.map((dataset) => ({ dataset, rows: all.filter((_, i) => cells[i].dataset === dataset) }));
    };
    const results = queue ? await withJobClient(queue, io, (c) => grid(queuedFrontRunner(c, optString(v, 'store') ?? '.'))) : await grid(localFrontRunner(io.err));

    if (v.json) {
      io.out(JSON.stringify({ machine, results }));
      return 0;
    }
    for (const { dataset, rows: all } of results) {
      io.out(`\n## ${dataset} — ${seeds} seed(s), LS sweep of ${sweep} × ${epochs} epochs; curves: 2 endpoints × ${epochs} epochs + equal-budget curve epochs${quick ? ' (quick mode)' : ''}${sizes.trainSize ? ` (train/val/test sizes ${sizes.trainSize}/${sizes.valSize ?? 'default'}/${sizes.testSize ?? 'default'})` : ''}; endpoints: ${endpointMethod}\n`);
      io.out(summarizeRows(all));
      if (against && all[0].some((r) => r.method === against) && all[0].length > 1) {
        io.out(`\nPaired per seed, ${against} minus each other method (better = higher HV, lower Chebyshev and angle):\n`);
        io.out(pairedComparison(all, against));
      }
      const weights = curveWeightTable(all);
      if (weights) io.out(`\nLearned NURBS weights:\n\n${weights}`);
      const png = optString(v, 'png');
      if (png) {
        // the Pareto plot of seed 0
        mkdirSync(png, { recursive: true });
        const r = await figurePng(frontPlotFigure(all[0], dataset), path.join(out, `front-${dataset}.html`), png);
        io.out(r.files.length ? `\nPareto plot: ${r.files.join(', ')}` : `\nno Pareto plot: ${r.skipped}`);
      }
    }
    return 0;
  },
};
