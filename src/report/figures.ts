import type { ReportData } from './data.js';
import { identityObjectives, objectiveMetrics } from '../curves/index.js';
import type { PlaneFile } from '../landscape/store.js';
import { headlineFit, type TaskMetrics } from '../train/metrics.js';
import { deltaMFigure, denseMetricFigures } from './dense-figures.js';

export type { Figure } from './figure.js';
import type { Figure } from './figure.js';

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

function axis(title: string): Record<string, unknown> {
  return { title: { text: title }, zeroline: false };
}

/** The fit a figure shows for a task: its accuracy, or a regression's MAE. */
const fitOf = (m: TaskMetrics) => headlineFit(m).value;
const fitName = (m: TaskMetrics | undefined) => headlineFit(m).name;

/**
 * The front in test-loss (or test-accuracy) space: sweep coloured by t, endpoints, non-dominated set.
 * In accuracy space a regression objective is shown by its MAE (and there is no error hypervolume).
 */
export function frontFigure(d: ReportData, space: 'loss' | 'accuracy'): Figure {
  const first = d.curves[0].profile;
  const objectives = first.objectives ?? identityObjectives(d.taskNames);
  // the two objectives the curve trades off (groups with task grouping)
  const [a, b] = first.orientation ? [first.orientation.taskA, first.orientation.taskB] : [0, 1];
  const names = objectives.names;
  const value = (m: TaskMetrics) => (space === 'loss' ? m.loss : fitOf(m));
  const data: Record<string, unknown>[] = [];
  d.curves.forEach((c, ci) => {
    const p = { ...c.profile, points: c.profile.objectivePoints ?? c.profile.points };
    const hv = space === 'loss' ? p.hypervolume.testLoss : p.hypervolume.testError;
    const hvText = !hv ? 'no error HV (a regression objective)' : space === 'loss' ? `HV ${hv.curve.toFixed(4)} (ref ${hv.ref.join(',')})` : `error HV ${hv.curve.toFixed(4)} (ref ${hv.ref.join(',')})`;
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: `${c.name} (${p.kind}) — ${hvText}`,
      x: p.points.map((q) => value(q.test[a])),
      y: p.points.map((q) => value(q.test[b])),
      text: p.points.map((q) => `t = ${q.t.toFixed(3)}`),
      hovertemplate: `%{text}<br>${names[a]} %{x:.4f}<br>${names[b]} %{y:.4f}<extra>${c.name}</extra>`,
      line: { color: ci === 0 ? '#888' : palette[(ci + 2) % palette.length], width: 1 },
      marker: ci === 0 ? { color: p.points.map((q) => q.t), colorscale: 'Viridis', size: 8, colorbar: { title: { text: 't' }, x: 1.02 }, showscale: true } : { size: 5 },
    });
    const nd = space === 'loss' ? p.nonDominatedTestLoss : p.nonDominatedTestError;
    if (ci === 0 && nd.length) {
      data.push({
        type: 'scatter',
        mode: 'markers',
        name: `non-dominated (${nd.length} of ${p.points.length})`,
        x: nd.map((i) => value(p.points[i].test[a])),
        y: nd.map((i) => value(p.points[i].test[b])),
        marker: { symbol: 'circle-open', size: 13, color: '#000', line: { width: 1.5 } },
        hoverinfo: 'skip',
      });
    }
  });
  const curveEnds = new Set(d.curves[0]?.profile.endpoints ?? []);
  d.endpoints.forEach((e, i) => {
    if (!e.test) return;
    const isEnd = curveEnds.has(e.id);
    const m = objectiveMetrics(d.taskNames.map((n) => e.test![n]), objectives);
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: `endpoint ${e.id}${isEnd ? '' : ' (other)'}`,
      x: [value(m[a])],
      y: [value(m[b])],
      marker: { symbol: isEnd ? 'star' : 'diamond', size: isEnd ? 16 : 11, color: palette[i % palette.length], line: { width: 1, color: '#000' } },
    });
  });
  const at0 = first.objectivePoints?.[0] ?? first.points[0];
  const anyMae = space === 'accuracy' && names.some((_, k) => fitName(at0?.test[k]) === 'MAE');
  const what = space === 'loss' ? 'test loss' : anyMae ? 'test accuracy / MAE' : 'test accuracy';
  const axisName = (k: number) => (space === 'loss' ? 'test loss' : `test ${fitName(at0?.test[k])}`);
  return {
    id: `front-${space}`,
    title: `Pareto front in ${what} space`,
    data,
    layout: {
      title: { text: `Trade-off curve in ${what} space` },
      xaxis: axis(`${names[a]} ${axisName(a)}`),
      yaxis: axis(`${names[b]} ${axisName(b)}`),
      legend: { orientation: 'h', y: -0.2 },
      margin: { t: 50, r: 80 },
    },
  };
}

/** Each task's loss or accuracy (a regression's MAE) along t, validation and test. */
export function alongTFigure(d: ReportData, metric: 'loss' | 'accuracy'): Figure {
  const p = d.curves[0].profile;
  const data: Record<string, unknown>[] = [];
  d.taskNames.forEach((task, k) => {
    const mae = metric === 'accuracy' && fitName(p.points[0]?.test[k]) === 'MAE';
    for (const split of ['val', 'test'] as const) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `${task}${mae ? ' MAE' : ''} (${split === 'val' ? 'validation' : 'test'})`,
        x: p.points.map((q) => q.t),
        y: p.points.map((q) => (metric === 'loss' ? q[split][k].loss : fitOf(q[split][k]))),
        line: { color: palette[k % palette.length], dash: split === 'val' ? 'dot' : 'solid' },
      });
    }
  });
  const sp = Object.entries(p.spearmanValLoss)
    .map(([k, s]) => `${k} ${s.toFixed(3)}`)
    .join(', ');
  return {
    id: `along-t-${metric}`,
    title: `${metric} along t`,
    data,
    layout: {
      title: { text: `Per-task ${metric} along the curve${metric === 'loss' ? ` — Spearman(val loss, t): ${sp}` : ''}` },
      xaxis: axis('t'),
      yaxis: axis(metric),
      legend: { orientation: 'h', y: -0.2 },
    },
  };
}

/** Training curves: per-task training loss by epoch for every endpoint and the curve. */
export function trainingFigure(d: ReportData): Figure {
  const data: Record<string, unknown>[] = [];
  const series: { name: string; log: Record<string, unknown>[] }[] = [
    ...d.endpoints.map((e) => ({ name: `endpoint ${e.id}`, log: e.log })),
    ...d.curves.map((c) => ({ name: c.name, log: c.log })),
  ];
  series.forEach((s, i) => {
    d.taskNames.forEach((task, k) => {
      data.push({
        type: 'scatter',
        mode: 'lines+markers',
        name: `${s.name}: ${task}`,
        x: s.log.map((r) => r.epoch as number),
        y: s.log.map((r) => (r.trainLoss as number[])[k]),
        line: { color: palette[i % palette.length], dash: k === 0 ? 'solid' : 'dash' },
      });
    });
  });
  return {
    id: 'training',
    title: 'training curves',
    data,
    layout: { title: { text: 'Training loss per epoch (solid: first task, dashed: second)' }, xaxis: axis('epoch'), yaxis: axis('training loss'), legend: { orientation: 'h', y: -0.2 } },
  };
}

/** The three-objective front of the surface (test losses of its three groups), with the curve's sweep. */
export function surfaceFigure(d: ReportData): Figure | null {
  const s = d.surface;
  if (!s) return null;
  const data: Record<string, unknown>[] = [
    {
      type: 'scatter3d',
      mode: 'markers',
      name: `surface — 3-D HV ${s.hypervolume.testLoss.surface.toFixed(4)} (corners ${s.hypervolume.testLoss.corners.toFixed(4)})`,
      x: s.points.map((p) => p.testObjectives[0].loss),
      y: s.points.map((p) => p.testObjectives[1].loss),
      z: s.points.map((p) => p.testObjectives[2].loss),
      text: s.points.map((p) => `b = (${p.bary.map((v) => v.toFixed(2)).join(', ')})`),
      marker: { size: 4, color: s.points.map((p) => p.bary[0]), colorscale: 'Viridis' },
    },
  ];
  const c = d.curves[0]?.profile;
  const names = c?.objectives?.names;
  if (c?.objectivePoints && names && names.length === 3) {
    const order = s.objectiveNames.map((n) => names.indexOf(n));
    if (order.every((i) => i >= 0)) {
      data.push({
        type: 'scatter3d',
        mode: 'lines+markers',
        name: `curve — 3-D HV ${c.hypervolume.testLoss.curve.toFixed(4)}`,
        x: c.objectivePoints.map((p) => p.test[order[0]].loss),
        y: c.objectivePoints.map((p) => p.test[order[1]].loss),
        z: c.objectivePoints.map((p) => p.test[order[2]].loss),
        marker: { size: 3, color: '#d62728' },
        line: { color: '#d62728' },
      });
    }
  }
  return {
    id: 'surface-front',
    title: 'three-group front',
    data,
    layout: {
      title: { text: 'Three-group front: the surface over the simplex and the curve (test losses)' },
      scene: { xaxis: { title: { text: s.objectiveNames[0] } }, yaxis: { title: { text: s.objectiveNames[1] } }, zaxis: { title: { text: s.objectiveNames[2] } } },
      legend: { orientation: 'h', y: -0.1 },
    },
  };
}

/** The curve's point at t on the plane (linear between the stored projections). */
export function planeMarkerAt(plane: PlaneFile, t: number): { a: number; b: number } {
  const c = plane.curvePath;
  let i = 0;
  while (i < c.length - 2 && c[i + 1].t < t) i++;
  const w = c[i + 1].t === c[i].t ? 0 : Math.min(1, Math.max(0, (t - c[i].t) / (c[i + 1].t - c[i].t)));
  return { a: (1 - w) * c[i].a + w * c[i + 1].a, b: (1 - w) * c[i].b + w * c[i + 1].b };
}

function planePanel(plane: PlaneFile, id: string, title: string, z: number[][], zTitle: string, markT?: number): Figure {
  const data: Record<string, unknown>[] = [
    // log10 for the colours: the losses far from the curve are orders of magnitude above those near it,
    // and a linear scale would paint everything near the curve one colour; hover shows the raw values
    {
      type: 'contour',
      x: plane.grid.as,
      y: plane.grid.bs,
      z: z.map((row) => row.map((v) => Math.log10(Math.max(v, 1e-6)))),
      text: z.map((row) => row.map((v) => `${zTitle} ${v.toFixed(4)}`)),
      hoverinfo: 'x+y+text',
      colorscale: 'Viridis',
      reversescale: true,
      ncontours: 24,
      colorbar: { title: { text: `log10 ${zTitle}` } },
      name: zTitle,
    },
    {
      type: 'scatter',
      mode: 'lines',
      name: 'curve (projected)',
      x: plane.curvePath.map((q) => q.a),
      y: plane.curvePath.map((q) => q.b),
      text: plane.curvePath.map((q) => `t = ${q.t.toFixed(3)}, off the plane by ${q.residual.toFixed(3)}`),
      line: { color: '#fff', width: 3 },
    },
    { type: 'scatter', mode: 'markers+text', name: 'plane points', x: plane.points.map((q) => q.a), y: plane.points.map((q) => q.b), text: plane.points.map((q) => q.label), textposition: 'top center', marker: { size: 11, color: '#d62728', line: { color: '#fff', width: 1 } } },
  ];
  if (markT !== undefined) {
    const m = planeMarkerAt(plane, markT);
    data.push({ type: 'scatter', mode: 'markers', name: 'current t', x: [m.a], y: [m.b], marker: { symbol: 'x', size: 16, color: '#e00', line: { width: 2 } } });
  }
  const maxRes = Math.max(...plane.curvePath.map((q) => q.residual));
  return {
    id,
    title,
    data,
    layout: {
      title: { text: `${title} (${plane.split})<br><sub>the curve leaves the plane by ≤ ${maxRes.toFixed(3)}</sub>`, font: { size: 14 } },
      xaxis: axis('a (along the first two points)'),
      yaxis: { ...axis('b'), scaleanchor: 'x' },
      showlegend: false,
      width: 560,
      height: 480,
    },
  };
}

/**
 * Loss-landscape panels of plane.json: one contour of the loss per objective (tasks, and groups with
 * grouping), the projected curve and the three points on each, plus the Chebyshev scalarization at the
 * preference (each objective's loss scaled to [0, 1] over the grid, then max_k r_k·L̂_k). `markT` puts a
 * marker at the curve's point for that t (the explorer's slider).
 */
export function planeFigures(plane: PlaneFile, preference?: number[], markT?: number): Figure[] {
  const names = Object.keys(plane.surfaces);
  const figs = names.map((name, i) => planePanel(plane, `plane-${i}`, `${name} loss`, plane.surfaces[name].loss, `${name} loss`, markT));
  const objectives = plane.objectives.names;
  const r = preference && preference.length === objectives.length ? preference : objectives.map(() => 1 / objectives.length);
  const scaled = objectives.map((name) => {
    const z = plane.surfaces[name].loss;
    const flat = z.flat();
    const lo = Math.min(...flat);
    const span = Math.max(...flat) - lo || 1;
    return z.map((row) => row.map((v) => (v - lo) / span));
  });
  const cheb = plane.grid.bs.map((_, i) => plane.grid.as.map((_, j) => Math.max(...scaled.map((z, k) => r[k] * z[i][j]))));
  figs.push(planePanel(plane, 'plane-chebyshev', `Chebyshev at (${r.map((x) => x.toFixed(2)).join(', ')})`, cheb, 'max_k r_k·L̂_k', markT));
  return figs;
}

export function reportFigures(d: ReportData, preference?: number[]): Figure[] {
  const dense = denseMetricFigures(d);
  const dm = deltaMFigure(d);
  // a per-pixel run shows each task's own metrics along t instead of one "accuracy" panel mixing their units
  const figs = [frontFigure(d, 'loss'), frontFigure(d, 'accuracy'), alongTFigure(d, 'loss'), ...(dense.length ? dense : [alongTFigure(d, 'accuracy')]), ...(dm ? [dm] : []), trainingFigure(d)];
  const s = surfaceFigure(d);
  if (s) figs.push(s);
  if (d.plane) figs.push(...planeFigures(d.plane, preference));
  return figs;
}
