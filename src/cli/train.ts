import { ExtraInputError } from '../errors.js';
import { modelArchs, taskLossKinds, GRAPH_ARCH, type TaskLoss } from '../models/index.js';
import { objectiveNames } from '../objectives/index.js';
import { datasetNames } from '../data/index.js';
import { trainEndpoints, trainDefaults, type TrainRequest } from '../app/index.js';
import { flagTable, optList, optNumber, optString, parseFlags, reqString, type OptionSpec } from './args.js';
import { stdio, type Io } from './context.js';
import { withJobClient } from './queue.js';
import { fitText } from '../train/index.js';
import { trainEndpointsQueued } from '../queue/train.js';
import { assertRunWritable } from '../run/index.js';

export const trainOptions: OptionSpec = flagTable({ values: ['run', 'dataset', 'method', 'epochs', 'batch-size', 'lr', 'optimizer', 'schedule', 'milestones', 'gamma', 'arch', 'hidden', 'model-json', 'model-onnx', 'losses', 'tasks', 'seed', 'train-size', 'val-size', 'test-size', 'data-dir', 'data', 'val-fraction', 'resolution', 'attributes', 'ignore-label', 'backend', 'workers', 'threads', 'warm-start', 'queue', 'store'], lists: ['pref'], switches: ['resume', 'json', 'quiet', 'single-task'] });

export const trainHelp = `extra train --run DIR --dataset NAME --pref 0.8,0.2 [--pref 0.2,0.8 ...] [options]

Train endpoint models (one per --pref) into DIR/endpoints/ID (tfjs layers format + metrics.json).
Several --pref values train two at a time in worker threads.

  --dataset NAME        ${datasetNames().join(' | ')} (default multi-mnist, embedded)
  --method M            ${objectiveNames().join(' | ')} (default ls)
  --epochs N            default 10          --batch-size N   default 256
  --single-task         instead of endpoints, one model per task on that task alone (RUN/single-task/TASK):
                        the "Independent" numbers that Δm% compares every curve point against (RUN/baseline.json)
  --warm-start E        first E epochs of one shared training at the preferences' mean, from which every
                        endpoint then starts (RUN/warm-start; default 0: each endpoint from its own start)
  --lr X                default 1e-3        --optimizer adam|sgd (default adam)
  --schedule S          constant|cosine|step (default constant)
  --milestones E,E,...  step: multiply the lr by --gamma (default 0.1) after these epochs (PyTorch MultiStepLR;
                        the COSMOS protocol: --epochs 100 --milestones 20,40,80,90); implies --schedule step
  --arch A              ${modelArchs.join(' | ')} (default: the run's own; lenet-mtl for a new run)
                        [--hidden 256,256 for mlp-mtl]
  --model-json FILE     your own model instead: a tfjs-layers / Keras model.json (Sequential or
                        functional; one output per task, in the data set's task order)
  --model-onnx FILE     your own model from PyTorch: an .onnx file (torch.onnx.export, training=
                        TrainingMode.PRESERVE keeps BatchNorm and the state_dict names); its weights are
                        the start of every training; outputs are the tasks in order
  --tasks OUT,OUT,...   the model's layers answering the data set's tasks, in task order (default: its
                        outputs in order)
  --losses L,L,...      per task: ce (softmax cross-entropy) | bce (one sigmoid logit, binary task) |
                        mse (one real output, regression task); default: inferred from each output's
                        final activation (one linear unit on a regression task: mse)
  --seed N              default 0
  --train-size/--val-size/--test-size N   data set sizes (default: the data set's own)
  --data-dir DIR        where the Fashion-MNIST IDX files are
  --data DIR            your own NumPy arrays (= --dataset npy --data-dir DIR): x_train.npy, y_train.npy
                        (N×K labels, or y_train_<task>.npy per task; integer = classes, float = regression
                        targets), x_test.npy, y_test.npy, and x_val.npy,
                        y_val.npy or --val-fraction F (default 0.1); tasks.json may name the tasks
  --dataset celeba      your copy of CelebA in its own layout (--data-dir DIR, default ~/data/celeba:
                        img_align_celeba/*.jpg, list_attr_celeba.txt, list_eval_partition.txt);
                        --resolution N (default 64), --attributes Smiling,Young,... (default all 40)
  --dataset dense-digits  built-in per-pixel scenes of digits (tasks seg, depth, normal; --resolution N,
                        default 32)
  --dataset nyuv2       NYUv2 in the MTAN/LibMTL layout: --data-dir DIR with {train,val}/{image,label,
                        depth,normal}/{i}.npy; val/ is the test split, --val-fraction F (default 0.1) of
                        train/ the validation split; --resolution H downsamples to H rows
  --dataset cityscapes  CityScapes in that layout ({image,label_7 or label,depth}; cityscapes-19: label_19)
  --ignore-label L      the value of ignored pixels in per-pixel class maps (e.g. 255; default -1)
  --backend B           force a backend (tensorflow-gpu, tensorflow, wasm, cpu); or EXTRA_BACKEND
  --workers N           parallel endpoint trainings (default 2)
  --threads N           threads splitting each batch of one training (default: cores ÷ parallel
                        trainings). Same seed + same threads → bit-identical checkpoints; another
                        thread count changes the gradients' float summation order (last bits)
  --resume              continue an interrupted training from its last complete epoch
  --queue redis://HOST:PORT[/DB]   one job per preference on a BullMQ queue, run by 'extra worker's
                        (queued jobs always resume from their last complete epoch)
  --store DIR           the run store the workers share (default: the current directory; --run inside it)
  --json                print one JSON object on stdout`;

export function parseTrainArgs(argv: string[]): TrainRequest | 'help' {
  const { values: v, positionals } = parseFlags('train', argv, trainOptions);
  if (v.help) return 'help';
  if (positionals.length) throw new ExtraInputError(`train: unexpected argument '${positionals[0]}'`);
  const optimizer = optString(v, 'optimizer') ?? trainDefaults.optimizer;
  if (optimizer !== 'adam' && optimizer !== 'sgd') throw new ExtraInputError(`train: --optimizer must be adam or sgd, got '${optimizer}'`);
  const milestonesS = optString(v, 'milestones');
  const schedule = optString(v, 'schedule') ?? (milestonesS !== undefined ? 'step' : trainDefaults.schedule);
  if (schedule !== 'constant' && schedule !== 'cosine' && schedule !== 'step') throw new ExtraInputError(`train: --schedule must be constant, cosine or step, got '${schedule}'`);
  const modelJson = optString(v, 'model-json');
  const modelOnnx = optString(v, 'model-onnx');
  if (modelJson !== undefined && modelOnnx !== undefined) throw new ExtraInputError('train: give one model: --model-json or --model-onnx');
  const own = modelJson !== undefined ? '--model-json' : modelOnnx !== undefined ? '--model-onnx' : undefined;
  if (own && (optString(v, 'arch') !== undefined || optString(v, 'hidden') !== undefined)) throw new ExtraInputError(`train: ${own} replaces --arch and --hidden; give one or the other`);
  const lossesS = optString(v, 'losses');
  const losses = lossesS?.split(',').map((s) => {
    const l = s.trim();
    if (!(taskLossKinds as readonly string[]).includes(l)) throw new ExtraInputError(`train: --losses takes ${taskLossKinds.join(' or ')} per task, got '${s}'`);
    return l as TaskLoss;
  });
  // no --arch: the existing run's own model (lenet-mtl for a new run)
  const arch = own ? GRAPH_ARCH : optString(v, 'arch');
  if (arch !== undefined && !own && !modelArchs.includes(arch)) throw new ExtraInputError(`train: unknown --arch '${arch}' (known: ${modelArchs.join(', ')})`);
  const hiddenS = optString(v, 'hidden');
  const hidden = hiddenS?.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new ExtraInputError(`train: --hidden must be positive integers like 256,256, got '${hiddenS}'`);
    return n;
  });
  const data = optString(v, 'data');
  if (data !== undefined && optString(v, 'data-dir') !== undefined) throw new ExtraInputError('train: --data DIR already names the directory; drop --data-dir');
  if (data !== undefined && optString(v, 'dataset') !== undefined && optString(v, 'dataset') !== 'npy') throw new ExtraInputError(`train: --data DIR is your own arrays; it cannot be combined with --dataset ${optString(v, 'dataset')}`);
  const dataName = data !== undefined ? 'npy' : optString(v, 'dataset');
  const valFraction = optNumber('train', v, 'val-fraction', { min: 0 });
  const resolution = optNumber('train', v, 'resolution', { integer: true, positive: true });
  const attributes = optString(v, 'attributes')?.split(',').map((s) => s.trim());
  const ignoreLabel = optNumber('train', v, 'ignore-label', { integer: true, min: -1, max: 2 ** 31 - 1 });
  const prefs = optList(v, 'pref');
  const singleTask = v['single-task'] === true;
  if (!prefs.length && !singleTask) throw new ExtraInputError('train: at least one --pref is required (e.g. --pref 0.8,0.2), or --single-task');
  return {
    run: reqString('train', v, 'run'),
    dataset: {
      name: dataName,
      ...(valFraction !== undefined ? { valFraction } : {}),
      ...(resolution !== undefined ? { resolution } : {}),
      ...(attributes ? { attributes } : {}),
      ...(ignoreLabel !== undefined ? { ignoreLabel } : {}),
      trainSize: optNumber('train', v, 'train-size', { integer: true, positive: true }),
      valSize: optNumber('train', v, 'val-size', { integer: true, positive: true }),
      testSize: optNumber('train', v, 'test-size', { integer: true, positive: true }),
      dataDir: optString(v, 'data') ?? optString(v, 'data-dir'),
    },
    arch,
    hidden,
    ...(modelJson !== undefined ? { modelJson } : {}),
    ...(modelOnnx !== undefined ? { modelOnnx } : {}),
    ...(losses ? { losses } : {}),
    ...(optString(v, 'tasks') !== undefined ? { outputs: optString(v, 'tasks')!.split(',').map((s) => s.trim()) } : {}),
    prefs,
    method: optString(v, 'method'),
    epochs: optNumber('train', v, 'epochs', { integer: true, positive: true }),
    warmStart: optNumber('train', v, 'warm-start', { integer: true, min: 0 }),
    batchSize: optNumber('train', v, 'batch-size', { integer: true, positive: true }),
    lr: optNumber('train', v, 'lr', { positive: true }),
    optimizer,
    schedule,
    ...(milestonesS !== undefined ? { milestones: milestonesS.split(',').map((s) => optNumber('train', { milestones: s.trim() }, 'milestones', { integer: true, positive: true })!) } : {}),
    ...(optString(v, 'gamma') !== undefined ? { gamma: optNumber('train', v, 'gamma', { positive: true, max: 1 }) } : {}),
    seed: optNumber('train', v, 'seed', { integer: true, min: 0 }),
    backend: optString(v, 'backend'),
    workers: optNumber('train', v, 'workers', { integer: true, positive: true }),
    threads: optNumber('train', v, 'threads', { integer: true, positive: true, max: 64 }),
    resume: v.resume === true,
    ...(singleTask ? { singleTask } : {}),
    quiet: v.quiet === true,
  };
}

export async function trainCommand(argv: string[], io: Io = stdio, json = false): Promise<number> {
  const a = parseTrainArgs(argv);
  if (a === 'help') {
    io.out(trainHelp);
    return 0;
  }
  const { values: v } = parseFlags('train', argv, trainOptions);
  const queue = optString(v, 'queue');
  if (optString(v, 'store') !== undefined && queue === undefined) throw new ExtraInputError('train: --store is only used with --queue');
  // a run that is there must be writable (not read-only, not on a full disk) before any work or any status line
  if (!queue) await assertRunWritable(a.run);
  const r = queue ? await withJobClient(queue, io, (c) => trainEndpointsQueued(a, c, optString(v, 'store') ?? '.')) : await trainEndpoints(a, a.quiet ? () => undefined : io.err);
  if (json || argv.includes('--json')) {
    io.out(JSON.stringify({ run: a.run, backend: r.backend, endpoints: r.endpoints }));
  } else {
    for (const e of r.endpoints) {
      const tasks = Object.entries(e.test)
        .map(([k, m]) => `${k} ${fitText(m)} (loss ${m.loss.toFixed(4)})`)
        .join(', ');
      io.out(`${e.id}: test ${tasks} — ${e.seconds.toFixed(1)} s → ${e.dir}`);
    }
  }
  return 0;
}
