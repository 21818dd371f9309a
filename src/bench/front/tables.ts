import { meanPm, meanSd, signedMeanPm } from '../stats.js';
import type { FrontRow } from './metrics.js';

export function summarizeRows(all: FrontRow[][]): string {
  const methods = all[0].map((r) => r.method);
  const f = (xs: number[], d = 4) => (all.length > 1 ? meanPm(xs, d) : meanSd(xs).m.toFixed(d));
  const lines = [
    '| method | budget (endpoint epochs) | test-loss HV ↑ (ref 2,2) | test-error HV ↑ (ref 1,1) | best Chebyshev at (0.5,0.5) ↓ | preference alignment (°) ↓ | Spearman val loss a / b | wall time (s) | peak RSS (MiB) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const m of methods) {
    const rs = all.map((rows) => rows.find((r) => r.method === m)!);
    lines.push(
      `| ${m} | ${rs[0].budget} | ${f(rs.map((r) => r.testLossHV))} | ${f(rs.map((r) => r.testErrorHV))} | ${f(rs.map((r) => r.chebyshev05))} | ${f(rs.map((r) => r.alignmentDeg), 1)} | ${f(rs.map((r) => r.spearmanA), 2)} / ${f(rs.map((r) => r.spearmanB), 2)} | ${f(rs.map((r) => r.seconds), 0)} | ${f(rs.map((r) => r.peakRssMiB), 0)} |`,
    );
  }
  return lines.join('\n');
}

/** Each NURBS method's learned weights ω (mean ± std over seeds, per control point). */
export function curveWeightTable(all: FrontRow[][]): string {
  const methods = all[0].filter((r) => r.curveWeights).map((r) => r.method);
  if (!methods.length) return '';
  const lines = ['| method | learned weights ω (control points 0 … n, mean ± std over seeds) |', '|---|---|'];
  for (const m of methods) {
    const ws = all.map((rows) => rows.find((r) => r.method === m)?.curveWeights ?? []);
    const cells = ws[0].map((_, i) => meanPm(ws.map((w) => w[i]), 3));
    lines.push(`| ${m} | ${cells.join(', ')} |`);
  }
  return lines.join('\n');
}

/**
 * Paired comparison of one method against every other, seed by seed (the seeds share data and endpoints,
 * so differences are paired): mean ± std of the difference, and how many seeds the method is better in.
 * Verdict: "wins"/"loses" only when every seed agrees, "ties" otherwise — with 3 seeds a sign test is all
 * the evidence there is, and it is stated as such.
 */
export function pairedComparison(all: FrontRow[][], against: string): string {
  const metrics: { label: string; get: (r: FrontRow) => number; higherIsBetter: boolean; d: number }[] = [
    { label: 'test-loss HV', get: (r) => r.testLossHV, higherIsBetter: true, d: 4 },
    { label: 'test-error HV', get: (r) => r.testErrorHV, higherIsBetter: true, d: 4 },
    { label: 'Chebyshev (0.5,0.5)', get: (r) => r.chebyshev05, higherIsBetter: false, d: 4 },
    { label: 'alignment (°)', get: (r) => r.alignmentDeg, higherIsBetter: false, d: 1 },
  ];
  const lines = [
    `| ${against} vs | ${metrics.map((m) => `Δ ${m.label} (seeds better)`).join(' | ')} |`,
    `|---|${metrics.map(() => '---').join('|')}|`,
  ];
  const n = all.length;
  for (const other of all[0].map((r) => r.method).filter((m) => m !== against)) {
    const cells = metrics.map((m) => {
      const diffs = all.map((rows) => m.get(rows.find((r) => r.method === against)!) - m.get(rows.find((r) => r.method === other)!));
      const better = diffs.filter((x) => (m.higherIsBetter ? x > 0 : x < 0)).length;
      const verdict = better === n ? 'wins' : better === 0 ? 'loses' : 'ties';
      return `${signedMeanPm(diffs, m.d)} (${better}/${n}, ${verdict})`;
    });
    lines.push(`| ${other} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
