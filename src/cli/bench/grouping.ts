import { groupingLine, groupingRun, groupingTable, type GroupingRun } from '../../bench/grouping.js';
import { machineInfo } from '../../bench/machine.js';
import { ExtraInputError } from '../../errors.js';
import { optNumber, optString } from '../args.js';
import type { BenchmarkEntry } from './entry.js';

export const groupingBench: BenchmarkEntry = {
  summary: "stability of 'extra group' on multi-mnist-attributes over seeds and warm-up lengths (adjusted Rand index)",
  help: `extra bench grouping [--seeds 3] [--warmups 1,3] [--train-size 10000] [--out runs/bench-grouping]

Task grouping, checked: 'extra group' (k = 3) on multi-mnist-attributes for seeds 0..N-1 and each warm-up
length; prints each grouping, the adjusted Rand index of every pair, and against the two digit positions.`,
  flags: { values: ['seeds', 'warmups', 'train-size', 'out'] },
  run: async (v, io) => {
    const cmd = 'bench grouping';
    const seeds = optNumber(cmd, v, 'seeds', { integer: true, positive: true, max: 100 }) ?? 3;
    const warmups = (optString(v, 'warmups') ?? '1,3').split(',').map(Number);
    if (warmups.some((w) => !Number.isInteger(w) || w < 1)) throw new ExtraInputError(`${cmd}: --warmups must be positive integers, got '${optString(v, 'warmups')}'`);
    const trainSize = optNumber(cmd, v, 'train-size', { integer: true, positive: true }) ?? 10000;
    const out = optString(v, 'out') ?? 'runs/bench-grouping';
    io.out(JSON.stringify(machineInfo()));
    const runs: GroupingRun[] = [];
    for (const warmupEpochs of warmups) {
      for (let seed = 0; seed < seeds; seed++) {
        runs.push(await groupingRun({ out, seed, warmupEpochs, trainSize }));
        io.out(groupingLine(runs[runs.length - 1]));
      }
    }
    io.out(groupingTable(runs));
    return 0;
  },
};
