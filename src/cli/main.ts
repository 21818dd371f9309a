import * as tf from '@tensorflow/tfjs';
import { isExtraInputError, RemoteJobError } from '../errors.js';
import { packageVersion } from '../run/index.js';
import { stdio, type Io } from './context.js';
import { describeSystemError } from './system-errors.js';
import { trainCommand } from './train.js';
import { curveCommand } from './curve.js';
import { queryCommand, exportCommand } from './query.js';
import { demoCommand } from './demo.js';
import { reportCommand } from './report.js';
import { serveCommand } from './serve.js';
import { groupCommand } from './group.js';
import { surfaceCommand } from './surface.js';
import { benchCommand, benchmarks } from './bench/index.js';
import { workerCommand } from './worker.js';
import { planeCommand } from './plane.js';
import { importCommand } from './import.js';
import { dataCommand } from './data.js';

type Command = (argv: string[], io: Io) => Promise<number>;

const commands: Record<string, { run: Command; summary: string }> = {
  demo: { run: demoCommand, summary: 'the whole pipeline on the embedded Multi-MNIST (--dense: per-pixel segmentation, depth, normals)' },
  train: { run: trainCommand, summary: 'train endpoint models with scalarized or MTL objectives' },
  curve: { run: curveCommand, summary: "'curve fit' a NURBS/Bézier/PolyChain/line between endpoints; 'curve eval' its profile; 'curve bn' BatchNorm statistics" },
  query: { run: queryCommand, summary: 'preference vector → point t on the curve and its predicted numbers' },
  import: { run: importCommand, summary: 'make endpoints of a run from models trained elsewhere (tfjs directory or PyTorch safetensors)' },
  export: { run: exportCommand, summary: 'write the model at t (or a preference) as tfjs or safetensors' },
  data: { run: dataCommand, summary: "'data dump': a run's data set as NumPy files (the --data DIR layout)" },
  group: { run: groupCommand, summary: 'many tasks: group them by gradient affinity (spectral clustering)' },
  surface: { run: surfaceCommand, summary: "'surface fit/eval': a triangular Bézier patch for preferences over three groups" },
  serve: { run: serveCommand, summary: 'explorer page: slider, preference, evaluate, export (loopback by default)' },
  report: { run: reportCommand, summary: 'standalone HTML report of the front, the curve and training (PNG via Chromium)' },
  plane: { run: planeCommand, summary: 'loss landscape on a plane through the curve; line vs curve barrier per task' },
  bench: { run: benchCommand, summary: `'bench NAME': the benchmarks (${Object.keys(benchmarks).join(', ')})` },
  worker: { run: workerCommand, summary: 'run queued jobs from a BullMQ queue on Redis (extra train/bench front --queue)' },
};

export function usage(): string {
  const rows = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(8)} ${c.summary}`);
  return `extra ${packageVersion()} — explore multi-task trade-offs along curves in weight space

usage: extra <command> [options]      (extra <command> --help for its options)

${rows.join('\n')}

Exit codes: 0 success, 2 bad input (one line on stderr naming the problem), 1 internal error.`;
}

/**
 * 'extra CMD: message', without repeating the command when the message already starts with it (flag
 * errors say 'curve fit: --epochs …', the library's errors say nothing about the command).
 */
export function oneLineError(cmd: string, message: string): string {
  const first = message.split('\n')[0];
  return new RegExp(`^${cmd}( [a-z-]+)?: `).test(first) ? `extra ${first}` : `extra ${cmd}: ${first}`;
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  // no tfjs console adverts or debug warnings: stderr is ours (progress and one-line errors)
  tf.env().set('PROD', true);
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.out(usage());
    return 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    io.out(packageVersion());
    return 0;
  }
  const c = commands[cmd];
  if (!c) {
    io.err(`extra: unknown command '${cmd}' (known: ${Object.keys(commands).join(', ')})`);
    return 2;
  }
  try {
    return await c.run(rest, io);
  } catch (e) {
    const said = isExtraInputError(e) ? e.message : describeSystemError(e);
    if (said) {
      io.err(oneLineError(cmd, said));
      // a refusal that lists several problems (every node of an ONNX file extra cannot read) gives them all with --json
      const problems = isExtraInputError(e) && 'problems' in e && Array.isArray(e.problems) ? (e.problems as unknown[]).map(String) : null;
      if (problems && rest.includes('--json')) io.out(JSON.stringify({ error: said, problems }));
      return 2;
    }
    if (e instanceof RemoteJobError) {
      io.err(oneLineError(cmd, e.message));
      return 1;
    }
    throw e;
  }
}
