import { escapeHtml, pageStyle, scriptJson } from '../report/index.js';
import type { TaskMetrics } from '../train/metrics.js';
import type { Figure } from '../report/index.js';

/**
 * The explorer page: the front with a marker for the current t, a t slider, a preference input, the
 * predicted numbers (interpolated from the profile, as `extra query --no-refine` does), an "evaluate
 * here" button for real test-set numbers, a "tune" button (the point at the preference trained a few
 * steps at its own scalarization, as `extra query --tune` does) and export links. Data comes embedded; actions call the API.
 */
export function explorerHtml(opts: {
  title: string;
  taskNames: string[];
  axes?: [number, number];
  front: Figure;
  points: { t: number; test: TaskMetrics[] }[];
  /** loss-landscape panels (extra plane) and the curve's projection, for the current-t marker */
  plane?: { figures: Figure[]; curvePath: { t: number; a: number; b: number }[] };
}): string {
  const n = opts.taskNames.length;
  const prefInputs =
    n === 2
      ? `<label>preference: ${escapeHtml(opts.taskNames[0])} <input id="pref" type="range" min="0" max="1000" value="500"> ${escapeHtml(opts.taskNames[1])}</label> <span id="pref-text"></span>`
      : opts.taskNames.map((t, k) => `<label>${escapeHtml(t)} <input class="pref-k" data-k="${k}" type="number" min="0" step="0.05" value="1"></label>`).join(' ') + ' <button id="pref-go">match</button>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>extra explorer — ${escapeHtml(opts.title)}</title>
<style>${pageStyle}
#controls{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:.5rem 0}#t{width:28rem}
table.nums td,table.nums th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}
.strip{display:flex;flex-wrap:wrap;gap:.6rem}.maps{display:flex;gap:2px;justify-content:center}.ex{border:1px solid #ddd;padding:.3rem;font-size:.8rem;text-align:center}
.ex canvas{width:72px;height:72px;image-rendering:pixelated;display:block;margin:0 auto}.ok{color:#2a7}.bad{color:#d22}
.planes{display:flex;flex-wrap:wrap;gap:.5rem}</style>
<script src="/plotly.js"></script></head>
<body>
<h1>extra explorer — ${escapeHtml(opts.title)}</h1>
<div class="fig" id="front"></div>
<div id="controls">
  <label>t <input id="t" type="range" min="0" max="1000" value="500"> <output id="t-value"></output></label>
  ${prefInputs}
  <select id="method"><option>chebyshev</option><option>ls</option><option>ray</option></select>
</div>
<table class="nums"><thead><tr><th>task</th><th>predicted test loss</th><th>predicted test accuracy (MAE)</th><th>evaluated test loss</th><th>evaluated test accuracy (MAE)</th></tr></thead>
<tbody>${opts.taskNames.map((t, k) => `<tr><th>${escapeHtml(t)}</th><td id="pl-${k}"></td><td id="pa-${k}"></td><td id="el-${k}"></td><td id="ea-${k}"></td></tr>`).join('')}</tbody></table>
<p><button id="evaluate">evaluate here</button> <span id="eval-status" class="muted"></span></p>
<p><label>tune at the preference <input id="tune-steps" type="number" min="1" max="5000" step="1" value="200"> steps</label> <button id="tune">tune</button> <span id="tune-status" class="muted"></span>
<span id="tune-export" hidden>· export the tuned model: <a id="tune-tfjs" download>tfjs (zip)</a> · <a id="tune-st" download>safetensors</a> · <a id="tune-onnx" download>onnx</a></span></p>
<p><a id="export-tfjs" download>export tfjs (zip)</a> · <a id="export-st" download>export safetensors</a> · <a id="export-onnx" download>export onnx</a></p>
<h2>Predictions at t</h2>
<p class="muted">Test examples with each task's predicted label and confidence at the current t (✓ correct, ✗ wrong).</p>
<div class="strip" id="strip"></div>
<h2>Where the curve disagrees with itself</h2>
<p class="muted">The test examples whose predicted labels change most along the curve (per-pixel tasks: by the share of pixels whose class changes), at the current t.</p>
<div class="strip" id="disagree"></div>
${opts.plane ? `<h2>Loss landscape around the curve</h2><div class="planes">${opts.plane.figures.map((f) => `<div class="plane" id="${escapeHtml(f.id)}"></div>`).join('')}</div>` : ''}
<script id="extra-data" type="application/json">${scriptJson({ front: opts.front, points: opts.points, taskNames: opts.taskNames, axes: opts.axes ?? [0, 1], plane: opts.plane ?? null })}</script>
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
    // every fit metric a task has (accuracy, MAE, or a per-pixel task's), interpolated like the loss
    return a.test.map(function (m, k) {
      var n = b.test[k], out = {};
      Object.keys(m).forEach(function (key) { if (typeof m[key] === 'number' && typeof n[key] === 'number') out[key] = (1 - w) * m[key] + w * n[key]; });
      return out;
    });
  }
  function pct(v) { return (100 * v).toFixed(2) + '%'; }
  function fit(m) {
    if (m.accuracy !== undefined) return pct(m.accuracy);
    if (m.mae !== undefined) return 'MAE ' + m.mae.toFixed(4);
    if (m.miou !== undefined) return 'mIoU ' + pct(m.miou) + ', pixel acc ' + pct(m.pixelAccuracy);
    if (m.absErr !== undefined) return 'abs err ' + m.absErr.toFixed(4) + ', rel err ' + m.relErr.toFixed(4);
    if (m.meanAngle !== undefined) return 'mean angle ' + m.meanAngle.toFixed(2) + '°, median ' + m.medianAngle.toFixed(2) + '°';
    return '—';
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
      document.getElementById('pa-' + k).textContent = fit(m[k]);
      document.getElementById('el-' + k).textContent = '';
      document.getElementById('ea-' + k).textContent = '';
    }
    document.getElementById('export-tfjs').href = '/api/export?format=tfjs&t=' + t;
    document.getElementById('export-st').href = '/api/export?format=safetensors&t=' + t;
    document.getElementById('export-onnx').href = '/api/export?format=onnx&t=' + t;
    if (window.__extraReady) Plotly.restyle('front', { x: [[m[D.axes[0]].loss]], y: [[m[D.axes[1]].loss]] }, [markerTrace]);
    if (D.plane && window.__extraPlanes) {
      var c = planeAt(t);
      D.plane.figures.forEach(function (f) { Plotly.restyle(f.id, { x: [[c.a]], y: [[c.b]] }, [f.data.length - 1]); });
    }
    requestPredictions();
  }
  function planeAt(t) {
    var C = D.plane.curvePath, i = 0;
    while (i < C.length - 2 && C[i + 1].t < t) i++;
    var w = C[i + 1].t === C[i].t ? 0 : Math.min(1, Math.max(0, (t - C[i].t) / (C[i + 1].t - C[i].t)));
    return { a: (1 - w) * C[i].a + w * C[i + 1].a, b: (1 - w) * C[i].b + w * C[i + 1].b };
  }
  if (D.plane) {
    Promise.all(D.plane.figures.map(function (f) { return Plotly.newPlot(f.id, f.data, f.layout, { displaylogo: false }); })).then(function () { window.__extraPlanes = true; update(); });
  }
  // predictions: debounced, and never more than one request in flight (the newest t wins)
  var predTimer = null, predBusy = false, predWanted = null;
  function requestPredictions() {
    if (predTimer) clearTimeout(predTimer);
    predTimer = setTimeout(function () { predWanted = currentT(); pumpPredictions(); }, 150);
  }
  function pumpPredictions() {
    if (predBusy || predWanted === null) return;
    var t = predWanted;
    predWanted = null;
    predBusy = true;
    Promise.all(['strip', 'disagree'].map(function (set) {
      return fetch('/api/predictions?set=' + set + '&t=' + t).then(function (r) { return r.json(); }).then(function (r) { if (!r.error) drawStrip(set === 'strip' ? 'strip' : 'disagree', r); });
    })).finally(function () { predBusy = false; window.__extraPredT = t; pumpPredictions(); });
  }
  // colours of classes (the ignore label −1 black), depth as grey scaled to the target's range, normals as (n + 1) / 2
  var classColours = [[31,119,180],[214,39,40],[44,160,44],[148,103,189],[255,127,14],[140,86,75],[227,119,194],[23,190,207],[188,189,34],[127,127,127],[230,230,230],[174,199,232],[255,152,150],[152,223,138],[197,176,213]];
  function pixelCanvas(p, values, title) {
    var cv = document.createElement('canvas');
    cv.width = p.width; cv.height = p.height; cv.title = title;
    cv.style.width = (2 * p.width) + 'px';
    cv.style.imageRendering = 'pixelated';
    var ctx = cv.getContext('2d'), img = ctx.createImageData(p.width, p.height);
    var lo = Infinity, hi = -Infinity;
    if (p.kind === 'depth') p.target.forEach(function (v) { if (v !== 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    for (var i = 0; i < p.width * p.height; i++) {
      var rgb;
      if (p.kind === 'seg') rgb = values[i] < 0 ? [0, 0, 0] : classColours[values[i] % classColours.length];
      else if (p.kind === 'depth') { var g = hi > lo ? 255 * (1 - (values[i] - lo) / (hi - lo)) : 128; g = Math.max(0, Math.min(255, g)); rgb = [g, g, g]; }
      else rgb = [0, 1, 2].map(function (c) { return 127.5 * (values[3 * i + c] + 1); });
      img.data[4 * i] = rgb[0]; img.data[4 * i + 1] = rgb[1]; img.data[4 * i + 2] = rgb[2]; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return cv;
  }
  function drawStrip(id, r) {
    var el = document.getElementById(id);
    el.innerHTML = '';
    r.examples.forEach(function (e) {
      var box = document.createElement('div');
      box.className = 'ex';
      box.setAttribute('data-index', e.index);
      var cv = document.createElement('canvas');
      var h = e.image.length, w = e.image[0].length;
      cv.width = w; cv.height = h;
      var ctx = cv.getContext('2d'), img = ctx.createImageData(w, h);
      for (var i = 0; i < h; i++) for (var j = 0; j < w; j++) { var q = 4 * (i * w + j), g = e.image[i][j]; img.data[q] = img.data[q + 1] = img.data[q + 2] = g; img.data[q + 3] = 255; }
      ctx.putImageData(img, 0, 0);
      box.appendChild(cv);
      e.tasks.forEach(function (p, k) {
        var line = document.createElement('div');
        if (p.kind) {
          // a per-pixel task: its predicted map beside the target (seg in colour, depth grey, normals as RGB)
          var pair = document.createElement('div');
          pair.className = 'maps';
          pair.appendChild(pixelCanvas(p, p.predicted, 'predicted'));
          pair.appendChild(pixelCanvas(p, p.target, 'target'));
          box.appendChild(pair);
          line.className = 'pred';
          line.textContent = r.taskNames[k] + ': ' + (p.kind === 'seg' ? (100 * p.score).toFixed(0) + '% of pixels right' : p.kind === 'depth' ? 'abs err ' + p.score.toFixed(3) : 'mean angle ' + p.score.toFixed(1) + '°');
          box.appendChild(line);
          return;
        }
        if (p.confidence === null) {
          // a regression task: the predicted value next to the target
          line.className = 'pred';
          line.textContent = r.taskNames[k] + ': ' + p.predicted.toFixed(3) + ' (target ' + p.label.toFixed(3) + ')';
          box.appendChild(line);
          return;
        }
        line.className = 'pred ' + (p.predicted === p.label ? 'ok' : 'bad');
        line.textContent = r.taskNames[k] + ': ' + p.predicted + ' (' + (100 * p.confidence).toFixed(0) + '%) ' + (p.predicted === p.label ? '✓' : '✗');
        box.appendChild(line);
      });
      el.appendChild(box);
    });
  }
  tInput.addEventListener('input', update);
  function prefVector() {
    var p = document.getElementById('pref');
    // (1000 − v) / 1000, not 1 − r: 0.1, not 0.09999999999999998
    if (p) return [Number(p.value) / 1000, (1000 - Number(p.value)) / 1000];
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
          document.getElementById('ea-' + k).textContent = fit(r.test[name]);
        });
        status.textContent = 'evaluated at t = ' + r.t.toFixed(3) + ' in ' + r.seconds.toFixed(2) + ' s';
      });
  });
  document.getElementById('tune').addEventListener('click', function () {
    var status = document.getElementById('tune-status');
    var steps = Number(document.getElementById('tune-steps').value);
    document.getElementById('tune-export').hidden = true;
    status.textContent = 'tuning ' + steps + ' steps…';
    fetch('/api/tune', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pref: prefVector(), method: document.getElementById('method').value, steps: steps }) })
      .then(function (res) { return res.json(); })
      .then(function (r) {
        if (r.error) { status.textContent = r.error; return; }
        status.textContent = 't* = ' + r.t.toFixed(4) + ': ' + r.method + ' value of the test losses ' + r.before.testCriterion.toFixed(4) + ' on the curve → ' + r.after.testCriterion.toFixed(4) + ' tuned (' + r.steps + ' steps, ' + r.seconds.toFixed(1) + ' s)';
        ['tfjs', 'safetensors', 'onnx'].forEach(function (f, i) { document.getElementById(['tune-tfjs', 'tune-st', 'tune-onnx'][i]).href = '/api/export?format=' + f + '&tuned=' + encodeURIComponent(r.id); });
        document.getElementById('tune-export').hidden = false;
        window.__extraTuned = r;
      })
      .catch(function (e) { status.textContent = String(e); });
  });
})();
</script>
</body></html>
`;
}
