import { writeFileSync } from 'node:fs';
import { renderFigurePngs, plotlyFile } from '../../report/index.js';

/** A Plotly figure as DIR/ID.png, drawn by Chromium from a small page at `html` (plotly.js from plotly.js-dist). */
export async function figurePng(fig: { id: string; data: unknown[]; layout: Record<string, unknown> }, html: string, pngDir: string): Promise<{ files: string[]; skipped?: string }> {
  writeFileSync(html, `<!doctype html><html><head><script src="file://${plotlyFile()}"></script></head><body><div id="fig-${fig.id}" style="width:900px;height:600px"></div><script>Plotly.newPlot('fig-${fig.id}', ${JSON.stringify(fig.data)}, ${JSON.stringify(fig.layout)}).then(() => { window.__extraDrawn = true; });</script></body></html>`);
  return renderFigurePngs(html, [fig.id], pngDir);
}
