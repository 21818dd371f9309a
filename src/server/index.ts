import http from 'node:http';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { ExtraInputError, isExtraInputError } from '../errors.js';
import { gatherReportData, frontFigure, planeFigures, plotlyFile } from '../report/index.js';
import { evaluateAt, queryMethods, identityObjectives, objectiveMetrics } from '../curves/index.js';
import { byTaskName } from '../train/index.js';
import { openRun, exportTuned, tuneAt, type TuneResult, useBackend, loadRunDataset, openCurve, readProfile, readPlane, exportAt, query, predictionsAt, disagreementExamples, exampleImage, runLayout, type OpenedCurve } from '../app/index.js';
import { explorerHtml } from './page.js';
import { explainSystemError, SystemFileError } from '../util/system-errors.js';
import { DECIMAL } from '../util/number.js';

export const MAX_BODY_BYTES = 4096;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface ServeOptions {
  run: string;
  curve?: string;
  backend?: string;
  /** the host the server is bound to: also accepted in Host/Origin headers (besides loopback names) */
  host?: string;
}

/** The most optimizer steps one /api/tune request may ask for (a request should end in minutes, not hours). */
export const MAX_TUNE_STEPS = 5000;

/** Exports the explorer keeps under DIR/exports/ (the oldest are removed beyond this). */
export const MAX_CACHED_EXPORTS = 8;

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** t from a query string (decimal text) or a JSON body (a JSON number only, not "0.5"). */
function parseT(raw: unknown): number {
  const t = typeof raw === 'number' ? raw : typeof raw === 'string' && DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isFinite(t) || t < 0 || t > 1) throw new HttpError(400, `t must be a number in [0, 1], got ${JSON.stringify(raw ?? null)}`);
  return t;
}

/** A body larger than this is not even drained: the connection is closed after the 413. */
const MAX_DRAINED_BYTES = 64 << 20;

function tooLarge(req: http.IncomingMessage): HttpError {
  // read the rest of the body (and drop it) so that the client receives the 413 instead of a reset
  let drained = 0;
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > MAX_DRAINED_BYTES) req.destroy();
  });
  req.resume();
  return new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`);
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge(req);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge(req);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * An error's message as the explorer may answer it: paths inside the run relative to it, any other
 * absolute path reduced to its file name (the server never tells a page where things are on disk).
 */
export function publicMessage(message: string, runDirs: string[]): string {
  let m = message;
  for (const d of runDirs) m = m.split(d + path.sep).join('').split(d).join('the run');
  return m.replace(/(^|[\s'"(=])(\/[^\s'"():,;]+)/g, (_all, pre: string, p: string) => `${pre}${path.basename(p)}`);
}

/**
 * The explorer server: serves the page, plotly.js, the run's own files (never outside the run
 * directory), and a small JSON API (profile, query, evaluate, export). It writes only through
 * `extra export`'s path: DIR/exports/.
 */
export async function createExplorerServer(opts: ServeOptions): Promise<http.Server> {
  const runDir = path.resolve(opts.run);
  const curveName = opts.curve ?? 'curve';
  const run = await openRun(runDir, 'the explorer needs a fitted and evaluated curve');
  const profile = await readProfile(runDir, curveName);
  const data = await gatherReportData(runDir);
  // the page works on the trade-off's objectives: tasks, or groups with task grouping
  const objectives = profile.objectives ?? identityObjectives(profile.taskNames);
  const objPoints = profile.objectivePoints ?? profile.points;
  const orient = profile.orientation ?? { taskA: 0, taskB: 1 };
  const plane = await readPlane(runDir, curveName);
  const html = explorerHtml({
    title: `${run.info.model.arch} on ${run.info.dataset.name}`,
    taskNames: objectives.names,
    axes: [orient.taskA, orient.taskB],
    front: frontFigure({ ...data, curves: data.curves.filter((c) => c.name === curveName) }, 'loss'),
    points: objPoints.map((p) => ({ t: p.t, test: p.test })),
    plane: plane ? { figures: planeFigures(plane, undefined, 0.5), curvePath: plane.curvePath.map((q) => ({ t: q.t, a: q.a, b: q.b })) } : undefined,
  });
  const realRun = await fsp.realpath(runDir);
  // model, curve and data load on first use; one job at a time (tfjs state is process-global)
  let loaded: Promise<{ c: OpenedCurve; ds: Awaited<ReturnType<typeof loadRunDataset>> }> | null = null;
  const load = () =>
    (loaded ??= (async () => {
      await useBackend(opts.backend, true);
      return { c: await openCurve(run, curveName), ds: await loadRunDataset(run.info, true) };
    })());
  let disagree: number[] | undefined;
  // the models tuned in this session (POST /api/tune), by id, for /api/export?tuned=ID
  const tuned = new Map<string, TuneResult>();
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const next = queue.then(job, job);
    queue = next.catch(() => undefined);
    return next;
  };

  // DNS rebinding: a page on another name that resolves to this machine must not reach the API, so
  // only loopback names and the name the server was bound to are accepted as Host (and Origin)
  const allowed = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);
  if (opts.host) allowed.add(opts.host.toLowerCase()).add(`[${opts.host.toLowerCase()}]`);
  const hostName = (h: string): string => {
    const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(h.trim().toLowerCase());
    return m ? m[1] : '';
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (!allowed.has(hostName(req.headers.host ?? ''))) throw new HttpError(403, `host '${req.headers.host ?? ''}' is not served here (loopback names only)`);
    const origin = req.headers.origin;
    if (origin !== undefined) {
      // the explorer's own origin only: a loopback name (or the bound one) on this very port; a page
      // on another local port is another origin, and may not start trainings in the user's run
      let originHost = '';
      let originPort = '';
      try {
        const u = new URL(origin);
        originHost = hostName(u.host);
        originPort = u.port || (u.protocol === 'https:' ? '443' : '80');
      } catch {
        // 'null' or malformed: refused below
      }
      if (!allowed.has(originHost) || originPort !== String(req.socket.localPort)) throw new HttpError(403, `cross-origin requests are refused (origin ${origin})`);
    }
    const site = req.headers['sec-fetch-site'];
    if (req.method === 'POST' && site !== undefined && site !== 'same-origin' && site !== 'none') throw new HttpError(403, `cross-origin requests are refused (Sec-Fetch-Site: ${site})`);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = url.pathname;
    if (req.method !== 'GET' && req.method !== 'POST') throw new HttpError(405, `method ${req.method} not allowed`);
    if (req.method === 'POST' && route !== '/api/evaluate' && route !== '/api/tune') throw new HttpError(405, `POST is only accepted on /api/evaluate and /api/tune`);
    if (route === '/' || route === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self' 'unsafe-inline' data: blob:" });
      res.end(html);
      return;
    }
    if (route === '/plotly.js') {
      const body = await fsp.readFile(plotlyFile());
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'content-length': body.length });
      res.end(body);
      return;
    }
    if (route === '/api/profile') return sendJson(res, 200, profile);
    if (route === '/api/query') {
      const method = url.searchParams.get('method') ?? 'chebyshev';
      if (!(queryMethods as readonly string[]).includes(method)) throw new HttpError(400, `method must be one of ${queryMethods.join(', ')}`);
      const prefText = url.searchParams.get('pref');
      if (!prefText) throw new HttpError(400, 'pref is required, e.g. ?pref=0.3,0.7');
      // the same answer as `extra query --no-refine`: t from the objectives' validation losses, numbers read off the profile
      return sendJson(res, 200, await query({ run: runDir, pref: prefText, method, curve: curveName, refine: 'interpolate' }));
    }
    if (route === '/api/evaluate') {
      const body = await readJsonBody(req, 'use POST with a JSON body {"t": …}', 'body must be JSON like {"t": 0.5}');
      if (typeof body.t !== 'number') throw new HttpError(400, `t must be a JSON number in [0, 1], got ${JSON.stringify(body.t ?? null)}`);
      const t = parseT(body.t);
      const r = await serial(async () => {
        const { c, ds } = await load();
        const t0 = performance.now();
        const [test] = evaluateAt(run.model, c.curve, c.trainable, t, [ds.test], 1000, ds.train);
        return { t, test: byTaskName(objectives.names, objectiveMetrics(test, objectives)), tasks: byTaskName(profile.taskNames, test), seconds: (performance.now() - t0) / 1000 };
      });
      return sendJson(res, 200, r);
    }
    if (route === '/api/tune') {
      // `extra query --tune`: the point at the preference, trained a few steps at its own scalarization
      const body = await readJsonBody(req, 'use POST with a JSON body {"pref": [0.3, 0.7], "steps": 200}', 'body must be JSON like {"pref": [0.3, 0.7], "steps": 200}');
      const pref = body.pref;
      if (!isNumberArray(pref)) throw new HttpError(400, `pref must be a JSON array of numbers, got ${JSON.stringify(pref ?? null)}`);
      const method = body.method ?? 'chebyshev';
      if (typeof method !== 'string' || !(queryMethods as readonly string[]).includes(method)) throw new HttpError(400, `method must be one of ${queryMethods.join(', ')}`);
      const steps = body.steps;
      if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1 || steps > MAX_TUNE_STEPS) throw new HttpError(400, `steps must be a whole number from 1 to ${MAX_TUNE_STEPS}, got ${JSON.stringify(steps ?? null)}`);
      const r = await serial(() => tuneAt({ run: runDir, pref, method, curve: curveName, backend: opts.backend, steps, quiet: true }));
      const id = path.basename(r.dir);
      tuned.set(id, r);
      return sendJson(res, 200, { id, t: r.t, method: r.method, preference: r.preference, steps: r.steps, seconds: r.seconds, before: r.before, after: r.after });
    }
    if (route === '/api/predictions') {
      const t = parseT(url.searchParams.get('t'));
      const set = url.searchParams.get('set') ?? 'strip';
      if (set !== 'strip' && set !== 'disagree') throw new HttpError(400, 'set must be strip or disagree');
      const r = await serial(async () => {
        const { c, ds } = await load();
        // the strip: the first test examples; 'disagree': those whose labels change most along the curve
        const indices = set === 'strip' ? Array.from({ length: Math.min(8, ds.test.n) }, (_, i) => i) : (disagree ??= disagreementExamples(run.model, c, ds));
        return { t, set, taskNames: ds.taskNames, examples: predictionsAt(run.model, c, ds, t, indices).map((e) => ({ ...e, image: exampleImage(run.model, ds, e.index) })) };
      });
      return sendJson(res, 200, r);
    }
    if (route === '/api/export') {
      const format = url.searchParams.get('format');
      if (format !== 'tfjs' && format !== 'safetensors' && format !== 'onnx') throw new HttpError(400, 'format must be tfjs, safetensors or onnx');
      // a tuned model (one this server tuned, by its id) or the curve's point at t
      const tunedId = url.searchParams.get('tuned');
      const tunedRun = tunedId === null ? undefined : tuned.get(tunedId);
      if (tunedId !== null && !tunedRun) throw new HttpError(404, `no tuned model '${tunedId}' in this session (tune it first: POST /api/tune)`);
      const t = tunedRun ? tunedRun.t : parseT(url.searchParams.get('t'));
      const out = path.join(runLayout.exportsDir(runDir), tunedRun ? `tuned-${tunedId}-${format}` : `t-${t.toFixed(4)}-${format}`);
      const files = await serial(async () => {
        await useBackend(opts.backend, true);
        await pruneExports(runLayout.exportsDir(runDir), path.basename(out));
        if (tunedRun) {
          await fsp.rm(out, { recursive: true, force: true });
          return exportTuned(runDir, tunedRun, format, out);
        }
        return exportAt(run, curveName, t, format, out, { via: 'extra serve' });
      });
      const stem = tunedRun ? `extra-${tunedId}` : `extra-t${t.toFixed(4)}`;
      let body: Uint8Array;
      let type: string;
      let name: string;
      if (format === 'tfjs') {
        const entries: Record<string, Uint8Array> = {};
        for (const f of files) entries[path.basename(f)] = new Uint8Array(await fsp.readFile(f));
        body = zipSync(entries, { level: 0 });
        type = 'application/zip';
        name = `${stem}-tfjs.zip`;
      } else {
        body = new Uint8Array(await fsp.readFile(files[0]));
        type = 'application/octet-stream';
        name = `${stem}.${format}`;
      }
      res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'content-disposition': `attachment; filename="${name}"` });
      res.end(body);
      return;
    }
    if (route.startsWith('/files/')) {
      let rel: string;
      try {
        rel = decodeURIComponent(route.slice('/files/'.length));
      } catch {
        throw new HttpError(400, 'malformed path');
      }
      if (rel.includes('\0') || path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) throw new HttpError(400, 'path must stay inside the run directory');
      let real: string;
      try {
        real = await fsp.realpath(path.join(realRun, rel));
      } catch {
        throw new HttpError(404, 'no such file');
      }
      const back = path.relative(realRun, real);
      if (back.startsWith('..') || path.isAbsolute(back)) throw new HttpError(400, 'path must stay inside the run directory');
      const st = await fsp.stat(real);
      if (!st.isFile()) throw new HttpError(404, 'no such file');
      const types: Record<string, string> = { '.json': 'application/json', '.png': 'image/png', '.html': 'text/html; charset=utf-8', '.jsonl': 'text/plain', '.js': 'text/javascript' };
      res.writeHead(200, { 'content-type': types[path.extname(real)] ?? 'application/octet-stream', 'content-length': st.size });
      res.end(await fsp.readFile(real));
      return;
    }
    throw new HttpError(404, `no route ${route}`);
  };

  return http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message });
      // a full disk is 507, a read-only run 403, a directory or a dangling link where a file should be 409
      const said = explainSystemError(e);
      const scrub = (m: string) => publicMessage(m, [realRun, runDir]);
      if (said instanceof SystemFileError) return sendJson(res, said.httpStatus, { error: scrub(said.message) });
      if (isExtraInputError(e)) return sendJson(res, 400, { error: scrub(e.message) });
      sendJson(res, 500, { error: `internal error: ${scrub((e as Error).message)}` });
    });
  });
}

/**
 * Keep at most MAX_CACHED_EXPORTS of the explorer's own export directories (t-0.1234-tfjs, ...): every
 * distinct t requested would otherwise leave a directory behind. Others in exports/ are never touched.
 */
async function pruneExports(dir: string, keep: string): Promise<void> {
  const names = (await fsp.readdir(dir).catch(() => [] as string[])).filter((n) => /^(t-\d\.\d{4}|tuned-[\w.-]+)-(tfjs|safetensors|onnx)$/.test(n) && n !== keep);
  if (names.length < MAX_CACHED_EXPORTS) return;
  const dated = await Promise.all(names.map(async (n) => ({ n, m: (await fsp.stat(path.join(dir, n))).mtimeMs })));
  dated.sort((a, b) => a.m - b.m);
  for (const { n } of dated.slice(0, names.length - MAX_CACHED_EXPORTS + 1)) await fsp.rm(path.join(dir, n), { recursive: true, force: true });
}

const isNumberArray = (x: unknown): x is number[] => Array.isArray(x) && x.every((v) => typeof v === 'number');

/** A POST's JSON object body; 405 for another method, 415 for another content type, 400 for bad JSON. */
async function readJsonBody(req: http.IncomingMessage, usage: string, example: string): Promise<Record<string, unknown>> {
  if (req.method !== 'POST') throw new HttpError(405, usage);
  // a JSON content type cannot be sent cross-site without a CORS preflight (which we never grant)
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'send the body as application/json');
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, example);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, example);
  return body as Record<string, unknown>;
}

export function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new ExtraInputError(`port ${port} on ${host} is in use; pick another --port`) : e),
    );
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}
