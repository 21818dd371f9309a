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
