import { writeFileSync, mkdirSync, readFileSync, existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { frontCell, frontMethods, defaultFrontMethods, curveWeightTable, frontPlotFigure, localFrontRunner, pairedComparison, summarizeRows, type FrontOptions, type FrontRow, type FrontRunner } from '../bench/front.js';
import { machineInfo } from '../bench/machine.js';
import { queuedFrontRunner, frontRowSchema } from '../queue/front.js';
import { z } from 'zod';

const savedRowsSchema = z.object({ key: z.string(), rows: z.array(frontRowSchema) });
import { renderFigurePngs, plotlyFile } from '../report/index.js';
import { flagTable, optNumber, optString, parseFlags } from './args.js';
import { stdio, type Io } from './context.js';
import { withJobClient } from './queue.js';

export const benchHelp = `extra bench front [--dataset multi-mnist,...] [--seeds 3] [--epochs N] [--quick] [--out DIR]
   [--train-size N --val-size N --test-size N] [--workers N] [--endpoint-method ls|fairgrad|cagrad|...]
   [--methods ${frontMethods.join(',')}] [--reuse] [--png DIR] [--queue redis://HOST:PORT [--store DIR]] [--json]

Equal-budget Pareto fronts: an LS sweep vs curves (line, Bézier, PolyChain, NURBS, each with and without the
order term) between the sweep's extreme models, per data set and seed; markdown tables on stdout.
  --quick           1 seed of multi-mnist on 1024 images, 2 epochs (a minutes-long smoke run)
  --reuse           keep the finished seeds of an interrupted run made with the same options
  --queue URL       one job per data set × seed × method on a BullMQ queue (run 'extra worker's); the
                    rows equal a local run's for the same seeds
  --store DIR       the run store the workers share (default: the current directory; --out inside it)
  --json            the rows as one JSON object instead of tables`;

export async function benchCommand(argv: string[], io: Io = stdio): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(benchHelp);
    return 0;
  }
  if (sub !== 'front') throw new ExtraInputError(`bench: unknown benchmark '${sub}' (known: front; the others are 'npm run bench -- NAME')`);
  const { values: v, positionals } = parseFlags('bench front', rest, flagTable({ values: ['dataset', 'seeds', 'epochs', 'sweep', 'points', 'methods', 'out', 'backend', 'png', 'train-size', 'val-size', 'test-size', 'workers', 'endpoint-method', 'queue', 'store'], switches: ['quick', 'reuse', 'json'] }));
  if (v.help) {
    io.out(benchHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`bench front: unexpected argument '${positionals[0]}'`);
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
  const out = optString(v, 'out') ?? 'runs/bench-front';
  const sizes = quick
    ? { trainSize: 1024, valSize: 256, testSize: 256 }
    : { trainSize: optNumber(cmd, v, 'train-size', { integer: true, positive: true }), valSize: optNumber(cmd, v, 'val-size', { integer: true, positive: true }), testSize: optNumber(cmd, v, 'test-size', { integer: true, positive: true }) };
  const queue = optString(v, 'queue');
  if (optString(v, 'store') !== undefined && queue === undefined) throw new ExtraInputError('bench front: --store is only used with --queue');
  const backend = optString(v, 'backend');
  const workers = optNumber(cmd, v, 'workers', { integer: true, positive: true }) ?? 2;
  io.out(JSON.stringify({ ...machineInfo(), backend: backend ?? process.env.EXTRA_BACKEND ?? 'auto', ...(queue ? { queue } : {}) }));

  const grid = async (runner: FrontRunner): Promise<{ dataset: string; rows: FrontRow[][] }[]> => {
    const cells = datasets.flatMap((dataset) => Array.from({ length: seeds }, (_, seed) => ({ dataset, seed })));
    const runCell = async ({ dataset, seed }: { dataset: string; seed: number }): Promise<FrontRow[]> => {
      const opts: FrontOptions = { dataset, out, seed, sizes, epochs, sweep, points, lr: 3e-3, methods, backend, workers, endpointMethod, quiet: true };
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
      mkdirSync(out, { recursive: true });
      writeFileSync(saved + '.tmp', JSON.stringify({ key, rows }));
      renameSync(saved + '.tmp', saved);
      return rows;
    };
    const all = runner.parallel ? await Promise.all(cells.map(runCell)) : await cells.reduce<Promise<FrontRow[][]>>(async (acc, c) => [...(await acc), await runCell(c)], Promise.resolve([]));
    return datasets.map((dataset) => ({ dataset, rows: all.filter((_, i) => cells[i].dataset === dataset) }));
  };
  const results = queue ? await withJobClient(queue, io, (c) => grid(queuedFrontRunner(c, optString(v, 'store') ?? '.'))) : await grid(localFrontRunner(io.err));

  if (v.json) {
    io.out(JSON.stringify({ results }));
    return 0;
  }
  for (const { dataset, rows: all } of results) {
    io.out(`\n## ${dataset} — ${seeds} seed(s), LS sweep of ${sweep} × ${epochs} epochs; curves: 2 endpoints × ${epochs} epochs + equal-budget curve epochs${quick ? ' (quick mode: 1024 training images)' : ''}${sizes.trainSize ? ` (train/val/test sizes ${sizes.trainSize}/${sizes.valSize ?? 'default'}/${sizes.testSize ?? 'default'})` : ''}; endpoints: ${endpointMethod}\n`);
    io.out(summarizeRows(all));
    if (all[0].some((r) => r.method === 'nurbs') && all[0].length > 1) {
      io.out(`\nPaired per seed, NURBS + order term minus each other method (better = higher HV, lower Chebyshev and angle):\n`);
      io.out(pairedComparison(all, 'nurbs'));
    }
    const weights = curveWeightTable(all);
    if (weights) io.out(`\nLearned NURBS weights:\n\n${weights}`);
    const png = optString(v, 'png');
    if (png) {
      // the Pareto plot of seed 0, drawn by Chromium from a small page (plotly.js from plotly.js-dist)
      mkdirSync(png, { recursive: true });
      const fig = frontPlotFigure(all[0], dataset);
      const html = path.join(out, `front-${dataset}.html`);
      writeFileSync(html, `<!doctype html><html><head><script src="file://${plotlyFile()}"></script></head><body><div id="fig-${fig.id}" style="width:900px;height:600px"></div><script>Plotly.newPlot('fig-${fig.id}', ${JSON.stringify(fig.data)}, ${JSON.stringify(fig.layout)}).then(() => { window.__extraDrawn = true; });</script></body></html>`);
      const r = await renderFigurePngs(html, [fig.id], png);
      io.out(r.files.length ? `\nPareto plot: ${r.files.join(', ')}` : `\nno Pareto plot: ${r.skipped}`);
    }
  }
  return 0;
}
