import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

/** Chromium flags for this machine's closed network (DEVELOPERS.md). */
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export function chromiumPath(): string | null {
  const p = process.env.EXTRA_CHROMIUM ?? '/usr/bin/chromium';
  return existsSync(p) ? p : null;
}

type PlaywrightCore = typeof import('playwright-core');

/** playwright-core if installed (it is a devDependency; users may add it), else null. */
export async function loadPlaywright(): Promise<PlaywrightCore | null> {
  try {
    return (await import('playwright-core')) as PlaywrightCore;
  } catch {
    return null;
  }
}

/**
 * Render each figure of a report page to PNG with Debian's Chromium through playwright-core (never a
 * downloaded browser). Returns the files written, or why nothing was rendered.
 */
export async function renderFigurePngs(htmlFile: string, figureIds: string[], outDir: string): Promise<{ files: string[]; skipped?: string }> {
  const exe = chromiumPath();
  if (!exe) return { files: [], skipped: 'no Chromium at /usr/bin/chromium (apt-get install chromium)' };
  const pw = await loadPlaywright();
  if (!pw) return { files: [], skipped: 'playwright-core is not installed (npm install playwright-core)' };
  const browser = await pw.chromium.launch({ executablePath: exe, args: chromiumArgs });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(pathToFileURL(path.resolve(htmlFile)).href);
    await page.waitForFunction(() => (window as unknown as { __extraDrawn?: boolean }).__extraDrawn === true, null, { timeout: 60_000 });
    const files: string[] = [];
    for (const id of figureIds) {
      const file = path.join(outDir, `${id}.png`);
      await page.locator(`#fig-${id}`).screenshot({ path: file });
      files.push(file);
    }
    return { files };
  } finally {
    await browser.close();
  }
}
