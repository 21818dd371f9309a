import { ExtraInputError } from '../errors.js';
import { importEndpoints, type ImportedEndpoint } from '../app/import.js';
import { modelArchs } from '../models/index.js';
import { datasetNames } from '../data/index.js';
import { optList, optString, parseFlags, reqString } from './args.js';
import { assertRunWritable } from '../run/index.js';
import { stdio, type Io } from './context.js';
import { parseTrainArgs, trainOptions } from './train.js';

/** The flags of 'extra train' that say a new run's data set and model (used only when DIR has no run.json). */
const creationFlags = ['dataset', 'arch', 'hidden', 'model-json', 'model-onnx', 'losses', 'tasks', 'seed', 'train-size', 'val-size', 'test-size', 'data-dir', 'data', 'val-fraction', 'resolution', 'attributes', 'ignore-label'] as const;

export const importHelp = `extra import --run DIR --endpoint NAME=PATH [--endpoint NAME=PATH ...] [--pref P ...] [--name-map FILE]
             [--dataset NAME --model-json FILE | --model-onnx FILE | --arch A ...]   (to create DIR; an existing run keeps its own)

Make endpoints of a run from models trained elsewhere, then 'extra curve fit --run DIR' connects them as if
'extra train' had made them. PATH is
  a tfjs model directory (model.json + weights) whose layers are named as the run's model, or
  a .safetensors file with PyTorch state_dict names and layouts (conv [out,in,kh,kw], linear [out,in], the
  NCHW flatten order — what 'extra export --format safetensors' writes); --name-map FILE is a JSON object
  {"our.name": "their.name"} where the names differ (remembered: exports give your names back), or
  an .onnx file (torch.onnx.export, training=TrainingMode.PRESERVE): architecture and weights; every file
  must be the same network (differences are listed). A new DIR takes its model from the first .onnx file.
An endpoint keeps the BatchNormalization running statistics its file holds (recomputed only when it has none).
Names, shapes and dtypes are checked; every mismatch is listed and nothing is written.
  --pref P        the preference each endpoint was trained for, one per --endpoint in order (default uniform)
  --dataset NAME  ${datasetNames().join(' | ')}; --arch ${modelArchs.join(' | ')} or --model-json FILE; sizes
                  and --seed as for 'extra train' (only used when DIR has no run.json yet)`;

export async function importCommand(argv: string[], io: Io = stdio): Promise<number> {
  const { values: v, positionals } = parseFlags('import', argv, {
    run: { type: 'string' },
    endpoint: { type: 'string', multiple: true },
    pref: { type: 'string', multiple: true },
    'name-map': { type: 'string' },
    ...Object.fromEntries(creationFlags.map((k) => [k, trainOptions[k]])),
    backend: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  if (v.help) {
    io.out(importHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`import: unexpected argument '${positionals[0]}'`);
  const run = reqString('import', v, 'run');
  await assertRunWritable(run);
  const prefs = optList(v, 'pref');
  const specs = optList(v, 'endpoint');
  if (!specs.length) throw new ExtraInputError('import: give at least one --endpoint NAME=PATH');
  if (prefs.length && prefs.length !== specs.length) throw new ExtraInputError(`import: ${prefs.length} --pref for ${specs.length} --endpoint; give one per endpoint or none`);
  const endpoints: ImportedEndpoint[] = specs.map((s, i) => {
    const eq = s.indexOf('=');
    if (eq <= 0 || eq === s.length - 1) throw new ExtraInputError(`import: --endpoint takes NAME=PATH, got '${s}'`);
    return { name: s.slice(0, eq), path: s.slice(eq + 1), ...(prefs.length ? { pref: prefs[i] } : {}) };
  });
  // the run's data set and model, read as 'extra train' reads them (a dummy preference satisfies its parser)
  const passThrough = creationFlags.flatMap((k) => {
    const x = optString(v, k);
    return x === undefined ? [] : [`--${k}`, x];
  });
  const t = parseTrainArgs(['--run', run, '--pref', '1', ...passThrough]);
  if (t === 'help') return 0;
  const r = await importEndpoints(
    {
      run,
      endpoints,
      nameMap: optString(v, 'name-map'),
      create: passThrough.length === 0 ? undefined : { dataset: { name: t.dataset?.name ?? '', seed: t.seed ?? 0, trainSize: t.dataset?.trainSize, valSize: t.dataset?.valSize, testSize: t.dataset?.testSize, dataDir: t.dataset?.dataDir, ...(t.dataset?.valFraction !== undefined ? { valFraction: t.dataset.valFraction } : {}), ...(t.dataset?.resolution !== undefined ? { resolution: t.dataset.resolution } : {}), ...(t.dataset?.attributes ? { attributes: t.dataset.attributes } : {}), ...(t.dataset?.ignoreLabel !== undefined ? { ignoreLabel: t.dataset.ignoreLabel } : {}) }, arch: t.arch, hidden: t.hidden, modelJson: t.modelJson, ...(t.modelOnnx !== undefined ? { modelOnnx: t.modelOnnx } : {}), losses: t.losses, outputs: t.outputs, seed: t.seed ?? 0 },
      backend: optString(v, 'backend'),
      quiet: v.quiet === true,
    },
    v.quiet === true ? undefined : io.err,
  );
  if (v.json) io.out(JSON.stringify(r));
  else for (const e of r.endpoints) io.out(`imported ${e.id} → ${e.dir}`);
  return 0;
}
