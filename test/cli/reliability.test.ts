import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extra, cacheDir, makeTinyRun, refused, tinyData } from '../fixtures.js';
import { npy } from '../npy-writer.js';

/** A Keras functional model.json on an 8-feature input: `body` layers, then two heads on the last one. */
function graphJson(body: { class_name: string; name: string; config: Record<string, unknown> }[], input: Record<string, unknown> = {}, inbound?: (prev: string) => unknown[]): unknown {
  const node = inbound ?? ((prev: string) => [[[prev, 0, 0, {}]]]);
  const layers: unknown[] = [{ class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_input_shape: [null, 8], dtype: 'float32', ...input }, inbound_nodes: [] }];
  let prev = 'x';
  for (const l of body) {
    layers.push({ ...l, config: { name: l.name, ...l.config }, inbound_nodes: node(prev) });
    prev = l.name;
  }
  for (const h of ['flag', 'kind3']) layers.push({ class_name: 'Dense', name: h, config: { name: h, units: h === 'flag' ? 1 : 3, activation: h === 'flag' ? 'sigmoid' : 'softmax' }, inbound_nodes: [[[prev, 0, 0, {}]]] });
  return { modelTopology: { class_name: 'Model', config: { layers, input_layers: [['x', 0, 0]], output_layers: [['flag', 0, 0], ['kind3', 0, 0]] } } };
}

function writeArrays(dir: string): void {
  for (const [split, n] of [['train', 96], ['test', 32]] as const) {
    const x = Float32Array.from({ length: n * 8 }, (_, i) => ((i * 37) % 101) / 101);
    writeFileSync(path.join(dir, `x_${split}.npy`), npy('<f4', [n, 8], x));
    writeFileSync(path.join(dir, `y_${split}_flag.npy`), npy('<i4', [n], Int32Array.from({ length: n }, (_, i) => i % 2)));
    writeFileSync(path.join(dir, `y_${split}_kind3.npy`), npy('<i4', [n], Int32Array.from({ length: n }, (_, i) => i % 3)));
  }
}

describe('bad models, sizes, side files and flags: exit 2, one line, nothing created', () => {
  let root: string;
  let data: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'extra-reliab-'));
    data = path.join(root, 'arrays');
    mkdirSync(data);
    writeArrays(data);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** Train a new run on the arrays with this model.json; it must be refused before any file is made. */
  function refusedModel(name: string, model: unknown, what: RegExp, extraArgs: string[] = []): void {
    const file = path.join(root, `${name}.json`);
    writeFileSync(file, JSON.stringify(model));
    const run = path.join(root, 'runs', name);
    refused(['train', '--run', run, '--data', data, '--model-json', file, '--pref', '0.5,0.5', '--epochs', '1', '--batch-size', '32', ...extraArgs], what);
    expect(existsSync(run), `${run} was left behind`).toBe(false);
  }

  it('layers too large for memory are refused before anything is allocated (Dense, Conv2D, built-in widths, batches)', () => {
    refusedModel('huge-dense', graphJson([{ class_name: 'Dense', name: 'wide', config: { units: 300_000_000 } }]), /parameters.*more than the .* available|more than one tensor can/);
    const conv = graphJson([
      { class_name: 'Reshape', name: 'img', config: { target_shape: [2, 4, 1] } },
      { class_name: 'Conv2D', name: 'many', config: { filters: 400_000_000, kernel_size: 1 } },
      { class_name: 'Flatten', name: 'flat', config: {} },
    ]);
    refusedModel('huge-conv', conv, /parameters.*more than the .* available|more than one tensor can/);
    const run = path.join(root, 'runs', 'huge-mlp');
    refused(['train', '--run', run, '--data', data, '--arch', 'mlp-mtl', '--hidden', '2000000000', '--pref', '0.5,0.5', '--epochs', '1'], /more than one tensor can|parameters.*available/);
    expect(existsSync(run)).toBe(false);
    // a model that fits, but not at this batch size: the message says which batch size would
    const wideAct = graphJson([
      { class_name: 'Reshape', name: 'img', config: { target_shape: [2, 4, 1] } },
      { class_name: 'Conv2D', name: 'wide', config: { filters: 4_000_000, kernel_size: 1 } },
      { class_name: 'GlobalAveragePooling2D', name: 'gap', config: {} },
    ]);
    refusedModel('wide-batch', wideAct, /a batch of 32 needs about .* GiB for this model \([\d,]+ activations per sample\).* use --batch-size \d+ or less/);
  });

  it('a training (or grouping) that fails before its first checkpoint leaves no run directory it created', () => {
    const run = path.join(root, 'runs', 'diverged');
    refused(['train', '--run', run, '--data', data, '--arch', 'mlp-mtl', '--pref', '0.5,0.5', '--epochs', '1', '--batch-size', '32', '--lr', '1e30', '--quiet'], /diverged at epoch 1.*nothing was saved/);
    expect(existsSync(run)).toBe(false);
    // nor does a grouping refused after its run was made
    const grouped = path.join(root, 'runs', 'group-k99');
    refused(['group', '--run', grouped, '--k', '99', ...tinyData], /--k 99 is larger than the number of tasks/);
    expect(existsSync(grouped)).toBe(false);
  });

  it('shape and rank rules are checked when the model is compiled, not after an epoch (Flatten on a flat input)', () => {
    refusedModel('flatten-flat', graphJson([{ class_name: 'Flatten', name: 'flat2', config: {} }]), /flat2.*(ndim|rank)/);
  });

  it('fields extra cannot honour are refused, naming the field (dtype, sparse, inbound node index)', () => {
    for (const dtype of ['float33', 'string', 5, 'int32']) refusedModel(`dtype-${String(dtype)}`, graphJson([{ class_name: 'Dense', name: 'h', config: { units: 4 } }], { dtype }), /layer 'x': field dtype is .*float32/);
    refusedModel('sparse', graphJson([{ class_name: 'Dense', name: 'h', config: { units: 4 } }], { sparse: true }), /layer 'x': field sparse/);
    refusedModel('node7', graphJson([{ class_name: 'Dense', name: 'h', config: { units: 4 } }], {}, (prev) => [[[prev, 7, 0, {}]]]), /layer 'h' reads node 7 of 'x', which has only node 0/);
    const outNode = graphJson([{ class_name: 'Dense', name: 'h', config: { units: 4 } }]) as { modelTopology: { config: { output_layers: unknown[] } } };
    outNode.modelTopology.config.output_layers = [['flag', 7, 0], ['kind3', 0, 0]];
    // fields that change what a layer computes or how it trains are refused, not dropped
    refusedModel('frozen', graphJson([{ class_name: 'Dense', name: 'h', config: { units: 4, trainable: false } }]), /layer 'h' \(Dense\): field trainable is false/);
    refusedModel('l2', graphJson([{ class_name: 'Dense', name: 'h', config: { units: 4, kernel_regularizer: { class_name: 'L2', config: { l2: 0.01 } } } }]), /layer 'h' \(Dense\): field kernel_regularizer is set/);
    const grouped = graphJson([
      { class_name: 'Reshape', name: 'img', config: { target_shape: [2, 2, 2] } },
      { class_name: 'Conv2D', name: 'gc', config: { filters: 2, kernel_size: 1, groups: 2 } },
      { class_name: 'Flatten', name: 'flat', config: {} },
    ]);
    refusedModel('groups', grouped, /layer 'gc' \(Conv2D\): field groups is 2/);
    refusedModel('out-node7', outNode, /field output_layers refers to node 7, tensor 0 of 'flag'/);
    // Keras 3's dtype policy object is fine when it is float32
    const policy = graphJson([{ class_name: 'Dense', name: 'h', config: { units: 4, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' } } } }]);
    writeFileSync(path.join(root, 'policy.json'), JSON.stringify(policy));
    const run = path.join(root, 'runs', 'policy');
    const r = extra(['train', '--run', run, '--data', data, '--model-json', path.join(root, 'policy.json'), '--pref', '0.5,0.5', '--epochs', '1', '--batch-size', '32', '--quiet']);
    expect(r.code, r.err).toBe(0);
    refusedModel('policy16', graphJson([{ class_name: 'Dense', name: 'h', config: { units: 4, dtype: { class_name: 'DTypePolicy', config: { name: 'mixed_float16' } } } }]), /layer 'h': field dtype/);
  });

  it('a malformed tasks.json beside the arrays is a one-line error naming the file', () => {
    const d = path.join(root, 'arrays-tasks');
    mkdirSync(d);
    writeArrays(d);
    for (const bad of ['{"left": 1', '{"a": 1}', '["same", "same"]', '[1, 2]']) {
      writeFileSync(path.join(d, 'tasks.json'), bad);
      const run = path.join(root, 'runs', 'tasks');
      refused(['train', '--run', run, '--data', d, '--arch', 'mlp-mtl', '--pref', '0.5,0.5', '--epochs', '1'], /tasks\.json/);
      expect(existsSync(run)).toBe(false);
    }
  });

  it('a flag that takes one value, given twice, is refused (several --pref for train stay fine)', () => {
    const run = path.join(root, 'runs', 'none');
    refused(['export', '--run', run, '--t', '0.1', '--t', '0.9', '--format', 'tfjs', '--out', path.join(root, 'x')], /--t given more than once/);
    refused(['curve', 'eval', '--run', run, '--points', '3', '--points', '5'], /--points given more than once/);
    refused(['export', '--run', run, '--t', '0.1', '--out', 'A', '--out', 'B'], /--out given more than once/);
    refused(['plane', '--run', run, '--grid', '3', '--grid', '5'], /--grid given more than once/);
    refused(['query', '--run', run, '--pref', '0.5,0.5', '--pref', '0.2,0.8'], /--pref given more than once/);
    refused(['query', '--run', run, '--run', run, '--pref', '0.5,0.5'], /--run given more than once/);
    refused(['train', '--run', run, '--pref', '1,0', '--pref', '0,1', '--epochs', '1', '--epochs', '2'], /--epochs given more than once/);
    expect(existsSync(run)).toBe(false);
  });

  it('a failed import into a new run directory leaves nothing behind (nor does a failed export)', () => {
    const notSt = path.join(root, 'junk.safetensors');
    writeFileSync(notSt, 'not a safetensors file at all');
    const wrongDir = path.join(root, 'not-a-model');
    mkdirSync(wrongDir);
    writeFileSync(path.join(wrongDir, 'model.json'), '{"modelTopology": 1}');
    const cases: [string, RegExp][] = [
      [notSt, /junk\.safetensors/],
      [wrongDir, /model\.json/],
      [path.join(root, 'arrays', 'x_train.npy'), /neither a tfjs model directory nor a \.safetensors or \.onnx file/],
    ];
    for (const [i, [src, what]] of cases.entries()) {
      const run = path.join(root, 'runs', `import-${i}`, 'nested');
      refused(['import', '--run', run, '--dataset', 'multi-mnist', ...tinyData, '--endpoint', `a=${src}`], what);
      expect(existsSync(path.join(root, 'runs', `import-${i}`)), `import ${i} left a directory`).toBe(false);
    }
    // an existing empty directory stays, without a run.json
    const kept = path.join(root, 'runs', 'existing');
    mkdirSync(kept, { recursive: true });
    refused(['import', '--run', kept, '--dataset', 'multi-mnist', ...tinyData, '--endpoint', `a=${notSt}`], /junk\.safetensors/);
    expect(readdirSync(kept).filter((f) => !f.startsWith('.'))).toEqual([]);
  });
});

describe('a re-fit never loses the curve, and a stale profile is never answered from', () => {
  let run: string;
  beforeAll(() => {
    run = makeTinyRun('extra-refit-');
  }, 300_000);
  afterAll(() => rmSync(run, { recursive: true, force: true }));

  it('a fresh curve fit killed midway keeps the old curve for query, export and curve eval; --resume finishes the new one', async () => {
    const before = readFileSync(path.join(run, 'curve', 'curve.json'), 'utf8');
    const log = path.join(run, 'curve', 'train.jsonl');
    const logBefore = readFileSync(log, 'utf8');
    const checkpoint = path.join(run, 'curve', 'checkpoint.safetensors');
    const started = Date.now();
    // the new fit's first epoch is logged and checkpointed
    const newEpochLogged = () => existsSync(log) && readFileSync(log, 'utf8') !== logBefore && readFileSync(log, 'utf8').includes('"epoch":1') && existsSync(checkpoint) && statSync(checkpoint).mtimeMs >= started;
    const child = spawn(process.execPath, [path.resolve('bin/extra.js'), 'curve', 'fit', '--run', run, '--epochs', '4', '--batch-size', '64', '--eval-points', '0', '--quiet'], {
      env: { ...process.env, EXTRA_CACHE_DIR: cacheDir, EXTRA_BACKEND: 'wasm' },
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // kill it once its first epoch is checkpointed (the new fit is then under way)
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !newEpochLogged()) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await exited;
    expect(newEpochLogged(), 'the new fit never logged its first epoch').toBe(true);
    expect(readFileSync(log, 'utf8')).not.toMatch(/"epoch":4/);
    expect(readFileSync(path.join(run, 'curve', 'curve.json'), 'utf8')).toBe(before);
    // the old curve and its profile still answer
    expect(extra(['query', '--run', run, '--pref', '0.3,0.7', '--json']).code).toBe(0);
    expect(extra(['export', '--run', run, '--t', '0.5', '--format', 'tfjs', '--out', path.join(run, 'exports', 'kept')]).code).toBe(0);
    let r = extra(['curve', 'eval', '--run', run, '--points', '3']);
    expect(r.code, r.err).toBe(0);
    // --resume continues the killed fit, and only then the new curve replaces the old one
    r = extra(['curve', 'fit', '--run', run, '--epochs', '4', '--batch-size', '64', '--eval-points', '0', '--resume']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/resuming after epoch [1-3]\/4/);
    const after = JSON.parse(readFileSync(path.join(run, 'curve', 'curve.json'), 'utf8'));
    expect(after.epochs).toBe(4);
    expect(readdirSync(path.join(run, 'curve')).filter((f) => f.includes('.next.'))).toEqual([]);
    // the profile of the old curve is now stale: refused until curve eval runs again
    refused(['query', '--run', run, '--pref', '0.3,0.7', '--no-refine'], /profile\.json measured another curve.*re-fitted since.*curve eval/);
    refused(['report', '--run', run, '--no-png'], /profile\.json measured another curve.*curve eval/);
    expect(extra(['curve', 'eval', '--run', run, '--points', '3']).code).toBe(0);
    expect(extra(['query', '--run', run, '--pref', '0.3,0.7', '--no-refine', '--json']).code).toBe(0);
  }, 300_000);

  it('after a completed re-fit with another kind, the old profile and loss plane are refused until measured again', () => {
    let r = extra(['plane', '--run', run, '--grid', '3']);
    expect(r.code, r.err).toBe(0);
    expect(extra(['curve', 'fit', '--run', run, '--kind', 'bezier', '--controls', '3', '--epochs', '1', '--batch-size', '64', '--eval-points', '0']).code).toBe(0);
    refused(['query', '--run', run, '--pref', '0.5,0.5', '--no-refine', '--json'], /measured another curve.*extra curve eval --run/);
    expect(extra(['curve', 'eval', '--run', run, '--points', '3']).code).toBe(0);
    const q = extra(['query', '--run', run, '--pref', '0.5,0.5', '--no-refine', '--json']);
    expect(q.code, q.err).toBe(0);
    refused(['report', '--run', run, '--no-png'], /plane\.json measured another curve .*extra plane --run/);
    r = extra(['plane', '--run', run, '--grid', '3']);
    expect(r.code, r.err).toBe(0);
    r = extra(['report', '--run', run, '--no-png']);
    expect(r.code, r.err).toBe(0);
  }, 300_000);
});
