import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { plantedClusters } from '../../src/data/index.js';
import { trainEndpoint } from '../../src/train/index.js';
import { buildModel, defaultModelSpec } from '../../src/models/index.js';
import { taskGradientCosines, cosineToAffinity, spectralClustering, adjustedRandIndex, chooseRoles } from '../../src/grouping/index.js';
import { metricsFile, trainingFiles } from '../../src/run/layout.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('grouping recovers planted task clusters through real gradients', () => {
  const aris: number[] = [];
  for (const seed of [0, 1, 2]) {
    it(`seed ${seed}: warm-up, gradient cosines, spectral clustering → ARI ≥ 0.9`, async () => {
      const { dataset, truth } = plantedClusters({ seed, trainSize: 1024, valSize: 256, testSize: 256 });
      const spec = defaultModelSpec('mlp-mtl', dataset.inputShape, dataset.numClasses, dataset.taskNames, [64]);
      const K = dataset.taskNames.length;
      const warmDir = mkdtempSync(path.join(tmpdir(), 'extra-warm-'));
      const warm = await trainEndpoint(
        {
          dir: warmDir,
          ...trainingFiles(warmDir),
          metricsFile: metricsFile(warmDir),
          id: 'warmup',
          spec,
          method: 'ls',
          preference: Array(K).fill(1 / K),
          epochs: 2,
          batchSize: 64,
          lr: 3e-3,
          optimizer: { name: 'adam' },
          schedule: { name: 'constant' },
          seed,
          resume: false,
          progress: false,
          tieHeadInit: true,
        },
        dataset,
      );
      const cos = taskGradientCosines(buildModel(spec), warm.params, dataset.train, { batches: 6, batchSize: 128, seed });
      // the diagonal is 1 and the matrix is symmetric
      cos.forEach((row, i) => {
        expect(row[i]).toBeCloseTo(1, 6);
        row.forEach((v, j) => expect(v).toBeCloseTo(cos[j][i], 12));
      });
      const r = spectralClustering(cosineToAffinity(cos), 3, seed);
      const ari = adjustedRandIndex(r.labels, truth);
      aris.push(ari);
      expect(ari).toBeGreaterThanOrEqual(0.9);
      // the partly opposed clusters 0 and 2 are the endpoint pair
      const groups = [0, 1, 2].map((g) => r.labels.map((l, i) => (l === g ? i : -1)).filter((i) => i >= 0));
      const roles = chooseRoles(cos, groups);
      const truthOf = (g: number) => truth[groups[g][0]];
      expect([truthOf(roles.endpoints[0]), truthOf(roles.endpoints[1])].sort()).toEqual([0, 2]);
    });
  }
});
