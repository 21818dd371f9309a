import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { npy } from './npy-writer.js';

/**
 * Writes data in the MTAN/LibMTL per-sample layout that `--dataset nyuv2` / `cityscapes` read
 * (DIR/{train,val}/{image,label,depth,normal}/{i}.npy) with seeded random arrays, for tests.
 */

/** One sample of the MTAN/LibMTL layout, as the arrays written. */
export interface Sample {
  image: Float32Array;
  label: Float32Array;
  depth: Float32Array;
  normal: Float32Array;
}

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** Random arrays in the layout: image H×W×3, label H×W (float, −1 ignored), depth H×W×1 (0 = none), normal H×W×3 (unit or 0). */
function sample(H: number, W: number, rnd: () => number, classes: number): Sample {
  const P = H * W;
  const normal = new Float32Array(P * 3);
  for (let p = 0; p < P; p++) {
    if (rnd() < 0.15) continue;
    const v = [rnd() - 0.5, rnd() - 0.5, -0.3 - rnd()];
    const l = Math.hypot(...v);
    v.forEach((c, j) => (normal[3 * p + j] = c / l));
  }
  return {
    image: Float32Array.from({ length: P * 3 }, rnd),
    label: Float32Array.from({ length: P }, () => (rnd() < 0.15 ? -1 : Math.floor(rnd() * classes))),
    depth: Float32Array.from({ length: P }, () => (rnd() < 0.15 ? 0 : 0.5 + 9 * rnd())),
    normal,
  };
}

/** Write DIR/{train,val}/{image,label,depth,normal}/{i}.npy with random arrays; returns what was written. */
export function writeLayout(dir: string, H: number, W: number, counts: { train: number; val: number }, seed = 1, classes = 13, folders = { label: 'label', normal: 'normal' as string | null }): Record<'train' | 'val', Sample[]> {
  const rnd = rng(seed);
  const out = { train: [] as Sample[], val: [] as Sample[] };
  for (const s of ['train', 'val'] as const) {
    for (const f of ['image', folders.label, 'depth', ...(folders.normal ? [folders.normal] : [])]) mkdirSync(path.join(dir, s, f), { recursive: true });
    for (let i = 0; i < counts[s]; i++) {
      const smp = sample(H, W, rnd, classes);
      out[s].push(smp);
      writeFileSync(path.join(dir, s, 'image', `${i}.npy`), npy('<f4', [H, W, 3], smp.image));
      writeFileSync(path.join(dir, s, folders.label, `${i}.npy`), npy('<f4', [H, W], smp.label));
      writeFileSync(path.join(dir, s, 'depth', `${i}.npy`), npy('<f4', [H, W, 1], smp.depth));
      if (folders.normal) writeFileSync(path.join(dir, s, folders.normal, `${i}.npy`), npy('<f4', [H, W, 3], smp.normal));
    }
  }
  return out;
}
