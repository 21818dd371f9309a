// Screenshots of the report and the explorer page for reports/ (Debian chromium + playwright-core).
// Usage: node scripts/screenshots.js RUN_DIR OUT_DIR
import path from 'node:path';
import { chromium } from 'playwright-core';
import { writeReport, chromiumArgs, chromiumPath } from '../dist/report/index.js';
import { createExplorerServer, listen } from '../dist/server/index.js';

const [run, out] = process.argv.slice(2);
if (!run || !out) {
  console.error('usage: node scripts/screenshots.js RUN_DIR OUT_DIR');
  process.exit(2);
}
const rep = await writeReport(run, path.join(run, 'report'), { png: false });
const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs });
const page = await browser.newPage({ viewport: { width: 1250, height: 1000 } });
await page.goto(`file://${path.resolve(rep.html)}`);
await page.waitForFunction(() => window.__extraDrawn === true);
await page.screenshot({ path: path.join(out, 'report-page.png'), fullPage: false });
const server = await createExplorerServer({ run });
const port = await listen(server, 0, '127.0.0.1');
await page.goto(`http://127.0.0.1:${port}/`);
await page.waitForFunction(() => window.__extraReady === true);
await page.locator('#t').fill('400');
await page.locator('#evaluate').click();
await page.waitForFunction(() => document.getElementById('el-0').textContent !== '', null, { timeout: 120000 });
await page.screenshot({ path: path.join(out, 'explorer-page.png'), fullPage: true });
const written = [path.join(out, 'report-page.png'), path.join(out, 'explorer-page.png')];
// with a plane (extra plane): each landscape panel with the current t marked, and the prediction strips
if (rep.data.plane) {
  await page.waitForFunction(() => window.__extraPlanes === true);
  await page.waitForFunction(() => window.__extraPredT === 0.4, null, { timeout: 120000 });
  for (const f of rep.figures.filter((x) => x.id.startsWith('plane-'))) {
    const file = path.join(out, `explorer-${f.id}.png`);
    await page.locator(`#${f.id}`).screenshot({ path: file });
    written.push(file);
  }
  for (const id of ['strip', 'disagree']) {
    const file = path.join(out, `explorer-predictions-${id}.png`);
    await page.locator(`#${id}`).screenshot({ path: file });
    written.push(file);
  }
}
await browser.close();
server.close();
console.log(`wrote ${written.join(', ')}`);
