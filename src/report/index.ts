import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import { gatherReportData, type ReportData } from './data.js';
import { reportFigures, type Figure } from './figures.js';
import { reportHtml } from './page.js';
import { renderFigurePngs } from './png.js';

export { gatherReportData } from './data.js';
export type { ReportData } from './data.js';
export { reportFigures, frontFigure, alongTFigure, trainingFigure, surfaceFigure, planeFigures, planeMarkerAt } from './figures.js';
export type { Figure } from './figures.js';
export { reportHtml, summaryHtml, scriptJson, escapeHtml, pageStyle } from './page.js';
export { renderFigurePngs, chromiumPath, chromiumArgs, loadPlaywright } from './png.js';

const require = createRequire(import.meta.url);

/** Path of plotly.js from plotly.js-dist (it cannot be required in Node, but its file can be copied). */
export function plotlyFile(): string {
  return require.resolve('plotly.js-dist/plotly.js');
}

export interface ReportResult {
  html: string;
  pngs: string[];
  pngSkipped?: string;
  figures: Figure[];
  data: ReportData;
}

/** Write report/index.html with plotly.js beside it (works offline), plus PNGs where Chromium exists. */
export async function writeReport(runDir: string, outDir: string, opts: { png?: boolean; preference?: number[] } = {}): Promise<ReportResult> {
  const data = await gatherReportData(runDir);
  const figures = reportFigures(data, opts.preference);
  await fsp.mkdir(outDir, { recursive: true });
  await writeFileAtomic(path.join(outDir, 'plotly.js'), await fsp.readFile(plotlyFile()));
  const html = path.join(outDir, 'index.html');
  await writeFileAtomic(html, reportHtml(data, figures, 'plotly.js'));
  let pngs: string[] = [];
  let pngSkipped: string | undefined;
  if (opts.png !== false) {
    const r = await renderFigurePngs(html, figures.map((f) => f.id), outDir);
    pngs = r.files;
    pngSkipped = r.skipped;
  } else pngSkipped = 'disabled (--no-png)';
  return { html, pngs, pngSkipped, figures, data };
}
