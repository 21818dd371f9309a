import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { FileFormatError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { buildModel, kerasModelName, modelGraph } from './registry.js';
import { graphTfjsModel, graphTorchTensors, graphWeightsOf } from './graph/index.js';
import type { ModelSpec } from './types.js';
import { z } from 'zod';
import { parseJsonWith } from '../io/json-file.js';

/**
 * The same network as a tfjs LayersModel, so checkpoints are ordinary tfjs layers-format models
 * (`tf.loadLayersModel` loads them): its graph's own layers, their weights set per layer, a
 * BatchNormalization's statistics with them.
 */
export function toLayersModel(spec: ModelSpec, values?: readonly tf.Tensor[], statistics?: readonly tf.Tensor[]): tf.LayersModel {
  return graphTfjsModel(modelGraph(spec), values, statistics, kerasModelName(spec));
}

export interface SavedModelMeta {
  spec: ModelSpec;
  paramNames: string[];
  [key: string]: unknown;
}

/**
 * Write model.json + weights.bin (tfjs layers format) into `dir`. weights.bin is written first and
 * model.json last, each atomically, so a reader never sees a model.json without its weights.
 */
export async function saveLayersModel(
  dir: string,
  spec: ModelSpec,
  values: readonly tf.Tensor[],
  extraMeta: Record<string, unknown> = {},
  statistics?: readonly tf.Tensor[],
): Promise<void> {
  const model = toLayersModel(spec, values, statistics);
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  if (!saved || !saved.weightData || !saved.weightSpecs) throw new Error('tfjs did not produce model artifacts');
  const weightData = saved.weightData instanceof ArrayBuffer ? saved.weightData : tf.io.concatenateArrayBuffers(saved.weightData);
  const meta: SavedModelMeta = { spec, paramNames: buildModel(spec).params.map((p) => p.name), ...extraMeta };
  const modelJson = {
    modelTopology: saved.modelTopology,
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'extra',
    weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }],
    userDefinedMetadata: { extra: meta },
  };
  await writeFileAtomic(path.join(dir, 'weights.bin'), new Uint8Array(weightData));
  await writeFileAtomic(path.join(dir, 'model.json'), JSON.stringify(modelJson));
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: { extra?: SavedModelMeta };
  format?: string;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/** The parts of a tfjs layers model.json that are read before tfjs sees it (sizes, paths). */
const modelJsonSchema = z
  .object({
    modelTopology: z.object({}).passthrough(),
    weightsManifest: z
      .array(
        z.object({
          paths: z.array(z.string().min(1)).min(1),
          weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().nonnegative()), dtype: z.enum(['float32', 'int32', 'bool']).optional() }).passthrough()),
        }),
      )
      .min(1),
    userDefinedMetadata: z.object({}).passthrough().optional(),
    format: z.string().optional(),
  })
  .passthrough();

/** A tfjs IOHandler that reads model.json + its weight files from a directory, checking sizes. */
export function dirIOHandler(dir: string): tf.io.IOHandler {
  return {
    async load() {
      const jsonPath = path.join(dir, 'model.json');
      let text: string;
      try {
        text = await fsp.readFile(jsonPath, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new FileFormatError(code === 'ENOENT' ? `no model at ${jsonPath}` : `${jsonPath} cannot be read (${code ?? 'error'})`);
      }
      const json = parseJsonWith(modelJsonSchema, text, jsonPath) as unknown as ModelJson;
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of json.weightsManifest) {
        let expected = 0;
        for (const w of group.weights) expected += w.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[w.dtype ?? 'float32'] ?? 4);
        const parts = await Promise.all(group.paths.map((p) => readWeightFile(dir, p)));
        const got = parts.reduce((a, b) => a + b.byteLength, 0);
        if (got !== expected) {
          throw new FileFormatError(`weights of ${jsonPath} hold ${got} bytes but the manifest needs ${expected} (truncated or foreign file)`);
        }
        buffers.push(...parts);
        specs.push(...group.weights);
      }
      const total = buffers.reduce((a, b) => a + b.byteLength, 0);
      const all = new Uint8Array(total);
      let off = 0;
      for (const b of buffers) {
        all.set(b, off);
        off += b.byteLength;
      }
      return {
        modelTopology: json.modelTopology as tf.io.ModelArtifacts["modelTopology"],
        weightSpecs: specs,
        weightData: all.buffer,
        format: json.format,
        userDefinedMetadata: json.userDefinedMetadata as {} | undefined,
      };
    },
  };
}

async function readWeightFile(dir: string, rel: string): Promise<Uint8Array> {
  const resolved = path.resolve(dir, rel);
  if (path.dirname(resolved) !== path.resolve(dir)) throw new FileFormatError(`weight path '${rel}' leaves the model directory`);
  try {
    return new Uint8Array(await fsp.readFile(resolved));
  } catch {
    throw new FileFormatError(`missing weight file ${resolved}`);
  }
}

/**
 * Load a saved model: the tfjs LayersModel, its `extra` metadata, the parameter values and the
 * BatchNormalization statistics (empty without). `specOverride` reads weights written elsewhere
 * (`extra import`) against a run's model instead of the file's own metadata.
 */
export async function loadLayersModelFromDir(
  dir: string,
  specOverride?: ModelSpec,
): Promise<{ model: tf.LayersModel; meta: SavedModelMeta; values: tf.Tensor[]; statistics: tf.Tensor[] }> {
  const handler = dirIOHandler(dir);
  const artifacts = await handler.load!();
  const found = (artifacts.userDefinedMetadata as { extra?: SavedModelMeta } | undefined)?.extra;
  const spec = specOverride ?? found?.spec;
  if (!spec) throw new FileFormatError(`${path.join(dir, 'model.json')} has no extra metadata (not written by extra)`);
  const meta: SavedModelMeta = found && !specOverride ? found : { spec, paramNames: buildModel(spec).params.map((p) => p.name) };
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel({ load: async () => artifacts });
  } catch (e) {
    throw new FileFormatError(`${path.join(dir, 'model.json')}: tfjs cannot build the model (${(e as Error).message.split('\n')[0]})`);
  }
  const built = buildModel(spec);
  let values: tf.Tensor[];
  let statistics: tf.Tensor[];
  try {
    ({ params: values, statistics } = graphWeightsOf(modelGraph(spec), model, dir));
  } catch (e) {
    model.dispose();
    throw e;
  }
  const names = [...built.params.map((p) => p.name), ...built.statistics.map((s) => s.name)];
  [...values, ...statistics].forEach((v, i) => {
    // a NaN or infinite weight is a broken model, never something to use
    const data = v.dataSync();
    for (let q = 0; q < data.length; q++) {
      if (!Number.isFinite(data[q])) {
        tf.dispose([...values, ...statistics]);
        model.dispose();
        throw new FileFormatError(`${path.join(dir, 'weights.bin')}: weight ${names[i]} holds a non-finite value (${data[q]}) at index ${q}`);
      }
    }
  });
  return { model, meta, values, statistics };
}

/**
 * Parameters in PyTorch layout and naming (state_dict): conv [out,in,kh,kw], linear [out,in], and a
 * dense layer that reads a flattened image gets its input features in NCHW flatten order, so a PyTorch
 * model with `x.view(B, -1)` after its convs computes the same function.
 */
export function paramsToPytorchStateDict(
  spec: ModelSpec,
  names: string[],
  values: readonly tf.Tensor[],
  statistics: readonly tf.Tensor[] = [],
): { name: string; shape: number[]; data: Float32Array }[] {
  const g = modelGraph(spec);
  const t = tf.tidy(() => {
    const r = graphTorchTensors(g, values, statistics, spec.onnx === undefined);
    return [...r.params, ...r.statistics].map((x) => x.clone());
  });
  const all = [...names, ...g.statistics.slice(0, statistics.length).map((s) => s.name)];
  // tensors inside tidy, data outside: typed arrays returned from tf.tidy are walked element-wise
  return t.map((x, i) => {
    const out = { name: all[i], shape: x.shape, data: x.dataSync() as Float32Array };
    x.dispose();
    return out;
  });
}
