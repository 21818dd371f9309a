import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ExtraInputError, FileFormatError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors } from '../io/index.js';
import { validateKnots } from '../nurbs/index.js';
import { writeFileAtomic, exists } from '../util/fs.js';
import { controlPoints, currentWeights, type WeightCurve } from './curve.js';
import { type CurveGeometry, type CurveOrientation } from './types.js';
import { curveKinds } from './kinds/index.js';
import { z } from 'zod';
import { parseJsonWith, finite, count } from '../io/json-file.js';

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

const CURVE_FILE = 'curve.json';
const CONTROLS_FILE = 'controls.safetensors';
/** the finished new curve, complete, before it replaces the current one (see saveCurve) */
const NEXT_CURVE_FILE = 'curve.next.json';
const NEXT_CONTROLS_FILE = 'controls.next.safetensors';

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

function jsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

async function readOrNull(file: string): Promise<Buffer | null> {
  return fsp.readFile(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
}

/**
 * Save a fitted curve: controls.safetensors (every control point, endpoints included, so the curve is
 * self-contained; names `cp{i}/{param}`) and curve.json (geometry, fit settings, the controls' sha256).
 * A re-fit must never leave a moment without a valid curve, and two files cannot be renamed at once,
 * so the new pair is first written complete beside the old one (curve.next.json + controls.next
 * .safetensors), then moved in: controls first, curve.json last. A kill before the moves keeps the old
 * curve; a kill between them leaves controls whose sha256 is the one in curve.next.json, and every
 * reader then takes that complete new curve (readCurveFiles), which the next save or load finishes moving.
 */
export async function saveCurve(dir: string, curve: WeightCurve, trainable: readonly tf.Tensor[], meta: Omit<CurveFile, 'format' | 'version' | 'geometry' | 'controlsSha256'>): Promise<void> {
  const pts = controlPoints(curve, trainable);
  const entries = pts.flatMap((p, i) =>
    p.map((t, j) => ({ name: `cp${i}/${curve.paramNames[j]}`, shape: t.shape, data: t.dataSync() as Float32Array })),
  );
  const geometry = { ...curve.geometry, weights: currentWeights(curve, trainable) };
  const bytes = encodeSafetensors(entries, { format: 'extra-curve-controls' });
  const file: CurveFile = { format: 'extra-curve', version: 1, geometry, ...meta, controlsSha256: sha256(bytes) };
  await writeFileAtomic(path.join(dir, NEXT_CONTROLS_FILE), bytes);
  await writeFileAtomic(path.join(dir, NEXT_CURVE_FILE), JSON.stringify(file, null, 2) + '\n');
  await fsp.rename(path.join(dir, NEXT_CONTROLS_FILE), path.join(dir, CONTROLS_FILE));
  await fsp.rename(path.join(dir, NEXT_CURVE_FILE), path.join(dir, CURVE_FILE));
}

/** The text of curve.json and the bytes of controls.safetensors that belong together, checked. */
async function readCurveFiles(dir: string, runDir: string): Promise<{ file: CurveFile; text: string; controls: Buffer; fingerprint: string }> {
  const jf = path.join(dir, CURVE_FILE);
  const cf = path.join(dir, CONTROLS_FILE);
  const [text, controls] = await Promise.all([readOrNull(jf), readOrNull(cf)]);
  if (text === null) throw new ExtraInputError(`no fitted curve in ${dir}; run 'extra curve fit --run ${runDir}' first`);
  if (controls === null) throw new FileFormatError(`${cf} is missing (curve.json is there); run 'extra curve fit --run ${runDir}' again`);
  const file = parseJsonWith(curveFileSchema, text.toString('utf8'), jf) as CurveFile;
  const digest = sha256(controls);
  if (file.controlsSha256 === undefined) {
    // a curve saved before curve.json carried the controls' digest: its identity is both files
    return { file, text: text.toString('utf8'), controls, fingerprint: sha256(text.toString('utf8') + digest) };
  }
  if (file.controlsSha256 === digest) return { file, text: text.toString('utf8'), controls, fingerprint: sha256(text) };
  // a save killed between its two moves: the complete new curve is curve.next.json
  const nf = path.join(dir, NEXT_CURVE_FILE);
  const next = await readOrNull(nf);
  const nextFile = next === null ? null : curveFileSchema.safeParse(jsonOrNull(next.toString('utf8')));
  if (next !== null && nextFile?.success && nextFile.data.controlsSha256 === digest) {
    await fsp.rename(nf, jf).catch(() => undefined); // finish the move (another reader may have done it)
    return { file: nextFile.data as CurveFile, text: next.toString('utf8'), controls, fingerprint: sha256(next) };
  }
  decodeSafetensors(new Uint8Array(controls.buffer, controls.byteOffset, controls.byteLength), cf); // a damaged file says how
  throw new FileFormatError(`${cf} does not match ${jf} (changed or truncated since the fit); run 'extra curve fit --run ${runDir}' again`);
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
  const jf = path.join(dir, CURVE_FILE);
  const { file, controls, fingerprint } = await readCurveFiles(dir, runDir);
  const g = file.geometry;
  try {
    validateKnots(g.knots, g.nControls, g.degree);
  } catch (e) {
    throw new FileFormatError(`${jf}: field geometry.knots: ${(e as Error).message}`);
  }
  if (g.weights.length !== g.nControls || g.weights.some((w) => !(w > 0) || !Number.isFinite(w))) {
    throw new FileFormatError(`${jf}: weights must be ${g.nControls} positive numbers`);
  }
  const dec = decodeSafetensors(new Uint8Array(controls.buffer, controls.byteOffset, controls.byteLength), path.join(dir, CONTROLS_FILE));
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
