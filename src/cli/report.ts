import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { writeReport } from '../report/index.js';
import { flagTable, optString, parseFlags, reqString } from './args.js';
import { stdio, type Io } from './context.js';
import { assertOutputDir, assertRealOutputPath, removeCreatedOnFailure } from '../util/fs.js';
import { preferenceOf, readProfile } from '../app/index.js';
import { identityObjectives } from '../curves/index.js';
import { screenshotPages, screenshotTools, SCREENSHOT_T } from '../server/screenshots.js';

async function objectivePreference(run: string, text: string): Promise<number[]> {
  const p = await readProfile(run);
  return preferenceOf(text, (p.objectives ?? identityObjectives(p.taskNames)).names.length);
}

export const reportHelp = `extra report --run DIR [--out DIR] [--no-png] [--pref a,b] [--screenshots DIR] [--json]

A standalone HTML report (index.html with plotly.js beside it; works offline): the Pareto front in
test-loss and test-accuracy space (curve coloured by t, endpoints, non-dominated points, hypervolume),
each task's loss and accuracy along t, and the training curves. PNG files of every figure are rendered
with Debian's Chromium (/usr/bin/chromium) through playwright-core where both are present.
With a plane (extra plane): one loss-landscape contour per task (and group) with the curve on it, and the
Chebyshev scalarization at --pref (default equal weights). Default output: DIR/report.
  --screenshots DIR  also pictures of the pages for documents, with the same Chromium: report-page.png (the
                     report's first screen), explorer-page.png (the explorer after "evaluate here" at t = ${SCREENSHOT_T}) and,
                     with a plane, explorer-plane-*.png and explorer-predictions-{strip,disagree}.png`;

export async function reportCommand(argv: string[], io: Io = stdio): Promise<number> {
  const { values: v, positionals } = parseFlags('report', argv, flagTable({ values: ['run', 'out', 'pref', 'screenshots'], switches: ['no-png', 'json'] }));
  if (v.help) {
    io.out(reportHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`report: unexpected argument '${positionals[0]}'`);
  const run = reqString('report', v, 'run');
  const out = optString(v, 'out') ?? path.join(run, 'report');
  assertRealOutputPath(out, 'report: --out');
  const shots = optString(v, 'screenshots');
  if (shots !== undefined) {
    await assertOutputDir(shots, 'report: --screenshots');
    await screenshotTools();
  }
  // the plane's Chebyshev panel is drawn at this preference (one entry per objective; default equal)
  const prefText = optString(v, 'pref');
  const preference = prefText === undefined ? undefined : await objectivePreference(run, prefText);
  const r = await removeCreatedOnFailure(out, () => writeReport(run, out, { png: v['no-png'] !== true, preference }));
  const screenshots = shots === undefined ? [] : await removeCreatedOnFailure(shots, () => screenshotPages(run, r, shots));
  if (v.json) io.out(JSON.stringify({ html: r.html, pngs: r.pngs, pngSkipped: r.pngSkipped ?? null, ...(shots !== undefined ? { screenshots } : {}) }));
  else {
    io.out(`report: ${r.html}`);
    if (r.pngs.length) io.out(`figures: ${r.pngs.join(', ')}`);
    else io.err(`no PNG figures: ${r.pngSkipped}`);
    if (screenshots.length) io.out(`screenshots: ${screenshots.join(', ')}`);
  }
  return 0;
}
