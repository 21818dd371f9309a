import type { ReportData } from './data.js';
import type { Figure } from './figure.js';
import type { TaskMetrics } from '../train/metrics.js';

/*
 * The report's dense page: each per-pixel task's metrics along t (the endpoints are the curve's ends, the
 * single-task numbers dashed lines), and Δm% along t (the EXTRA paper's Fig. 4).
 */

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

/** A per-pixel task's metrics: their names, how a reader says them, and whether they are shares (right axis) or values. */
const families: { metrics: (keyof TaskMetrics)[]; labels: string[]; share: boolean[]; unit: string }[] = [
  { metrics: ['miou', 'pixelAccuracy'], labels: ['mIoU', 'pixel accuracy'], share: [true, true], unit: 'share' },
  { metrics: ['absErr', 'relErr'], labels: ['absolute error', 'relative error'], share: [false, false], unit: 'error' },
  { metrics: ['meanAngle', 'medianAngle', 'within11_25', 'within22_5', 'within30'], labels: ['mean angle', 'median angle', '< 11.25°', '< 22.5°', '< 30°'], share: [false, false, true, true, true], unit: 'degrees' },
];

export function denseMetricFigures(d: ReportData): Figure[] {
  const p = d.curves[0].profile;
  const ts = p.points.map((q) => q.t);
  return d.taskNames.flatMap((task, k) => {
    const first = p.points[0]?.test[k];
    const fam = families.find((f) => first?.[f.metrics[0]] !== undefined);
    if (!fam) return [];
    const hasShares = fam.share.some((s) => s);
    const hasValues = fam.share.some((s) => !s);
    const data: Record<string, unknown>[] = [];
    fam.metrics.forEach((m, j) => {
      const yaxis = hasShares && hasValues && fam.share[j] ? 'y2' : 'y';
      for (const split of ['val', 'test'] as const) {
        data.push({
          type: 'scatter',
          mode: 'lines',
          name: `${fam.labels[j]} (${split === 'val' ? 'validation' : 'test'})`,
          x: ts,
          y: p.points.map((q) => q[split][k][m] ?? null),
          yaxis,
          line: { color: palette[j % palette.length], dash: split === 'val' ? 'dot' : 'solid' },
          showlegend: split === 'test' || j === 0,
        });
      }
      data.push({ type: 'scatter', mode: 'markers', name: `${fam.labels[j]}: endpoints`, x: [ts[0], ts[ts.length - 1]], y: [p.points[0].test[k][m], p.points[p.points.length - 1].test[k][m]], yaxis, marker: { color: palette[j % palette.length], size: 10, symbol: 'diamond' }, showlegend: false });
      const stl = d.baseline?.test[task]?.[m as keyof NonNullable<ReportData['baseline']>['test'][string]];
      if (stl !== undefined) data.push({ type: 'scatter', mode: 'lines', name: `${fam.labels[j]}: single-task`, x: [0, 1], y: [stl, stl], yaxis, line: { color: palette[j % palette.length], dash: 'dash', width: 1 } });
    });
    const yTitle = hasShares && !hasValues ? 'share of pixels / classes' : fam.unit;
    return [
      {
        id: `dense-${k}`,
        title: `${task} along t`,
        data,
        layout: {
          title: { text: `${task}: its metrics along the curve (test solid, validation dotted; single-task dashed)` },
          xaxis: { title: { text: 't' }, zeroline: false },
          yaxis: { title: { text: yTitle }, zeroline: false },
          ...(hasShares && hasValues ? { yaxis2: { title: { text: 'share of pixels' }, overlaying: 'y', side: 'right', range: [0, 1] } } : {}),
          legend: { orientation: 'h', y: -0.25 },
        },
      },
    ];
  });
}

/** Δm% along t against the run's single-task numbers (lower is better; 0 is the single-task models). */
export function deltaMFigure(d: ReportData): Figure | null {
  const p = d.curves[0].profile;
  const dm = p.deltaM;
  if (!dm) return null;
  const ts = p.points.map((q) => q.t);
  const data: Record<string, unknown>[] = [{ type: 'scatter', mode: 'lines+markers', name: 'test', x: ts, y: dm.test, line: { color: palette[0] } }];
  if (dm.val) data.push({ type: 'scatter', mode: 'lines', name: 'validation', x: ts, y: dm.val, line: { color: palette[0], dash: 'dot' } });
  data.push({ type: 'scatter', mode: 'lines', name: 'single-task (0)', x: [0, 1], y: [0, 0], line: { color: '#888', dash: 'dash', width: 1 } });
  const best = dm.test.reduce<number>((b, v, i) => (v !== null && (dm.test[b] === null || v < dm.test[b]!) ? i : b), 0);
  data.push({ type: 'scatter', mode: 'markers', name: `best test Δm ${dm.test[best]?.toFixed(2)}% at t = ${ts[best].toFixed(2)}`, x: [ts[best]], y: [dm.test[best]], marker: { symbol: 'star', size: 14, color: '#e00' } });
  return {
    id: 'delta-m',
    title: 'Δm% along t',
    data,
    layout: {
      title: { text: `Δm% along the curve against ${dm.source} (lower is better)` },
      xaxis: { title: { text: 't' }, zeroline: false },
      yaxis: { title: { text: 'Δm %' } },
      legend: { orientation: 'h', y: -0.2 },
    },
  };
}
