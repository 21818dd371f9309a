import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ExtraInputError, FileFormatError } from '../errors.js';
import { readSafetensors, writeSafetensors } from '../io/index.js';
import { validateKnots } from '../nurbs/index.js';
import { writeJsonAtomic, exists } from '../util/fs.js';
import { controlPoints, currentWeights, type WeightCurve } from './curve.js';
import type { CurveGeometry, CurveOrientation } from './types.js';

/** curve.json: geometry, which endpoints, orientation and fit settings. */
export interface CurveFile {
  format: 'extra-curve';
  version: 1;
  geometry: CurveGeometry;
  endpoints: [string, string];
  orientation: CurveOrientation;
  taskNames: string[];
  fit: Record<string, unknown>;
  epochs: number;
  seconds: number;
}

/**
 * Writes controls.safetensors (every control point, endpoints included, so the curve is
 * self-contained; names `cp{i}/{param}`) and then curve.json — the file that marks a finished fit.
 */
export async function saveCurve(dir: string, curve: WeightCurve, trainable: readonly tf.Tensor[], meta: Omit<CurveFile, 'format' | 'version' | 'geometry'>): Promise<void> {
  const pts = controlPoints(curve, trainable);
  const entries = pts.flatMap((p, i) =>
    p.map((t, j) => ({ name: `cp${i}/${curve.paramNames[j]}`, shape: t.shape, data: t.dataSync() as Float32Array })),
  );
  const geometry = { ...curve.geometry, weights: currentWeights(curve, trainable) };
  await writeSafetensors(path.join(dir, 'controls.safetensors'), entries, { format: 'extra-curve-controls' });
  const file: CurveFile = { format: 'extra-curve', version: 1, geometry, ...meta };
  await writeJsonAtomic(path.join(dir, 'curve.json'), file);
}

export interface LoadedCurve {
  file: CurveFile;
  curve: WeightCurve;
  /** trainable list in the layout of curve.ts (interior control points, then log-weights) */
  trainable: tf.Tensor[];
}

export async function loadCurve(dir: string, paramNames: string[], paramShapes: number[][], runDir: string): Promise<LoadedCurve> {
  const jf = path.join(dir, 'curve.json');
  if (!(await exists(jf))) {
    throw new ExtraInputError(`no fitted curve in ${dir}; run 'extra curve fit --run ${runDir}' first`);
  }
  let file: CurveFile;
  try {
    file = JSON.parse(await fsp.readFile(jf, 'utf8')) as CurveFile;
  } catch {
    throw new FileFormatError(`${jf} is not valid JSON (truncated?)`);
  }
  if (file.format !== 'extra-curve') throw new FileFormatError(`${jf} is not an extra curve file`);
  const g = file.geometry;
  validateKnots(g.knots, g.nControls, g.degree);
  if (g.weights.length !== g.nControls || g.weights.some((w) => !(w > 0) || !Number.isFinite(w))) {
    throw new FileFormatError(`${jf}: weights must be ${g.nControls} positive numbers`);
  }
  const dec = await readSafetensors(path.join(dir, 'controls.safetensors'));
  const byName = new Map(dec.tensors.map((t) => [t.name, t]));
  const pts: tf.Tensor[][] = [];
  for (let i = 0; i < g.nControls; i++) {
    pts.push(
      paramNames.map((n, j) => {
        const t = byName.get(`cp${i}/${n}`);
        if (!t) throw new FileFormatError(`${dir}/controls.safetensors lacks control point ${i} tensor ${n}`);
        if (t.shape.join(',') !== paramShapes[j].join(',')) throw new FileFormatError(`${dir}/controls.safetensors: cp${i}/${n} has shape [${t.shape}], expected [${paramShapes[j]}]`);
        return tf.tensor(t.data, t.shape);
      }),
    );
  }
  const curve: WeightCurve = { geometry: g, paramNames, ends: [pts[0], pts[g.nControls - 1]] };
  const trainable = pts.slice(1, -1).flat();
  if (g.trainWeights) trainable.push(tf.tensor1d(g.weights.map((w) => Math.log(w))));
  return { file, curve, trainable };
}
