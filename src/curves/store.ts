import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { FileFormatError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors } from '../io/index.js';
import { validateKnots } from '../nurbs/index.js';
import { controlPoints, currentWeights, type WeightCurve } from './curve.js';
import { type CurveGeometry, type CurveOrientation } from './types.js';
import { curveKinds } from './kinds/index.js';
import { z } from 'zod';
import { finite, count } from '../io/json-file.js';
import { readFilePair, writeFilePair, type FilePair } from '../io/file-pair.js';
import { curvePairFiles } from '../run/layout.js';

const orientationSchema = z.object({ taskA: count, taskB: count, aligned: count.nullable().optional() });

/** curve.json as written by saveCurve; the knots are checked further by validateKnots. */
export const curveFileSchema = z
  .object({
    format: z.literal('extra-curve'),
    version: z.literal(1),
    geometry: z.object({
      kind: z.string().refine((k) => curveKinds.includes(k), { message: `must be one of ${curveKinds.join(', ')}` }),
      degree: z.number().int().min(1).max(16),
      knots: z.array(finite),
      weights: z.array(finite.positive()),
      nControls: z.number().int().min(2).max(64),
      trainWeights: z.boolean(),
    }),
    endpoints: z.tuple([z.string().min(1), z.string().min(1)]),
    orientation: orientationSchema,
    taskNames: z.array(z.string()).min(1),
    fit: z.record(z.unknown()),
    epochs: count,
    seconds: finite,
    /** sha256 of controls.safetensors: the pair is checked, and it is the curve's identity (curveFingerprint) */
    controlsSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  .passthrough()
  .refine((f) => f.geometry.weights.length === f.geometry.nControls, { message: 'geometry.weights must have one entry per control point', path: ['geometry', 'weights'] })
  .refine((f) => f.endpoints[0] !== f.endpoints[1], { message: 'a curve needs two different endpoints', path: ['endpoints'] });

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
  controlsSha256?: string;
}

const curvePair = (dir: string): FilePair => ({ dir, ...curvePairFiles });

/**
 * Save a fitted curve: controls.safetensors (every control point, endpoints included, so the curve is
 * self-contained; names `cp{i}/{param}`) and curve.json (geometry, fit settings, the controls' sha256),
 * as one pair (src/io/file-pair.ts): a re-fit never leaves a moment without a complete curve.
 */
export async function saveCurve(dir: string, curve: WeightCurve, trainable: readonly tf.Tensor[], meta: Omit<CurveFile, 'format' | 'version' | 'geometry' | 'controlsSha256'>): Promise<void> {
  const pts = controlPoints(curve, trainable);
  const entries = pts.flatMap((p, i) =>
    p.map((t, j) => ({ name: `cp${i}/${curve.paramNames[j]}`, shape: t.shape, data: t.dataSync() as Float32Array })),
  );
  const geometry = { ...curve.geometry, weights: currentWeights(curve, trainable) };
  const file: Omit<CurveFile, 'controlsSha256'> = { format: 'extra-curve', version: 1, geometry, ...meta };
  await writeFilePair(curvePair(dir), { ...file }, encodeSafetensors(entries, { format: 'extra-curve-controls' }));
}

function readCurveFiles(dir: string, runDir: string) {
  return readFilePair(curvePair(dir), curveFileSchema, `no fitted curve in ${dir}; run 'extra curve fit --run ${runDir}' first`, `run 'extra curve fit --run ${runDir}' again`);
}

/** What identifies a fitted curve (curve.json with the controls' digest): a profile records the one it measured. */
export async function curveFingerprint(dir: string, runDir: string): Promise<string> {
  return (await readCurveFiles(dir, runDir)).fingerprint;
}

export interface LoadedCurve {
  file: CurveFile;
  curve: WeightCurve;
  /** trainable list in the layout of curve.ts (interior control points, then log-weights) */
  trainable: tf.Tensor[];
  /** curveFingerprint of the files it was loaded from */
  fingerprint: string;
}

export async function loadCurve(dir: string, paramNames: string[], paramShapes: number[][], runDir: string): Promise<LoadedCurve> {
  const jf = path.join(dir, curvePairFiles.json);
  const { value, data, fingerprint } = await readCurveFiles(dir, runDir);
  const file = value as CurveFile;
  const g = file.geometry;
  try {
    validateKnots(g.knots, g.nControls, g.degree);
  } catch (e) {
    throw new FileFormatError(`${jf}: field geometry.knots: ${(e as Error).message}`);
  }
  if (g.weights.length !== g.nControls || g.weights.some((w) => !(w > 0) || !Number.isFinite(w))) {
    throw new FileFormatError(`${jf}: weights must be ${g.nControls} positive numbers`);
  }
  const dec = decodeSafetensors(data, path.join(dir, curvePairFiles.data));
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
  return { file, curve, trainable, fingerprint };
}
