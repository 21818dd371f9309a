import type { Figure } from './figures.js';
import type { ReportData } from './data.js';
import { fitText, type TaskMetrics } from '../train/metrics.js';

/** JSON safe to embed inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The summary table: endpoints and curve numbers a reader wants first. */
export function summaryHtml(d: ReportData): string {
  const rows: string[] = [];
  const acc = (m?: Record<string, TaskMetrics>) =>
    d.taskNames.map((t) => (m?.[t] ? `${fitText(m[t])} / ${m[t].loss.toFixed(4)}` : '—')).map((s) => `<td>${s}</td>`).join('');
  for (const e of d.endpoints) rows.push(`<tr><td>endpoint ${escapeHtml(e.id)}</td>${acc(e.test)}</tr>`);
  const head = `<tr><th></th>${d.taskNames.map((t) => `<th>${escapeHtml(t)}: test accuracy (MAE) / loss</th>`).join('')}</tr>`;
  const curves = d.curves
    .map((c) => {
      const p = c.profile;
      return `<tr><td>${escapeHtml(c.name)} (${escapeHtml(p.kind)})</td><td>${p.hypervolume.testLoss.curve.toFixed(4)} (endpoints only ${p.hypervolume.testLoss.endpoints.toFixed(4)})</td><td>${p.hypervolume.testError ? `${p.hypervolume.testError.curve.toFixed(4)} (endpoints only ${p.hypervolume.testError.endpoints.toFixed(4)})` : '— (a regression objective)'}</td><td>${Object.entries(p.spearmanValLoss).map(([k, s]) => `${escapeHtml(k)} ${s.toFixed(3)}`).join(', ')}</td></tr>`;
    })
    .join('');
  const refText = (d.curves[0]?.profile.hypervolume.testLoss.ref ?? [2, 2]).map((r) => +r.toFixed(4)).join(',');
  const bar = d.plane
    ? `<table class="summary"><tr><th>barrier (max over t of L(t) − chord)</th><th>line: train</th><th>line: test</th><th>curve: train</th><th>curve: test</th></tr>${Object.entries(d.plane.barrier.byTask)
        .map(([k, b]) => `<tr><td>${escapeHtml(k)}</td><td>${b.line.train.toFixed(4)}</td><td>${b.line.test.toFixed(4)}</td><td>${b.curve.train.toFixed(4)}</td><td>${b.curve.test.toFixed(4)}</td></tr>`)
        .join('')}</table>`
    : '';
  return `<table class="summary">${head}${rows.join('')}</table>
<table class="summary"><tr><th>curve</th><th>test-loss hypervolume (ref ${refText})</th><th>test-error hypervolume (ref 1,1)</th><th>Spearman(val loss, t)</th></tr>${curves}</table>${bar}`;
}

export const pageStyle = `body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:1200px;color:#222}
h1{font-size:1.4rem}table.summary{border-collapse:collapse;margin:.5rem 0 1rem}
table.summary td,table.summary th{border:1px solid #ccc;padding:.25rem .5rem;font-size:.9rem;text-align:left}
.fig{width:100%;height:520px;margin-bottom:1rem}.muted{color:#666;font-size:.85rem}`;

/** Standalone report page: data and figure specs embedded, plotly loaded from a file beside it. */
export function reportHtml(d: ReportData, figures: Figure[], plotlySrc: string): string {
  const info = d.info;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>extra report — ${escapeHtml(d.run)}</title>
<style>${pageStyle}</style>
<script src="${escapeHtml(plotlySrc)}"></script></head>
<body>
<h1>Trade-offs of ${escapeHtml(info.model.arch)} on ${escapeHtml(info.dataset.name)}</h1>
<p class="muted">run ${escapeHtml(d.run)} · backend ${escapeHtml(info.backend)} · extra ${escapeHtml(info.packages.extra ?? '')} · data fingerprint ${escapeHtml(info.dataset.fingerprint.slice(0, 12))}</p>
${summaryHtml(d)}
${figures.map((f) => `<div class="fig" id="fig-${f.id}" data-title="${escapeHtml(f.title)}"></div>`).join('\n')}
<script id="extra-figures" type="application/json">${scriptJson(figures)}</script>
<script>
(function () {
  var figs = JSON.parse(document.getElementById('extra-figures').textContent);
  var pending = figs.map(function (f) {
    return Plotly.newPlot('fig-' + f.id, f.data, f.layout, { responsive: true, displaylogo: false });
  });
  Promise.all(pending).then(function () { window.__extraDrawn = true; });
})();
</script>
</body></html>
`;
}
