import { promises as fsp } from 'node:fs';
import { ExtraInputError, FileFormatError } from '../errors.js';
import { describeSystemError } from '../util/system-errors.js';
import { importOnnx, onnxModelSpec, type OnnxImport } from '../models/onnx/import.js';
import type { ModelSpec, TaskLoss } from '../models/index.js';
import { writeFileAtomic } from '../util/fs.js';
import { sourceOnnxFile } from '../run/index.js';

/** An ONNX file read and translated (a missing or unreadable file is one line). */
export async function readOnnxFile(file: string): Promise<{ imp: OnnxImport; bytes: Uint8Array }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fsp.readFile(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ExtraInputError(code === 'ENOENT' ? `${file} does not exist` : code === 'EISDIR' ? `${file} is a directory, not an .onnx file` : describeSystemError(e, file) ?? `${file} cannot be read (${code ?? 'error'})`);
  }
  const imp = importOnnx(bytes, file);
  assertFiniteWeights(imp, file);
  return { imp, bytes };
}

/** A NaN or infinite weight (or statistic) is a broken model, never something to import or train from. */
function assertFiniteWeights(imp: OnnxImport, file: string): void {
  for (const [name, t] of imp.weights) {
    for (let q = 0; q < t.data.length; q++) {
      if (Number.isFinite(t.data[q])) continue;
      const at: number[] = [];
      for (let i = t.shape.length - 1, r = q; i >= 0; i--) {
        at.unshift(r % t.shape[i]);
        r = Math.floor(r / t.shape[i]);
      }
      throw new FileFormatError(`${file}: tensor ${name} holds a non-finite value (${t.data[q]}) at index ${q} ([${at.join(', ')}] of shape [${t.shape.join(', ')}]); extra does not import a model with NaN or infinite weights`);
    }
  }
}

/** A run's model spec from an ONNX file for a data set, and the file's bytes (kept in the run). */
export async function onnxFileSpec(file: string, data: { inputShape: number[]; numClasses: number[]; taskNames: string[]; taskKinds?: TaskLoss[] }, losses?: TaskLoss[], tasks?: string[]): Promise<{ spec: ModelSpec; bytes: Uint8Array; imp: OnnxImport }> {
  const { imp, bytes } = await readOnnxFile(file);
  return { spec: onnxModelSpec(imp, file, data, losses, tasks), bytes, imp };
}

/**
 * The ONNX file an ONNX-made run keeps (RUN/model.onnx), checked against the run before anything is
 * written from it: it must still read as ONNX, be the run's network, and hold one initializer of the
 * run's shape for every weight (a file swapped for another network's would write wrong tensors).
 */
export async function readRunOnnxSource(runDir: string, model: ModelSpec, dataset: { inputShape: number[]; numClasses: number[]; taskNames: string[] }): Promise<Uint8Array> {
  const source = sourceOnnxFile(runDir);
  if (!(await fsp.lstat(source).catch(() => null))) throw new ExtraInputError(`${source} is missing: the run's ONNX source is gone (import the endpoints again)`);
  const { imp, bytes } = await readOnnxFile(source);
  const mine = onnxModelSpec(imp, source, dataset, model.losses, undefined);
  const bad = onnxGraphDifferences(model, { ...mine, losses: model.losses }, 'the run', source);
  if (bad) throw new FileFormatError(`${bad}; the run's ONNX source was replaced (put the original back, or import the endpoints into a new run)`);
  return bytes;
}

/** Keep the ONNX file a run's model came from (its `export --format onnx` writes it with new weights). */
export async function keepSourceOnnx(run: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(sourceOnnxFile(run), bytes);
}

/**
 * Why two ONNX-made specs are not the same network (null when they are): layer by layer, every
 * difference of class, configuration, inputs or weight names, listed in one line.
 */
export function onnxGraphDifferences(a: ModelSpec, b: ModelSpec, aName: string, bName: string): string | null {
  const la = a.graph?.layers ?? [];
  const lb = b.graph?.layers ?? [];
  const diffs: string[] = [];
  // layers are compared by position: node names may differ between two exports of one network
  const position = (g: NonNullable<ModelSpec['graph']> | undefined) => new Map<string, number>([[g?.input ?? '', -1], ...(g?.layers ?? []).map((l, i) => [l.name, i] as [string, number])]);
  const pa = position(a.graph);
  const pb = position(b.graph);
  const n = Math.max(la.length, lb.length);
  for (let i = 0; i < n && diffs.length < 8; i++) {
    const x = la[i];
    const y = lb[i];
    if (!x || !y) {
      diffs.push(`${bName} has ${lb.length} layers, ${aName} ${la.length}`);
      break;
    }
    if (x.class !== y.class) diffs.push(`layer ${i}: ${x.class} vs ${y.class}`);
    else if (JSON.stringify(x.config) !== JSON.stringify(y.config)) diffs.push(`layer ${i} (${x.class}): ${JSON.stringify(x.config)} vs ${JSON.stringify(y.config)}`);
    if (JSON.stringify(x.weightNames ?? []) !== JSON.stringify(y.weightNames ?? [])) diffs.push(`layer ${i} weights ${(x.weightNames ?? []).join(',')} vs ${(y.weightNames ?? []).join(',')}`);
    const ia = x.inputs.map((v) => pa.get(v));
    const ib = y.inputs.map((v) => pb.get(v));
    if (JSON.stringify(ia) !== JSON.stringify(ib)) diffs.push(`layer ${i} reads layers ${ia.join(',')} vs ${ib.join(',')}`);
  }
  const oa = (a.graph?.outputs ?? []).map((o) => pa.get(o));
  const ob = (b.graph?.outputs ?? []).map((o) => pb.get(o));
  if (JSON.stringify(oa) !== JSON.stringify(ob)) diffs.push(`outputs are layers ${oa.join(',')} vs ${ob.join(',')}`);
  if (a.inputShape.join(',') !== b.inputShape.join(',')) diffs.push(`input [${a.inputShape.join(',')}] vs [${b.inputShape.join(',')}]`);
  if (JSON.stringify(a.losses) !== JSON.stringify(b.losses)) diffs.push(`losses ${a.losses?.join(',')} vs ${b.losses?.join(',')}`);
  return diffs.length ? `${bName} is not the same network as ${aName}: ${diffs.join('; ')}` : null;
}
