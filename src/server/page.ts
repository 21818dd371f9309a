import { escapeHtml, pageStyle, scriptJson } from '../report/index.js';
import type { Figure } from '../report/index.js';

/**
 * The explorer page: the front with a marker for the current t, a t slider, a preference input, the
 * predicted numbers (interpolated from the profile, as `extra query --no-refine` does), an "evaluate
 * here" button for real test-set numbers and export links. Data comes embedded; actions call the API.
 */
export function explorerHtml(opts: { title: string; taskNames: string[]; axes?: [number, number]; front: Figure; points: { t: number; test: { loss: number; accuracy: number }[] }[] }): string {
  const n = opts.taskNames.length;
  const prefInputs =
    n === 2
      ? `<label>preference: ${escapeHtml(opts.taskNames[0])} <input id="pref" type="range" min="0" max="1000" value="500"> ${escapeHtml(opts.taskNames[1])}</label> <span id="pref-text"></span>`
      : opts.taskNames.map((t, k) => `<label>${escapeHtml(t)} <input class="pref-k" data-k="${k}" type="number" min="0" step="0.05" value="1"></label>`).join(' ') + ' <button id="pref-go">match</button>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>extra explorer — ${escapeHtml(opts.title)}</title>
<style>${pageStyle}
#controls{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:.5rem 0}#t{width:28rem}
table.nums td,table.nums th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}</style>
<script src="/plotly.js"></script></head>
<body>
<h1>extra explorer — ${escapeHtml(opts.title)}</h1>
<div class="fig" id="front"></div>
<div id="controls">
  <label>t <input id="t" type="range" min="0" max="1000" value="500"> <output id="t-value"></output></label>
  ${prefInputs}
  <select id="method"><option>chebyshev</option><option>ls</option><option>ray</option></select>
</div>
<table class="nums"><thead><tr><th>task</th><th>predicted test loss</th><th>predicted test accuracy</th><th>evaluated test loss</th><th>evaluated test accuracy</th></tr></thead>
<tbody>${opts.taskNames.map((t, k) => `<tr><th>${escapeHtml(t)}</th><td id="pl-${k}"></td><td id="pa-${k}"></td><td id="el-${k}"></td><td id="ea-${k}"></td></tr>`).join('')}</tbody></table>
<p><button id="evaluate">evaluate here</button> <span id="eval-status" class="muted"></span></p>
<p><a id="export-tfjs" download>export tfjs (zip)</a> · <a id="export-st" download>export safetensors</a></p>
<script id="extra-data" type="application/json">${scriptJson({ front: opts.front, points: opts.points, taskNames: opts.taskNames, axes: opts.axes ?? [0, 1] })}</script>
<script>
(function () {
  var D = JSON.parse(document.getElementById('extra-data').textContent);
  var P = D.points, K = D.taskNames.length;
  var tInput = document.getElementById('t');
  function interp(t) {
    var i = 0;
    while (i < P.length - 2 && P[i + 1].t < t) i++;
    var a = P[i], b = P[Math.min(i + 1, P.length - 1)];
    var w = b.t === a.t ? 0 : (t - a.t) / (b.t - a.t);
    return a.test.map(function (m, k) { return { loss: (1 - w) * m.loss + w * b.test[k].loss, accuracy: (1 - w) * m.accuracy + w * b.test[k].accuracy }; });
  }
  var fig = D.front;
  fig.data.push({ type: 'scatter', mode: 'markers', name: 'current t', x: [0], y: [0], marker: { symbol: 'x', size: 18, color: '#e00', line: { width: 2 } } });
  var markerTrace = fig.data.length - 1;
  Plotly.newPlot('front', fig.data, fig.layout, { responsive: true, displaylogo: false }).then(function () { window.__extraReady = true; update(); });
  function currentT() { return Number(tInput.value) / 1000; }
  function update() {
    var t = currentT(), m = interp(t);
    document.getElementById('t-value').textContent = t.toFixed(3);
    for (var k = 0; k < K; k++) {
      document.getElementById('pl-' + k).textContent = m[k].loss.toFixed(4);
      document.getElementById('pa-' + k).textContent = (100 * m[k].accuracy).toFixed(2) + '%';
      document.getElementById('el-' + k).textContent = '';
      document.getElementById('ea-' + k).textContent = '';
    }
    document.getElementById('export-tfjs').href = '/api/export?format=tfjs&t=' + t;
    document.getElementById('export-st').href = '/api/export?format=safetensors&t=' + t;
    if (window.__extraReady) Plotly.restyle('front', { x: [[m[D.axes[0]].loss]], y: [[m[D.axes[1]].loss]] }, [markerTrace]);
  }
  tInput.addEventListener('input', update);
  function prefVector() {
    var p = document.getElementById('pref');
    if (p) { var r = Number(p.value) / 1000; return [r, 1 - r]; }
    return Array.prototype.map.call(document.querySelectorAll('.pref-k'), function (e) { return Number(e.value); });
  }
  function matchPreference() {
    var r = prefVector();
    var txt = document.getElementById('pref-text');
    if (txt) txt.textContent = r.map(function (v) { return v.toFixed(2); }).join(' : ');
    fetch('/api/query?method=' + document.getElementById('method').value + '&pref=' + r.join(','))
      .then(function (res) { return res.json(); })
      .then(function (q) { if (typeof q.t === 'number') { tInput.value = String(Math.round(q.t * 1000)); update(); } });
  }
  var p = document.getElementById('pref');
  if (p) p.addEventListener('change', matchPreference); else document.getElementById('pref-go').addEventListener('click', matchPreference);
  document.getElementById('method').addEventListener('change', matchPreference);
  document.getElementById('evaluate').addEventListener('click', function () {
    var status = document.getElementById('eval-status');
    status.textContent = 'evaluating on the test set…';
    fetch('/api/evaluate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ t: currentT() }) })
      .then(function (res) { return res.json(); })
      .then(function (r) {
        if (r.error) { status.textContent = r.error; return; }
        D.taskNames.forEach(function (name, k) {
          document.getElementById('el-' + k).textContent = r.test[name].loss.toFixed(4);
          document.getElementById('ea-' + k).textContent = (100 * r.test[name].accuracy).toFixed(2) + '%';
        });
        status.textContent = 'evaluated at t = ' + r.t.toFixed(3) + ' in ' + r.seconds.toFixed(2) + ' s';
      });
  });
})();
</script>
</body></html>
`;
}
