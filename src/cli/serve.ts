import { ExtraInputError } from '../errors.js';
import { createExplorerServer, listen, MAX_CACHED_EXPORTS } from '../server/index.js';
import { flagTable, optNumber, optString, parseFlags, reqString } from './args.js';
import { stdio, type Io } from './context.js';

export const serveHelp = `extra serve --run DIR [--port 8765] [--host 127.0.0.1] [--curve NAME]

The explorer page: the front with a t slider and a preference input, predicted per-task numbers,
"evaluate here" on the test set, and checkpoint export (tfjs zip or safetensors). Bound to loopback
by default (another --host prints a warning); only loopback Host names and the bound host are
answered, cross-origin requests are refused; only the run's own files are served; exports are written
to DIR/exports/ (the explorer keeps its ${MAX_CACHED_EXPORTS} most recent).`;

export async function serveCommand(argv: string[], io: Io = stdio): Promise<number> {
  const { values: v, positionals } = parseFlags('serve', argv, flagTable({ values: ['run', 'port', 'host', 'curve', 'backend'] }));
  if (v.help) {
    io.out(serveHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`serve: unexpected argument '${positionals[0]}'`);
  const port = optNumber('serve', v, 'port', { integer: true, min: 0, max: 65535 }) ?? 8765;
  const host = optString(v, 'host') ?? '127.0.0.1';
  const server = await createExplorerServer({ run: reqString('serve', v, 'run'), curve: optString(v, 'curve'), backend: optString(v, 'backend'), host });
  const actual = await listen(server, port, host);
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
    io.err(`WARNING: --host ${host} is not loopback: anyone who can reach this machine on port ${actual} can read this run's files and export its models`);
  }
  io.out(`extra explorer on http://${host.includes(':') ? `[${host}]` : host}:${actual}/ (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
