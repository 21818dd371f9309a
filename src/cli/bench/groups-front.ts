import { groupsFrontSeed, groupsFrontTables, type GroupsFrontRow } from '../../bench/groups-front.js';
import { machineInfo } from '../../bench/machine.js';
import { optNumber, optString } from '../args.js';
import type { BenchmarkEntry } from './entry.js';

export const groupsFrontBench: BenchmarkEntry = {
  summary: 'grouped curve vs ungrouped curve vs surface on multi-mnist-attributes (3-D HV of the group losses, paired per seed)',
  help: `extra bench groups-front [--seeds 3] [--epochs 4] [--curve-epochs 4] [--surface-epochs 4] [--points 21]
   [--resolution 10] [--train-size 10000] [--out runs/bench-groups-front]

Per seed: 'extra group' (k = 3), three endpoints (one favouring each group), the grouped curve, an ungrouped
curve between the same endpoints and the surface over all three; each front scored on the 3-D hypervolume of
the three group test losses (ref 2,2,2) and the best worst-group test loss. Progress on stderr.`,
  flags: { values: ['seeds', 'epochs', 'curve-epochs', 'surface-epochs', 'points', 'resolution', 'train-size', 'out'] },
  run: async (v, io) => {
    const cmd = 'bench groups-front';
    const epochs = (name: string) => optNumber(cmd, v, name, { integer: true, positive: true }) ?? 4;
    const o = {
      out: optString(v, 'out') ?? 'runs/bench-groups-front',
      epochs: epochs('epochs'),
      curveEpochs: epochs('curve-epochs'),
      surfaceEpochs: epochs('surface-epochs'),
      points: optNumber(cmd, v, 'points', { integer: true, min: 2 }) ?? 21,
      resolution: optNumber(cmd, v, 'resolution', { integer: true, positive: true, max: 1000 }) ?? 10,
      trainSize: optNumber(cmd, v, 'train-size', { integer: true, positive: true }) ?? 10000,
    };
    const seeds = optNumber(cmd, v, 'seeds', { integer: true, positive: true, max: 100 }) ?? 3;
    io.out(JSON.stringify(machineInfo()));
    const rows: GroupsFrontRow[] = [];
    for (let seed = 0; seed < seeds; seed++) rows.push(await groupsFrontSeed({ ...o, seed }, io.err));
    io.out(groupsFrontTables(rows));
    return 0;
  },
};
