import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extra, makeTinyRun, refused } from '../fixtures.js';
import { npy } from '../npy-writer.js';
import { encodeOnnx } from '../../src/models/onnx/proto.js';
import { loadDataset } from '../../src/data/index.js';
import { expectNoLeftovers, tree } from './helpers.js';

/**
 * Files that are not what they should be (a directory or a link to nothing where a run file belongs, a
 * swapped or damaged model.onnx, NaN weights, a tasks.json that disagrees with the label files), values
 * a typo makes absurd, and settings that do not exist: one line, exit 2, before any work, nothing lost.
 */

function ok(args: string[], env: Record<string, string> = {}): string {
  const r = extra(args, env);
  expect(r.code, `extra ${args.join(' ')}\n${r.err}`).toBe(0);
  return r.out;
}

/** Four features; task 'a' (2 classes) and 'b' (3 classes). */
function writeArrays(dir: string): void {
  for (const [split, n] of [['train', 96], ['test', 32]] as const) {
    writeFileSync(path.join(dir, `x_${split}.npy`), npy('<f4', [n, 4], Float32Array.from({ length: n * 4 }, (_, i) => (i % 11) / 11)));
    writeFileSync(path.join(dir, `y_${split}_a.npy`), npy('<i4', [n], Int32Array.from({ length: n }, (_, i) => i % 2)));
    writeFileSync(path.join(dir, `y_${split}_b.npy`), npy('<i4', [n], Int32Array.from({ length: n }, (_, i) => i % 3)));
  }
}

/** An ONNX MLP on x [N, 4]: a Gemm trunk of `hidden` units, ReLU, and one Gemm head per task. `bad` puts a value into W at an index. */
function onnxMlp(file: string, hidden: number, seed: number, bad?: { tensor: string; index: number; value: number }): void {
  let s = seed;
  const f32 = (name: string, n: number) => {
    const a = Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.5);
    if (bad?.tensor === name) a[bad.index] = bad.value;
    return new Uint8Array(a.buffer);
  };
  const init = (name: string, dims: number[]) => ({ name, dims, data_type: 1, raw_data: f32(name, dims.reduce((p, q) => p * q, 1)) });
  const gemm = (name: string, input: string[], output: string) => ({ op_type: 'Gemm', name, input, output: [output], attribute: [{ name: 'transB', type: 2, i: 1 }] });
  writeFileSync(
    file,
    encodeOnnx({
      ir_version: 8,
      opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        node: [gemm('trunk', ['x', 'W', 'B'], 'h0'), { op_type: 'Relu', name: 'relu', input: ['h0'], output: ['h'] }, gemm('head0', ['h', 'W0', 'B0'], 'y0'), gemm('head1', ['h', 'W1', 'B1'], 'y1')],
        initializer: [init('W', [hidden, 4]), init('B', [hidden]), init('W0', [2, hidden]), init('B0', [2]), init('W1', [3, hidden]), init('B1', [3])],
        input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'N' }, { dim_value: 4 }] } } } }],
        output: [{ name: 'y0' }, { name: 'y1' }],
      },
    }),
  );
}

/** A PID that no process has (a child that has exited). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('files that are not what they should be, absurd values, unknown settings', () => {
  let root: string;
  let base: string;
  let data: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'extra-rel-files-'));
    base = makeTinyRun('extra-rel-files-base-');
    data = path.join(root, 'arrays');
    mkdirSync(data);
    writeArrays(data);
  }, 300_000);
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    if (base) rmSync(base, { recursive: true, force: true });
  });

  /** A copy of the base run to damage. */
  function copy(name: string): string {
    const run = path.join(root, name);
    cpSync(base, run, { recursive: true });
    return run;
  }

  it('a directory where curve/controls.safetensors should be: every command says so in one line', () => {
    const run = copy('dir-controls');
    const f = path.join(run, 'curve', 'controls.safetensors');
    rmSync(f);
    mkdirSync(f);
    writeFileSync(path.join(f, 'something'), '');
    const said = new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is a directory where a file is needed`);
    for (const args of [
      ['query', '--run', run, '--pref', '0.5,0.5'],
      ['export', '--run', run, '--pref', '0.5,0.5', '--format', 'tfjs', '--out', path.join(root, 'dir-out')],
      ['curve', 'eval', '--run', run, '--points', '3', '--quiet'],
      ['plane', '--run', run, '--grid', '3', '--quiet'],
      ['report', '--run', run, '--no-png'],
    ]) {
      refused(args, said);
    }
    expect(existsSync(path.join(root, 'dir-out'))).toBe(false);
    expectNoLeftovers(run, 'a directory for controls');
  });

  it('a symbolic link to nothing, or a loop, where a run file or folder should be is named as such', () => {
    const run = copy('links');
    rmSync(path.join(run, 'curve', 'controls.safetensors'));
    symlinkSync('controls.safetensors', path.join(run, 'curve', 'controls.safetensors'));
    refused(['query', '--run', run, '--pref', '0.5,0.5'], /controls\.safetensors has too many symbolic links/);
    const run2 = copy('dangling-tuned');
    symlinkSync(path.join(root, 'nowhere', 'tuned'), path.join(run2, 'tuned'));
    refused(['query', '--run', run2, '--pref', '0.5,0.5', '--tune', '2', '--quiet'], /tuned is a symbolic link to something that does not exist/);
    // the user's link is theirs: never removed as something a failed command made
    expect(readdirSync(run2)).toContain('tuned');
  });

  it('NaN or infinite weights are refused on every import path, naming the tensor and the first bad index', () => {
    const nan = path.join(root, 'nan.onnx');
    onnxMlp(nan, 8, 5, { tensor: 'W', index: 13, value: NaN });
    const inf = path.join(root, 'inf.onnx');
    onnxMlp(inf, 8, 5, { tensor: 'B0', index: 1, value: -Infinity });
    const fresh = path.join(root, 'runs', 'nan-train');
    refused(['train', '--run', fresh, '--data', data, '--model-onnx', nan, '--pref', '0.5,0.5', '--epochs', '1', '--quiet'], /tensor W holds a non-finite value \(NaN\) at index 13 \(\[3, 1\] of shape \[8, 4\]\)/);
    expect(existsSync(fresh)).toBe(false);
    refused(['import', '--run', path.join(root, 'runs', 'nan-import'), '--data', data, '--endpoint', `a=${inf}`, '--quiet'], /tensor B0 holds a non-finite value \(-Infinity\) at index 1/);
    expect(existsSync(path.join(root, 'runs', 'nan-import'))).toBe(false);
    // safetensors and tfjs: an export of the base run, with one value made NaN
    const st = path.join(root, 'nan-st');
    ok(['export', '--run', base, '--t', '0', '--format', 'safetensors', '--out', st]);
    const stFile = path.join(st, 'model.safetensors');
    const bytes = readFileSync(stFile);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString()) as Record<string, { data_offsets: [number, number] }>;
    const [name, entry] = Object.entries(header).find(([k]) => k !== '__metadata__')!;
    bytes.writeFloatLE(NaN, 8 + headerLen + entry.data_offsets[0] + 4 * 3);
    writeFileSync(stFile, bytes);
    const into = copy('nan-into');
    refused(['import', '--run', into, '--endpoint', `s=${stFile}`, '--quiet'], new RegExp(`tensor ${name.replace(/\./g, '\\.')} holds a non-finite value \\(NaN\\) at index 3`));
    const tj = path.join(root, 'nan-tfjs');
    ok(['export', '--run', base, '--t', '0', '--format', 'tfjs', '--out', tj]);
    const wb = readFileSync(path.join(tj, 'weights.bin'));
    wb.writeFloatLE(Infinity, 4 * 7);
    writeFileSync(path.join(tj, 'weights.bin'), wb);
    refused(['import', '--run', into, '--endpoint', `t=${tj}`, '--quiet'], /weight \S+ holds a non-finite value \(Infinity\) at index 7/);
    expect(readdirSync(path.join(into, 'endpoints')).sort()).toEqual(readdirSync(path.join(base, 'endpoints')).sort());
  });

  it("export --format onnx checks the run's model.onnx first: swapped for another network, empty, truncated, another format, a link to a non-ONNX file", () => {
    const run = path.join(root, 'runs', 'onnx-run');
    const a = path.join(root, 'a.onnx');
    const b = path.join(root, 'b.onnx');
    onnxMlp(a, 8, 1);
    onnxMlp(b, 8, 2);
    ok(['import', '--run', run, '--data', data, '--endpoint', `a=${a}`, '--pref', '0.8,0.2', '--endpoint', `b=${b}`, '--pref', '0.2,0.8', '--quiet']);
    ok(['curve', 'fit', '--run', run, '--epochs', '1', '--batch-size', '32', '--eval-points', '0', '--quiet']);
    ok(['curve', 'eval', '--run', run, '--points', '3', '--quiet']);
    const source = path.join(run, 'model.onnx');
    const original = readFileSync(source);
    const other = path.join(root, 'other.onnx');
    onnxMlp(other, 12, 3);
    const damage: [string, () => void, RegExp][] = [
      ['another network', () => cpSync(other, source), /model\.onnx is not the same network as the run: .*layer 0/],
      ['empty', () => writeFileSync(source, ''), /model\.onnx is not an ONNX model/],
      ['truncated', () => writeFileSync(source, original.subarray(0, original.length >> 1)), /model\.onnx is not an ONNX model/],
      ['another format', () => writeFileSync(source, JSON.stringify({ not: 'onnx' })), /model\.onnx is not an ONNX model/],
      ['a link to a non-ONNX file', () => { rmSync(source); symlinkSync(path.resolve('package.json'), source); }, /model\.onnx is not an ONNX model/],
      ['a directory', () => { rmSync(source); mkdirSync(source); }, /model\.onnx is a directory/],
    ];
    for (const [what, make, said] of damage) {
      make();
      const out = path.join(root, 'onnx-out', what.replace(/\W+/g, '-'));
      refused(['export', '--run', run, '--pref', '0.5,0.5', '--format', 'onnx', '--out', out], said);
      // with --tune the check comes before the tuning: no tuned model is made
      refused(['export', '--run', run, '--pref', '0.5,0.5', '--tune', '3', '--format', 'onnx', '--out', out], said);
      expect(existsSync(out), what).toBe(false);
      expect(existsSync(path.join(run, 'tuned')), what).toBe(false);
      rmSync(source, { recursive: true, force: true });
      writeFileSync(source, original);
    }
    ok(['export', '--run', run, '--pref', '0.5,0.5', '--format', 'onnx', '--out', path.join(root, 'onnx-out', 'good')]);
  });

  it('tasks.json names the per-task label files by name, never by position; a disagreement is refused', async () => {
    const dir = path.join(root, 'three');
    mkdirSync(dir);
    const n = 60;
    const top = Int32Array.from({ length: n }, (_, i) => i % 10);
    const bottom = Int32Array.from({ length: n }, (_, i) => (i * 7) % 10);
    const sum = Float32Array.from({ length: n }, (_, i) => top[i] + bottom[i]);
    for (const split of ['train', 'test']) {
      writeFileSync(path.join(dir, `x_${split}.npy`), npy('<f4', [n, 4], Float32Array.from({ length: n * 4 }, (_, i) => (i % 13) / 13)));
      writeFileSync(path.join(dir, `y_${split}_top.npy`), npy('<i4', [n], top));
      writeFileSync(path.join(dir, `y_${split}_bottom.npy`), npy('<i4', [n], bottom));
      writeFileSync(path.join(dir, `y_${split}_sum.npy`), npy('<f4', [n], sum));
    }
    writeFileSync(path.join(dir, 'tasks.json'), JSON.stringify(['top', 'bottom', 'sum']));
    const ds = await loadDataset('npy', { dataDir: dir, seed: 0, quiet: true });
    expect(ds.taskNames).toEqual(['top', 'bottom', 'sum']);
    expect(Array.from(ds.test.y[0])).toEqual(Array.from(top));
    expect(Array.from(ds.test.y[1])).toEqual(Array.from(bottom));
    expect(Array.from(ds.test.y[2])).toEqual(Array.from(sum));
    writeFileSync(path.join(dir, 'tasks.json'), JSON.stringify(['top', 'bottom', 'total']));
    const run = path.join(root, 'runs', 'mislabelled');
    refused(['train', '--run', run, '--data', dir, '--arch', 'mlp-mtl', '--pref', '1,1,1', '--epochs', '1', '--quiet'], /tasks\.json does not match the label files \(no y_train_<task>\.npy for 'total'; y_train_sum\.npy is not named in it\)/);
    expect(existsSync(run)).toBe(false);
    // the splits themselves must name the same tasks
    rmSync(path.join(dir, 'tasks.json'));
    rmSync(path.join(dir, 'y_test_sum.npy'));
    writeFileSync(path.join(dir, 'y_test_total.npy'), npy('<f4', [n], sum));
    refused(['train', '--run', run, '--data', dir, '--arch', 'mlp-mtl', '--pref', '1,1,1', '--epochs', '1', '--quiet'], /the test labels are for tasks bottom, top, total, the train labels for bottom, sum, top/);
  });

  it('counts a typo makes absurd are refused with the bound in the message, before any work', () => {
    const t0 = performance.now();
    refused(['train', '--run', path.join(root, 'runs', 'warm'), '--pref', '0.5,0.5', '--warm-start', '1e9', '--epochs', '1'], /--warm-start must be at most 100000, got 1e9/);
    refused(['demo', '--out', path.join(root, 'runs', 'demo'), '--warm-start', '1000001'], /--warm-start must be at most 100000/);
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(existsSync(path.join(root, 'runs', 'warm'))).toBe(false);
  });

  it('EXTRA_NATIVE_ISA and EXTRA_NATIVE_KERNELS with an unknown value are refused like a bad flag', () => {
    const args = ['query', '--run', base, '--pref', '0.5,0.5', '--tune', '1', '--quiet'];
    expect(extra(args, { EXTRA_NATIVE_ISA: 'bogus' })).toMatchObject({ code: 2, err: expect.stringMatching(/EXTRA_NATIVE_ISA=bogus is not an instruction set of the native kernels \(known: avx512, avx2, portable\)/) });
    expect(extra(args, { EXTRA_NATIVE_KERNELS: 'banana' })).toMatchObject({ code: 2, err: expect.stringMatching(/EXTRA_NATIVE_KERNELS=banana is not a setting/) });
    expect(existsSync(path.join(base, 'tuned'))).toBe(false);
  });

  it('train --resume with a changed flag, or from a damaged warm start, is refused before any status or progress line', () => {
    const only = (err: string) => err.trim().split('\n').filter((l) => !l.startsWith('[backend]'));
    const run = copy('resume-checks');
    const changed = extra(['train', '--run', run, '--pref', '0.8,0.2', '--pref', '0.2,0.8', '--epochs', '2', '--batch-size', '64', '--lr', '0.5', '--resume']);
    expect(changed.code).toBe(2);
    expect(only(changed.err)).toEqual([expect.stringMatching(/^extra train: ls-0\.8_0\.2: --resume with settings that differ from the checkpoint's \(--lr 0\.001 → 0\.5\)/)]);
    const warm = path.join(root, 'runs', 'warm-damaged');
    ok(['train', '--run', warm, '--pref', '0.8,0.2', '--pref', '0.2,0.8', '--epochs', '1', '--warm-start', '1', '--train-size', '256', '--val-size', '64', '--test-size', '64', '--batch-size', '64', '--quiet']);
    const ck = path.join(warm, 'warm-start', 'checkpoint.safetensors');
    writeFileSync(ck, readFileSync(ck).subarray(0, 2000));
    const before = tree(warm);
    const damaged = extra(['train', '--run', warm, '--pref', '0.8,0.2', '--pref', '0.2,0.8', '--epochs', '2', '--warm-start', '2', '--batch-size', '64', '--resume']);
    expect(damaged.code).toBe(2);
    expect(only(damaged.err)).toEqual([expect.stringMatching(/warm-start\/checkpoint\.safetensors is truncated or not safetensors/)]);
    expect(tree(warm)).toEqual(before);
  });

  it('an export checks its --out before any work (a file, under a file) and clears what an earlier killed export left', () => {
    const run = copy('out-checks');
    const file = path.join(root, 'a-file');
    writeFileSync(file, 'x');
    refused(['export', '--run', run, '--pref', '0.5,0.5', '--tune', '3', '--format', 'tfjs', '--out', file], /--out .*a-file already exists and is a file, not a directory/);
    refused(['export', '--run', run, '--pref', '0.5,0.5', '--tune', '3', '--format', 'tfjs', '--out', path.join(file, 'sub')], /a-file\/sub is not a directory: it lies under .*a-file, which is a file/);
    expect(existsSync(path.join(run, 'tuned'))).toBe(false);
    // the temporary files of an export that was killed as it wrote go with the next export there
    const out = path.join(root, 'killed-out');
    mkdirSync(out);
    const pid = deadPid();
    writeFileSync(path.join(out, `weights.bin.${pid}.0badc0de.tmp`), 'half');
    writeFileSync(path.join(out, `model.onnx.${pid}.0badc0de.tmp`), 'half');
    ok(['export', '--run', run, '--pref', '0.5,0.5', '--format', 'tfjs', '--out', out]);
    expect(readdirSync(out).sort()).toEqual(['model.json', 'weights.bin']);
    // and a stale lock or temp file inside the run goes when the run is opened
    writeFileSync(path.join(run, 'curve', '.lock'), JSON.stringify({ pid, since: 'then' }));
    writeFileSync(path.join(run, 'curve', `controls.safetensors.${pid}.0badc0de.tmp`), 'half');
    ok(['query', '--run', run, '--pref', '0.5,0.5']);
    expectNoLeftovers(run, 'the reopened run');
    expect([...tree(run).keys()].some((k) => k.includes('.tmp'))).toBe(false);
  });
});
