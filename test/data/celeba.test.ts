import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { loadDataset } from '../../src/data/index.js';

// the 40 attribute names of CelebA's list_attr_celeba.txt, in its order
const ATTRS = '5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young'.split(' ');

/** A 178×218 RGB JPEG: image i is bright on its left half when i is even, on its right half when odd. */
function face(i: number): Buffer {
  const w = 178;
  const h = 218;
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const bright = (x < w / 2) === (i % 2 === 0);
      const o = (y * w + x) * 4;
      data[o] = bright ? 230 : 20;
      data[o + 1] = bright ? 200 : 40;
      data[o + 2] = bright ? 170 : 60;
      data[o + 3] = 255;
    }
  return jpeg.encode({ data, width: w, height: h }, 95).data;
}

describe('celeba: the loader on a small folder in CelebA\'s own layout', () => {
  let dir: string;
  const N = 14;
  const files = Array.from({ length: N }, (_, i) => `${String(i + 1).padStart(6, '0')}.jpg`);
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'extra-celeba-'));
    mkdirSync(path.join(dir, 'img_align_celeba'));
    files.forEach((f, i) => writeFileSync(path.join(dir, 'img_align_celeba', f), face(i)));
    // attribute k of image i is 1 when (i + k) is divisible by 3; Smiling is "bright on the left"
    const rows = files.map((f, i) => `${f} ${ATTRS.map((a, k) => (a === 'Smiling' ? (i % 2 === 0 ? ' 1' : '-1') : (i + k) % 3 === 0 ? ' 1' : '-1')).join(' ')}`);
    writeFileSync(path.join(dir, 'list_attr_celeba.txt'), `${N}\n${ATTRS.join(' ')} \n${rows.join('\n')}\n`);
    // 10 train, 2 val, 2 test
    writeFileSync(path.join(dir, 'list_eval_partition.txt'), files.map((f, i) => `${f} ${i < 10 ? 0 : i < 12 ? 1 : 2}`).join('\n') + '\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('40 binary tasks, partitions, and centre-cropped antialiased images', async () => {
    const cacheDir = path.join(dir, 'cache');
    const ds = await loadDataset('celeba', { dataDir: dir, resolution: 16, quiet: true, cacheDir });
    expect(ds.inputShape).toEqual([16, 16, 3]);
    expect(ds.taskNames).toEqual(ATTRS);
    expect(ds.numClasses).toEqual(ATTRS.map(() => 2));
    expect([ds.train.n, ds.val.n, ds.test.n]).toEqual([10, 2, 2]);
    const smiling = ATTRS.indexOf('Smiling');
    expect(Array.from(ds.train.y[smiling])).toEqual([1, 0, 1, 0, 1, 0, 1, 0, 1, 0]);
    expect(Array.from(ds.train.y[1]).slice(0, 4)).toEqual([0, 0, 1, 0]); // (i + 1) % 3 === 0 at i = 2
    // image 0 is bright on the left: the left columns hold its colour (230,200,170)/255, the right ones the dark one
    const px = (x: number, y: number, c: number) => ds.train.x[(y * 16 + x) * 3 + c];
    expect(px(2, 8, 0)).toBeCloseTo(230 / 255, 1);
    expect(px(2, 8, 2)).toBeCloseTo(170 / 255, 1);
    expect(px(13, 8, 0)).toBeCloseTo(20 / 255, 1);
    // read again: from the cache, the same set
    const again = await loadDataset('celeba', { dataDir: dir, resolution: 16, quiet: true, cacheDir });
    expect(again.fingerprint).toBe(ds.fingerprint);
    expect(Array.from(again.test.x.slice(0, 50))).toEqual(Array.from(ds.test.x.slice(0, 50)));
    const two = await loadDataset('celeba', { dataDir: dir, resolution: 16, attributes: ['Smiling', 'Young'], trainSize: 4, quiet: true, cacheDir });
    expect(two.taskNames).toEqual(['Smiling', 'Young']);
    expect(two.train.n).toBe(4);
  });

  it('one-line errors for what is wrong with the folder', async () => {
    const cacheDir = path.join(dir, 'cache2');
    await expect(loadDataset('celeba', { dataDir: dir, attributes: ['Grinning'], quiet: true, cacheDir })).rejects.toThrow(/unknown CelebA attribute\(s\) Grinning/);
    await expect(loadDataset('celeba', { dataDir: path.join(dir, 'nope'), quiet: true, cacheDir })).rejects.toThrow(/CelebA folder .*nope does not exist/);
    await expect(loadDataset('celeba', { dataDir: dir, trainSize: 11, quiet: true, cacheDir })).rejects.toThrow(/--train-size 11 is more than CelebA's 10 train images/);
    writeFileSync(path.join(dir, 'img_align_celeba', files[13]), Buffer.from('not a jpeg'));
    await expect(loadDataset('celeba', { dataDir: dir, resolution: 16, quiet: true, cacheDir })).rejects.toThrow(/000014\.jpg is not a readable JPEG/);
    rmSync(path.join(dir, 'list_eval_partition.txt'));
    await expect(loadDataset('celeba', { dataDir: dir, quiet: true, cacheDir })).rejects.toThrow(/missing data file .*list_eval_partition\.txt/);
  });
});
