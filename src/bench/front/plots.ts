import type { FrontRow } from './metrics.js';

/** Plotly figure of every method's test-loss points for one seed (LS sweep as markers, curves as lines). */
export function frontPlotFigure(rows: FrontRow[], dataset: string): { id: string; title: string; data: Record<string, unknown>[]; layout: Record<string, unknown> } {
  return {
    id: `front-${dataset}`,
    title: dataset,
    data: rows.map((r) => ({
      type: 'scatter',
      mode: r.method.endsWith('-sweep') ? 'markers' : 'lines',
      name: `${r.method} (HV ${r.testLossHV.toFixed(3)})`,
      x: r.testLosses.map((l) => l[0]),
      y: r.testLosses.map((l) => l[1]),
      marker: { size: 10 },
    })),
    layout: { title: { text: `${dataset}: test-loss fronts at equal budget (seed 0)` }, xaxis: { title: { text: 'task a test loss' } }, yaxis: { title: { text: 'task b test loss' } }, width: 900, height: 600 },
  };
}
