import * as tf from '@tensorflow/tfjs';
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { decodeOnnx, encodeOnnx } from '../../src/models/onnx/proto.js';
import { importOnnx, onnxModelSpec } from '../../src/models/onnx/import.js';
import { buildModel } from '../../src/models/index.js';
import { ExtraInputError, FileFormatError } from '../../src/errors.js';

/**
 * The ONNX reader on damaged files: every zoo fixture with one attribute or one integer constant changed to a
 * value a typo or a broken exporter writes (0, −1, 100, …). Each is imported and built or refused with
 * extra's one-line input error; never an internal error (a TypeError, an 'internal:' assertion).
 */
describe('damaged ONNX attributes and shape constants', () => {
  it('are read or refused as bad input, never an internal error', async () => {
    await tf.setBackend('cpu');
    const D = 'test/fixtures/onnx-zoo';
    let seed = 7;
    const rnd = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
    const bad = new Map<string, string>();
    let n = 0;
    for (const f of readdirSync(D).filter((f) => f.endsWith('.onnx'))) {
      const bytes = new Uint8Array(readFileSync(`${D}/${f}`));
      for (let trial = 0; trial < 12; trial++) {
        const m = decodeOnnx(bytes, f) as unknown as { graph: { node: { op_type: string; name: string; attribute: { name: string; i?: number | { toNumber(): number }; ints?: unknown[]; f?: number }[]; input: string[] }[] } };
        const consts = (m.graph.node as unknown as { op_type: string; attribute: { t?: { data_type: number; raw_data: Uint8Array; dims: unknown[] } }[] }[]).filter((x) => x.op_type === 'Constant' && x.attribute[0]?.t?.data_type === 7 && x.attribute[0].t.raw_data.length >= 8);
        if (consts.length && rnd() < 0.5) {
          const t = consts[Math.floor(rnd() * consts.length)].attribute[0].t!;
          const raw = new Uint8Array(t.raw_data);
          const k = Math.floor(rnd() * (raw.length / 8));
          const vals = [0, -1, 1, 2, 3, 5, 100, -100, -2, 9223372036854775807n];
          const v = vals[Math.floor(rnd() * vals.length)];
          new DataView(raw.buffer).setBigInt64(8 * k, BigInt(v), true);
          t.raw_data = raw;
          let out2: Uint8Array;
          try { out2 = encodeOnnx(m as unknown as Record<string, unknown>); } catch { continue; }
          n++;
          try {
            const imp = importOnnx(out2, f);
            buildModel(onnxModelSpec(imp, f, { inputShape: [32, 32, 3], numClasses: [10, 3], taskNames: ['a', 'b'] }));
          } catch (e) {
            if (e instanceof ExtraInputError || e instanceof FileFormatError) continue;
            const key = `Constant=${v}: ${(e as Error).message.split('\n')[0].slice(0, 160)}`;
            if (!bad.has(key)) bad.set(key, f);
          }
          continue;
        }
        const nodes = m.graph.node.filter((x) => x.attribute.length);
        const node = nodes[Math.floor(rnd() * nodes.length)];
        const a = node.attribute[Math.floor(rnd() * node.attribute.length)];
        const vals = [0, -1, 1, 2, 3, 5, 7, 100, -100, -2];
        const v = vals[Math.floor(rnd() * vals.length)];
        if (a.ints && a.ints.length) { const k = Math.floor(rnd() * a.ints.length); a.ints[k] = v; } else if (typeof a.f === 'number' && a.f !== 0 && !a.i) a.f = v; else a.i = v;
        let out: Uint8Array;
        try { out = encodeOnnx(m as unknown as Record<string, unknown>); } catch { continue; }
        n++;
        try {
          const imp = importOnnx(out, f);
          const spec = onnxModelSpec(imp, f, { inputShape: [32, 32, 3], numClasses: [10, 3], taskNames: ['a', 'b'] });
          buildModel(spec);
        } catch (e) {
          if (e instanceof ExtraInputError || e instanceof FileFormatError) continue;
          const key = `${node.op_type}.${a.name}=${v}: ${(e as Error).message.split('\n')[0].slice(0, 160)}`;
          if (!bad.has(key)) bad.set(key, f);
        }
      }
    }
    expect(n).toBeGreaterThan(150);
    expect([...bad].map(([k, f]) => `${f} ${k}`)).toEqual([]);
  }, 300_000);
});
