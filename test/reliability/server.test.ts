import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createExplorerServer, listen } from '../../src/server/index.js';
import { makeTinyRun, cacheDir } from '../fixtures.js';
import { fillDisk, mountSkipReason, mountTmpfs, unmount } from './helpers.js';

/**
 * The explorer under faults: only its own origin may POST (a page on another local port is another
 * origin), a 10 MB body is answered 413 (not a reset), and a system error is answered 4xx/507 with one
 * message that never shows the server's own paths.
 */

interface Reply {
  status: number;
  body: string;
  error?: string;
}

function request(port: number, method: string, p: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, body: '', error: e.code ?? e.message }));
    if (body) req.write(body);
    req.end();
  });
}

async function serve(run: string): Promise<{ server: http.Server; port: number }> {
  const server = await createExplorerServer({ run, backend: 'wasm' });
  return { server, port: await listen(server, 0, '127.0.0.1') };
}

/** No absolute path of the machine in an answer (the run's own or any other). */
function expectNoPaths(r: Reply, run: string): void {
  expect(r.body).not.toContain(run);
  expect(r.body).not.toMatch(/"[^"]*\s\/(tmp|root|home|work|usr)\//);
  expect(r.body).not.toMatch(/(^|[\s'"(])\/(tmp|root|home|work|usr)\//);
}

describe('the explorer: own origin only, big bodies, system errors without its paths', () => {
  let base: string;
  let root: string;
  const servers: http.Server[] = [];
  const mounts: string[] = [];
  beforeAll(() => {
    process.env.EXTRA_CACHE_DIR = cacheDir;
    base = makeTinyRun('extra-rel-serve-');
    root = mkdtempSync(path.join(tmpdir(), 'extra-rel-serve-root-'));
  }, 300_000);
  afterAll(() => {
    servers.forEach((s) => s.close());
    mounts.forEach(unmount);
    if (root) rmSync(root, { recursive: true, force: true });
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('POST /api/tune only from its own origin; a page on another local port, or a cross-site fetch, is 403 and starts nothing', async () => {
    const run = path.join(root, 'origin');
    cpSync(base, run, { recursive: true });
    const { server, port } = await serve(run);
    servers.push(server);
    const body = JSON.stringify({ pref: [0.5, 0.5], steps: 1 });
    const foreign: Record<string, string>[] = [{ origin: `http://localhost:${port + 1}` }, { origin: `http://127.0.0.1:${port === 8080 ? 8081 : 8080}` }, { origin: 'null' }, { 'sec-fetch-site': 'same-site' }, { 'sec-fetch-site': 'cross-site' }];
    for (const headers of foreign) {
      const r = await request(port, 'POST', '/api/tune', body, headers);
      expect(r.status, JSON.stringify(headers)).toBe(403);
    }
    expect(existsSync(path.join(run, 'tuned'))).toBe(false);
    // the page itself (same host name or another loopback name, the same port) may
    const own = await request(port, 'POST', '/api/tune', body, { origin: `http://localhost:${port}`, 'sec-fetch-site': 'same-origin' });
    expect(own.status, own.body).toBe(200);
  }, 120_000);

  it('a 10 MB POST is answered 413, the client reads the answer (no connection reset)', async () => {
    const { server, port } = await serve(base);
    servers.push(server);
    for (const route of ['/api/tune', '/api/evaluate']) {
      const r = await request(port, 'POST', route, Buffer.alloc(10 << 20, 0x20));
      expect(r.error, route).toBeUndefined();
      expect(r.status, route).toBe(413);
    }
    // and the server still answers
    expect((await request(port, 'GET', '/api/profile')).status).toBe(200);
  }, 60_000);

  it('tuned/ as a symbolic link to nothing: 409 naming it inside the run, never the server’s absolute path', async () => {
    const run = path.join(root, 'dangling');
    cpSync(base, run, { recursive: true });
    symlinkSync(path.join(root, 'nowhere', 'tuned'), path.join(run, 'tuned'));
    const { server, port } = await serve(run);
    servers.push(server);
    const r = await request(port, 'POST', '/api/tune', JSON.stringify({ pref: [0.5, 0.5], steps: 1 }));
    expect(r.status, r.body).toBe(409);
    expect(JSON.parse(r.body).error).toMatch(/^tuned is a symbolic link to something that does not exist/);
    expectNoPaths(r, run);
  }, 60_000);

  it.skipIf(mountSkipReason !== null)(`a full disk: 507 "the disk is full", nothing half-written${mountSkipReason ? ` (skipped: ${mountSkipReason})` : ''}`, async () => {
    const disk = path.join(root, 'disk');
    mkdirSync(disk);
    mountTmpfs(disk, '8m');
    mounts.push(disk);
    const run = path.join(disk, 'run');
    cpSync(base, run, { recursive: true });
    const { server, port } = await serve(run);
    servers.push(server);
    fillDisk(disk, 0);
    const tune = await request(port, 'POST', '/api/tune', JSON.stringify({ pref: [0.5, 0.5], steps: 1 }));
    expect(tune.status, tune.body).toBe(507);
    expect(JSON.parse(tune.body).error).toMatch(/^the disk is full: could not write tuned\//);
    expectNoPaths(tune, run);
    const exp = await request(port, 'GET', '/api/export?t=0.5&format=onnx');
    expect(exp.status, exp.body).toBe(507);
    expectNoPaths(exp, run);
    expect(existsSync(path.join(run, 'tuned'))).toBe(false);
    expect(existsSync(path.join(run, 'exports', 't-0.5000-onnx'))).toBe(false);
  }, 120_000);
});
