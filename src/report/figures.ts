import type { ReportData } from './data.js';
import { identityObjectives, objectiveMetrics } from '../curves/index.js';

/**
 * Plotly figure specifications built in Node (data + layout as plain JSON); the browser only calls
 * Plotly.newPlot on them. Pure functions of the report data, so they are tested without a browser.
 */
export interface Figure {
  id: string;
  title: string;
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

function axis(title: string): Record<string, unknown> {
  return { title: { text: title }, zeroline: false };
}

/** The front in test-loss (or test-accuracy) space: sweep coloured by t, endpoints, non-dominated set. */
export function frontFigure(d: ReportData, space: 'loss' | 'accuracy'): Figure {
  const first = d.curves[0].profile;
  const objectives = first.objectives ?? identityObjectives(d.taskNames);
  // the two objectives the curve trades off (groups with task grouping)
  const [a, b] = first.orientation ? [first.orientation.taskA, first.orientation.taskB] : [0, 1];
  const names = objectives.names;
  const value = (m: { loss: number; accuracy: number }) => (space === 'loss' ? m.loss : m.accuracy);
  const data: Record<string, unknown>[] = [];
  d.curves.forEach((c, ci) => {
    const p = { ...c.profile, points: c.profile.objectivePoints ?? c.profile.points };
    const hv = space === 'loss' ? p.hypervolume.testLoss : p.hypervolume.testError;
    const hvText = space === 'loss' ? `HV ${hv.curve.toFixed(4)} (ref ${hv.ref.join(',')})` : `error HV ${hv.curve.toFixed(4)} (ref ${hv.ref.join(',')})`;
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
    if (ci === 0) {
      const nd = space === 'loss' ? p.nonDominatedTestLoss : p.nonDominatedTestError;
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
  const what = space === 'loss' ? 'test loss' : 'test accuracy';
  return {
    id: `front-${space}`,
    title: `Pareto front in ${what} space`,
    data,
    layout: {
      title: { text: `Trade-off curve in ${what} space` },
      xaxis: axis(`${names[a]} ${what}`),
      yaxis: axis(`${names[b]} ${what}`),
      legend: { orientation: 'h', y: -0.2 },
      margin: { t: 50, r: 80 },
    },
  };
}

/** Each task's loss or accuracy along t, validation and test. */
export function alongTFigure(d: ReportData, metric: 'loss' | 'accuracy'): Figure {
  const p = d.curves[0].profile;
  const data: Record<string, unknown>[] = [];
  d.taskNames.forEach((task, k) => {
    for (const split of ['val', 'test'] as const) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `${task} (${split === 'val' ? 'validation' : 'test'})`,
        x: p.points.map((q) => q.t),
        y: p.points.map((q) => q[split][k][metric]),
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

export function reportFigures(d: ReportData): Figure[] {
  const figs = [frontFigure(d, 'loss'), frontFigure(d, 'accuracy'), alongTFigure(d, 'loss'), alongTFigure(d, 'accuracy'), trainingFigure(d)];
  const s = surfaceFigure(d);
  return s ? [...figs, s] : figs;
}
