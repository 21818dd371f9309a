import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { createExplorerServer, listen, MAX_CACHED_EXPORTS, MAX_TUNE_STEPS } from '../../src/server/index.js';
import { buildModel, loadLayersModelFromDir, paramsToPytorchStateDict } from '../../src/models/index.js';
import { readRun } from '../../src/run/index.js';
import { writeReport, chromiumPath, chromiumArgs, loadPlaywright } from '../../src/report/index.js';
import { decodeSafetensors } from '../../src/io/index.js';
import { computePlane } from '../../src/app/index.js';
import { makeTinyRun, cacheDir } from '../fixtures.js';

const ROOT = path.resolve(__dirname, '../..');
let run = '';
let server: http.Server;
let base = '';

beforeAll(async () => {
  run = makeTinyRun('extra-serve-');
  process.env.EXTRA_CACHE_DIR = cacheDir;
  server = await createExplorerServer({ run, backend: 'wasm' });
  const port = await listen(server, 0, '127.0.0.1');
  base = `http://127.0.0.1:${port}`;
}, 300_000);

afterAll(() => server?.close());

/** Raw request so that the path is sent exactly as written (no client-side normalization). */
function request(method: string, p: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = http.request({ host: u.hostname, port: u.port, method, path: p, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

describe('explorer server: API, security and bad input', () => {
  it('listens on loopback and serves the page and the run’s own files', async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:/);
    const page = await request('GET', '/');
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('extra explorer');
    const runJson = await request('GET', '/files/run.json');
    expect(runJson.status).toBe(200);
    expect(JSON.parse(runJson.body.toString()).format).toBe('extra-run');
  });

  for (const p of ['/files/..%2f..%2fetc%2fpasswd', '/files/%2fetc%2fpasswd', '/files/..%5c..%5cetc%5cpasswd', '/files/endpoints/..%2f..%2f..%2fetc%2fpasswd', '/files/../../etc/passwd']) {
    it(`refuses path traversal ${p}`, async () => {
      const r = await request('GET', p);
      expect([400, 404]).toContain(r.status);
      expect(r.body.toString()).not.toContain('root:');
      expect(JSON.parse(r.body.toString()).error).toBeTruthy();
    });
  }

  it('malformed parameters give HTTP 400 with a JSON error', async () => {
    for (const p of ['/api/query?pref=abc', '/api/query?pref=1,2,3', '/api/query?pref=-1,2', '/api/query', '/api/query?pref=1,1&method=magic', '/api/export?t=2&format=tfjs', '/api/export?t=0.5&format=pt', '/api/export?t=abc&format=tfjs', '/api/predictions?t=2', '/api/predictions?t=0.5&set=all']) {
      const r = await request('GET', p);
      expect(r.status, p).toBe(400);
      expect(typeof JSON.parse(r.body.toString()).error, p).toBe('string');
    }
    const bad = await request('POST', '/api/evaluate', '{"t": "x"}');
    expect(bad.status).toBe(400);
    const notJson = await request('POST', '/api/evaluate', 'not json');
    expect(notJson.status).toBe(400);
    const big = await request('POST', '/api/evaluate', JSON.stringify({ t: 0.5, pad: 'x'.repeat(10000) }));
    expect(big.status).toBe(413);
    expect((await request('DELETE', '/files/run.json')).status).toBe(405);
    expect((await request('POST', '/api/export?t=0.5&format=tfjs')).status).toBe(405);
  });

  it('trusts no browser: foreign Host (DNS rebinding) and Origin are 403, a non-JSON or string-t POST is refused', async () => {
    const attacks: [string, string, string | undefined, Record<string, string>, number][] = [
      ['GET', '/api/profile', undefined, { host: 'evil.example' }, 403],
      ['GET', '/files/run.json', undefined, { host: 'evil.example:80' }, 403],
      ['GET', '/api/profile', undefined, { origin: 'http://evil.example' }, 403],
      ['POST', '/api/evaluate', '{"t": 0.5}', { origin: 'http://evil.example' }, 403],
      ['POST', '/api/evaluate', '{"t": 0.5}', { origin: 'null' }, 403],
      ['POST', '/api/evaluate', '{"t": 0.5}', { 'content-type': 'text/plain' }, 415],
      ['POST', '/api/evaluate', '{"t": 0.5}', { 'content-type': 'application/x-www-form-urlencoded' }, 415],
      ['POST', '/api/evaluate', '{"t": "0.5"}', {}, 400],
      ['GET', '/api/export?t=0x1&format=tfjs', undefined, {}, 400],
    ];
    for (const [method, p, body, headers, status] of attacks) {
      const r = await request(method, p, body, headers);
      expect(r.status, `${method} ${p} ${JSON.stringify(headers)}`).toBe(status);
    }
    // the page's own requests (loopback Host, same origin, JSON) still work
    const port = new URL(base).port;
    const ok = await request('POST', '/api/evaluate', '{"t": 0.5}', { host: `localhost:${port}`, origin: `http://127.0.0.1:${port}` });
    expect(ok.status).toBe(200);
  });

  it('the explorer keeps a bounded number of export directories', async () => {
    for (let i = 0; i < MAX_CACHED_EXPORTS + 3; i++) {
      const r = await request('GET', `/api/export?t=${(0.1 + 0.01 * i).toFixed(2)}&format=safetensors`);
      expect(r.status).toBe(200);
    }
    const dirs = readdirSync(path.join(run, 'exports')).filter((n) => /^t-/.test(n));
    expect(dirs.length).toBeLessThanOrEqual(MAX_CACHED_EXPORTS);
    expect(dirs).toContain(`t-${(0.1 + 0.01 * (MAX_CACHED_EXPORTS + 2)).toFixed(4)}-safetensors`);
  });

  it('query agrees with the profile; writes happen only under exports/', async () => {
    const before = readdirSync(run).sort();
    const q = JSON.parse((await request('GET', '/api/query?pref=0.5,0.5')).body.toString());
    const prof = JSON.parse(readFileSync(path.join(run, 'profile.json'), 'utf8'));
    expect(prof.points.map((p: { t: number }) => p.t)).toContain(q.t);
    // the same answer, number for number, as `extra query --no-refine --json` on this run
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin/extra.js'), 'query', '--run', run, '--pref', '0.5,0.5', '--no-refine', '--json'], { encoding: 'utf8', env: { ...process.env, EXTRA_BACKEND: 'wasm' } });
    expect(cli.status, cli.stderr).toBe(0);
    const c = JSON.parse(cli.stdout) as { t: number; predicted: unknown; validation: unknown };
    expect([q.t, q.predicted, q.validation]).toEqual([c.t, c.predicted, c.validation]);
    const r = await request('GET', `/api/export?t=0.25&format=safetensors`);
    expect(r.status).toBe(200);
    expect(r.headers['content-disposition']).toContain('.safetensors');
    const dec = decodeSafetensors(new Uint8Array(r.body));
    expect(dec.metadata['extra.t']).toBe('0.25');
    // the same point as ONNX: onnxruntime loads what the explorer hands out
    const o = await request('GET', `/api/export?t=0.25&format=onnx`);
    expect(o.status).toBe(200);
    expect(o.headers['content-disposition']).toContain('.onnx');
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(new Uint8Array(o.body));
    expect(session.outputNames.length).toBe(2);
    const after = readdirSync(run).sort();
    expect(after.filter((f) => !before.includes(f))).toEqual(before.includes('exports') ? [] : ['exports']);
  });

  it('tune: bad requests are refused; a tuned model is kept in RUN/tuned and exported exactly', async () => {
    const post = (body: unknown, headers: Record<string, string> = {}) => request('POST', '/api/tune', JSON.stringify(body), headers);
    for (const [body, status] of [
      [{ pref: '0.5,0.5', steps: 2 }, 400],
      [{ pref: [0.5, 0.5], steps: 0 }, 400],
      [{ pref: [0.5, 0.5], steps: 2.5 }, 400],
      [{ pref: [0.5, 0.5], steps: MAX_TUNE_STEPS + 1 }, 400],
      [{ pref: [0.5, 0.5], steps: 2, method: 'magic' }, 400],
      [{ pref: [0.5], steps: 2 }, 400],
      [{ pref: [-1, 2], steps: 2 }, 400],
      [[0.5, 0.5], 400],
    ] as const) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(typeof JSON.parse(r.body.toString()).error).toBe('string');
    }
    expect((await request('GET', '/api/tune')).status).toBe(405);
    expect((await post({ pref: [0.5, 0.5], steps: 2 }, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await request('GET', '/api/export?tuned=nope&format=safetensors')).status).toBe(404);
    expect(existsSync(path.join(run, 'tuned'))).toBe(false);

    const r = await post({ pref: [0.3, 0.7], method: 'ls', steps: 4 });
    expect(r.status, r.body.toString()).toBe(200);
    const t = JSON.parse(r.body.toString());
    expect(t.method).toBe('ls');
    expect(t.steps).toBe(4);
    expect(t.preference).toEqual([0.3, 0.7]);
    expect(t.after.testCriterion).not.toBe(t.before.testCriterion);
    const dir = path.join(run, 'tuned', t.id);
    expect(JSON.parse(readFileSync(path.join(dir, 'metrics.json'), 'utf8')).tunedFrom.t).toBe(t.t);
    const e = await request('GET', `/api/export?tuned=${encodeURIComponent(t.id)}&format=safetensors`);
    expect(e.status).toBe(200);
    expect(e.headers['content-disposition']).toContain(t.id);
    const dec = decodeSafetensors(new Uint8Array(e.body));
    expect(dec.metadata['extra.tuned']).toContain('4 steps of ls');
    // the very weights the tuning saved, under PyTorch's names
    const info = await readRun(run);
    const saved = await loadLayersModelFromDir(dir);
    saved.model.dispose();
    const want = paramsToPytorchStateDict(info!.model, buildModel(info!.model).params.map((p) => p.name), saved.values);
    expect(want.length).toBeGreaterThan(0);
    for (const w of want) expect(Array.from(dec.tensors.find((x) => x.name === w.name)!.data), w.name).toEqual(Array.from(w.data));
  });
});

const chromium = chromiumPath();
describe.skipIf(!chromium)('in a real browser (Debian chromium via playwright-core)', () => {
  it('the report page draws every figure, and its summary shows the profile’s hypervolume', async () => {
    const out = path.join(run, 'report');
    const r = await writeReport(run, out, { png: true });
    expect(r.pngs.length).toBe(5);
    for (const f of r.pngs) expect(readFileSync(f).subarray(1, 4).toString()).toBe('PNG');
    const pw = (await loadPlaywright())!;
    const browser = await pw.chromium.launch({ executablePath: chromium!, args: chromiumArgs });
    try {
      const page = await browser.newPage();
      await page.goto(`file://${r.html}`);
      await page.waitForFunction(() => (window as unknown as { __extraDrawn?: boolean }).__extraDrawn === true);
      expect(await page.locator('.fig .main-svg').count()).toBeGreaterThanOrEqual(5);
      const prof = JSON.parse(readFileSync(path.join(run, 'profile.json'), 'utf8'));
      expect(await page.locator('table.summary').nth(1).innerText()).toContain(prof.hypervolume.testLoss.curve.toFixed(4));
    } finally {
      await browser.close();
    }
  });

  it('the explorer: slider shows profile numbers, evaluate matches them, export downloads a loadable zip', async () => {
    const pw = (await loadPlaywright())!;
    const browser = await pw.chromium.launch({ executablePath: chromium!, args: chromiumArgs });
    const prof = JSON.parse(readFileSync(path.join(run, 'profile.json'), 'utf8'));
    try {
      const page = await browser.newPage({ acceptDownloads: true });
      await page.goto(base + '/');
      await page.waitForFunction(() => (window as unknown as { __extraReady?: boolean }).__extraReady === true);
      // move the slider to the grid point t = 0.75 (index 3 of 5)
      await page.locator('#t').fill('750');
      const p = prof.points[3];
      expect(p.t).toBe(0.75);
      expect(await page.locator('#t-value').innerText()).toBe('0.750');
      expect(await page.locator('#pl-0').innerText()).toBe(p.test[0].loss.toFixed(4));
      expect(await page.locator('#pl-1').innerText()).toBe(p.test[1].loss.toFixed(4));
      expect(await page.locator('#pa-1').innerText()).toBe(`${(100 * p.test[1].accuracy).toFixed(2)}%`);
      await page.locator('#evaluate').click();
      await page.waitForFunction(() => document.getElementById('el-0')!.textContent !== '', null, { timeout: 120_000 });
      expect(Number(await page.locator('#el-0').innerText())).toBeCloseTo(p.test[0].loss, 3);
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-tfjs').click()]);
      const file = await download.path();
      const files = unzipSync(new Uint8Array(readFileSync(file!)));
      expect(Object.keys(files).sort()).toEqual(['model.json', 'weights.bin']);
      expect(JSON.parse(new TextDecoder().decode(files['model.json'])).format).toBe('layers-model');
      expect(existsSync(path.join(run, 'exports', 't-0.7500-tfjs', 'model.json'))).toBe(true);
      // the preference slider moves t through /api/query
      await page.locator('#pref').fill('900');
      await page.locator('#pref').dispatchEvent('change');
      await page.waitForFunction(() => document.getElementById('pref-text')!.textContent !== '');
      // tune at that preference: the status shows before → after and the tuned model downloads
      await page.locator('#tune-steps').fill('3');
      await page.locator('#tune').click();
      await page.waitForFunction(() => (window as unknown as { __extraTuned?: unknown }).__extraTuned !== undefined, null, { timeout: 120_000 });
      const tunedR = await page.evaluate(() => (window as unknown as { __extraTuned: { id: string; steps: number; preference: number[]; before: { testCriterion: number }; after: { testCriterion: number } } }).__extraTuned);
      expect(tunedR.steps).toBe(3);
      expect(tunedR.preference[0]).toBeCloseTo(0.9, 12);
      expect(tunedR.preference[1]).toBeCloseTo(0.1, 12);
      expect(await page.locator('#tune-status').innerText()).toContain(`${tunedR.before.testCriterion.toFixed(4)} on the curve → ${tunedR.after.testCriterion.toFixed(4)} tuned`);
      const [tunedDownload] = await Promise.all([page.waitForEvent('download'), page.locator('#tune-st').click()]);
      const tunedFile = decodeSafetensors(new Uint8Array(readFileSync((await tunedDownload.path())!)));
      expect(tunedFile.metadata['extra.tuned']).toContain(`3 steps of chebyshev at (${tunedR.preference.join(', ')})`);
    } finally {
      await browser.close();
    }
  });

  it('with a plane: a landscape panel per task and a Chebyshev panel; the marker and the predictions follow the slider', async () => {
    await computePlane({ run, grid: 3, quiet: true, backend: 'wasm', threads: 2 });
    const rep = await writeReport(run, path.join(run, 'report-plane'), { png: false });
    expect(rep.figures.filter((f) => f.id.startsWith('plane-')).map((f) => f.id)).toEqual(['plane-0', 'plane-1', 'plane-chebyshev']);
    const srv = await createExplorerServer({ run, backend: 'wasm' });
    const port = await listen(srv, 0, '127.0.0.1');
    const pw = (await loadPlaywright())!;
    const browser = await pw.chromium.launch({ executablePath: chromium!, args: chromiumArgs });
    type W = { __extraPlanes?: boolean; __extraPredT?: number };
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (window as unknown as W).__extraPlanes === true);
      expect(await page.locator('.plane .main-svg').count()).toBeGreaterThanOrEqual(3);
      const markerX = () => page.evaluate(() => {
        const gd = document.getElementById('plane-0') as unknown as { data: { x: number[] }[] };
        return gd.data[gd.data.length - 1].x[0];
      });
      const strip = async (t: string) => {
        await page.locator('#t').fill(t);
        await page.waitForFunction((v) => (window as unknown as W).__extraPredT === v, Number(t) / 1000, { timeout: 60_000 });
        return { text: await page.locator('#strip').innerText(), n: await page.locator('#strip .ex').count(), d: await page.locator('#disagree .ex').count(), x: await markerX() };
      };
      const at0 = await strip('0');
      const at1 = await strip('1000');
      expect(at0.n).toBe(8);
      expect(at0.d).toBe(8);
      expect(at1.x).not.toBeCloseTo(at0.x, 6); // the marker moved along the projected curve
      expect(at1.text).not.toBe(at0.text); // predictions (or their confidences) changed with t
      // the first example's prediction at t = 1 is the model's own: check one against the API
      const api = JSON.parse((await request('GET', '/api/predictions?set=strip&t=1')).body.toString()) as { examples: { tasks: { predicted: number }[] }[] };
      expect(at1.text).toContain(`: ${api.examples[0].tasks[0].predicted} (`);
    } finally {
      await browser.close();
      srv.close();
    }
  }, 180_000);
});

if (!chromium) console.warn('browser tests skipped: Debian chromium (/usr/bin/chromium) is not installed');
