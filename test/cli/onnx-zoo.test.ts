import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { extra } from '../fixtures.js';
import { npy } from '../npy-writer.js';

const ZOO = path.resolve(__dirname, '../fixtures/onnx-zoo');
const torchThere = spawnSync('/usr/bin/python3', ['-c', 'import torchvision'], { encoding: 'utf8' }).status === 0;

/**
 * The torchvision-family and ViT fixtures (scripts/onnx_zoo.py) through the whole tool: train --model-onnx from
 * the file's weights, curve fit, export ONNX (onnxruntime runs it) and safetensors (PyTorch loads it strictly,
 * and at t = 0 gives the file's own tensors back).
 */
describe('torch.onnx.export of torchvision families and a ViT → train --model-onnx → curve fit → export', () => {
  let data = '';
  beforeAll(() => {
    data = mkdtempSync(path.join(tmpdir(), 'extra-zoo-npy-'));
    for (const [split, n] of [['train', 48], ['test', 16]] as const) {
      writeFileSync(path.join(data, `x_${split}.npy`), npy('<f4', [n, 32, 32, 3], Float32Array.from({ length: n * 32 * 32 * 3 }, (_, i) => ((i * 13) % 29) / 29)));
      writeFileSync(path.join(data, `y_${split}_a.npy`), npy('<i4', [n], Int32Array.from({ length: n }, (_, i) => i % 10)));
      writeFileSync(path.join(data, `y_${split}_b.npy`), npy('<i4', [n], Int32Array.from({ length: n }, (_, i) => i % 3)));
    }
  });

  for (const [net, opset] of [['vit', 13], ['resnet-tied', 13], ['ops', 17]] as const) {
    it(`${net} (opset ${opset})`, async () => {
      const file = path.join(ZOO, `${net}-op${opset}.onnx`);
      const run = path.join(mkdtempSync(path.join(tmpdir(), 'extra-zoo-run-')), 'r');
      const steps = [
        ['train', '--run', run, '--model-onnx', file, '--pref', '0.8,0.2', '--pref', '0.2,0.8', '--epochs', '1', '--batch-size', '16', '--data', data],
        ['curve', 'fit', '--run', run, '--epochs', '1', '--batch-size', '16', '--eval-points', '0'],
      ];
      for (const s of steps) {
        const r = extra(s);
        expect(r.code, r.err).toBe(0);
      }
      const out = mkdtempSync(path.join(tmpdir(), 'extra-zoo-out-'));
      const e = extra(['export', '--run', run, '--t', '0.5', '--format', 'onnx', '--out', path.join(out, 'onnx'), '--json']);
      expect(e.code, e.err).toBe(0);
      const onnxFile = JSON.parse(e.out).files[0] as string;
      const session = await ort.InferenceSession.create(onnxFile);
      const x = Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => ((i * 7) % 13) / 13);
      const res = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [2, 3, 32, 32]) });
      expect(session.outputNames.map((o) => res[o].dims)).toEqual([[2, 10], [2, 3]]);
      for (const o of session.outputNames) expect(Array.from(res[o].data as Float32Array).every(Number.isFinite)).toBe(true);
      const st = extra(['export', '--run', run, '--t', '0', '--format', 'safetensors', '--out', path.join(out, 'st')]);
      expect(st.code, st.err).toBe(0);
      expect(readdirSync(path.join(out, 'st'))).toContain('model.safetensors');
      if (torchThere) {
        const p = spawnSync('/usr/bin/python3', [path.resolve('scripts/onnx_zoo.py'), '--check', net, path.join(out, 'st', 'model.safetensors')], { encoding: 'utf8' });
        expect(p.status, p.stderr).toBe(0);
        expect(JSON.parse(p.stdout.trim().split('\n').pop()!).loaded).toBe(true);
      }
    }, 300_000);
  }
});
