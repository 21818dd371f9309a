import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ExtraInputError } from '../errors.js';
import { chromiumArgs, chromiumPath, loadPlaywright, type ReportResult } from '../report/index.js';
import { makeDir } from '../util/fs.js';
import { createExplorerServer, listen } from './index.js';

/** The explorer's t slider runs over 0…1000; the pictures show t = 0.4. */
export const SCREENSHOT_T = 0.4;
const SLIDER_STEPS = 1000;
const TIMEOUT_MS = 120_000;

type PageFlags = { __extraDrawn?: boolean; __extraReady?: boolean; __extraPlanes?: boolean; __extraPredT?: number };

/** Debian's Chromium and playwright-core, or a one-line refusal naming what is missing. */
export async function screenshotTools(): Promise<{ exe: string; pw: NonNullable<Awaited<ReturnType<typeof loadPlaywright>>> }> {
  const exe = chromiumPath();
  if (!exe) throw new ExtraInputError('--screenshots needs Chromium at /usr/bin/chromium (apt-get install chromium, or EXTRA_CHROMIUM=PATH)');
  const pw = await loadPlaywright();
  if (!pw) throw new ExtraInputError('--screenshots needs playwright-core (npm install playwright-core)');
  return { exe, pw };
}

/**
 * Pictures of a written report and of the explorer page for documents (reports/*.md): report-page.png (the
 * report's first screen), explorer-page.png (the whole explorer after "evaluate here" at t = 0.4) and, with a
 * plane (extra plane), one picture per landscape panel with t marked (explorer-plane-*.png) and the prediction
 * strips (explorer-predictions-strip.png, explorer-predictions-disagree.png). Debian's Chromium through
 * playwright-core, as the report's PNG figures; refused (one line) where either is missing.
 */
export async function screenshotPages(run: string, report: Pick<ReportResult, 'html' | 'figures' | 'data'>, outDir: string, opts: { curve?: string; backend?: string } = {}): Promise<string[]> {
  const { exe, pw } = await screenshotTools();
  await makeDir(outDir);
  const server = await createExplorerServer({ run, curve: opts.curve, backend: opts.backend });
  const browser = await pw.chromium.launch({ executablePath: exe, args: chromiumArgs });
  try {
    const port = await listen(server, 0, '127.0.0.1');
    const page = await browser.newPage({ viewport: { width: 1250, height: 1000 } });
    const written: string[] = [];
    const shot = async (name: string, what: { fullPage: boolean } | { selector: string }) => {
      const file = path.join(outDir, name);
      if ('selector' in what) await page.locator(what.selector).screenshot({ path: file });
      else await page.screenshot({ path: file, fullPage: what.fullPage });
      written.push(file);
    };
    await page.goto(pathToFileURL(path.resolve(report.html)).href);
    await page.waitForFunction(() => (window as unknown as PageFlags).__extraDrawn === true, null, { timeout: TIMEOUT_MS });
    await shot('report-page.png', { fullPage: false });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (window as unknown as PageFlags).__extraReady === true, null, { timeout: TIMEOUT_MS });
    await page.locator('#t').fill(String(Math.round(SCREENSHOT_T * SLIDER_STEPS)));
    await page.locator('#evaluate').click();
    await page.waitForFunction(() => (document.getElementById('el-0')?.textContent ?? '') !== '', null, { timeout: TIMEOUT_MS });
    await shot('explorer-page.png', { fullPage: true });
    if (report.data.plane) {
      await page.waitForFunction(() => (window as unknown as PageFlags).__extraPlanes === true, null, { timeout: TIMEOUT_MS });
      await page.waitForFunction((t) => (window as unknown as PageFlags).__extraPredT === t, SCREENSHOT_T, { timeout: TIMEOUT_MS });
      for (const f of report.figures.filter((x) => x.id.startsWith('plane-'))) await shot(`explorer-${f.id}.png`, { selector: `#${f.id}` });
      for (const id of ['strip', 'disagree']) await shot(`explorer-predictions-${id}.png`, { selector: `#${id}` });
    }
    return written;
  } finally {
    await browser.close();
    server.close();
  }
}
