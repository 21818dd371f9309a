import { machineInfo } from '../../bench/machine.js';
import { ExtraInputError } from '../../errors.js';
import { benchModels, measureTraining, trainTables } from '../../bench/train.js';
import { optNumber, optString } from '../args.js';
import type { BenchmarkEntry } from './entry.js';

export const trainBench: BenchmarkEntry = {
  summary: 'training throughput on 1 and 2 threads, curve vs endpoint step, whole processes; vs PyTorch-CPU (reports/train.md)',
  help: `extra bench train [--steps 10] [--repeats 3] [--epochs 3] [--models ${benchModels.join(',')}] [--steps-only]
   (npm run bench:train [-- ...])

Training throughput (batch 256, forward + backward + Adam), side by side with PyTorch-CPU when Debian's
python3-torch is installed (/usr/bin/python3, scripts/bench_torch*.py): one training on 1 thread, one on 2
threads (data-parallel), two trainings at once, the curve step vs the endpoint step, and whole processes
(\`extra train\` vs the PyTorch script on the same multi-mnist split); medians of R runs.
  --steps N         timed steps per measurement, after 2 warm-ups (default 10)
  --repeats R       runs per median (default 3)
  --epochs E        epochs of the whole-process rows (default 3)
  --models LIST     the step rows' models (segnet: segnet-mtl at batch 64 on dense-digits-shaped data, 32×32×1
                    with seg 11 / depth 1 / normal 3 heads and the three per-pixel losses; resnet18 and vit:
                    torchvision's resnet18 and a ViT (width 192, 6 blocks) on 3×64×64 with two 10-class heads,
                    batch 64, which PyTorch exports and extra imports from that ONNX file: they need
                    python3-torch (resnet18 also python3-torchvision), and a fair PyTorch needs an optimized
                    BLAS (apt-get install libopenblas0-pthread; the table says which one it ran on))
  --steps-only      the step rows only (no curve-step or whole-process rows)`,
  flags: { values: ['steps', 'repeats', 'epochs', 'models'], switches: ['steps-only'] },
  run: async (v, io) => {
    const cmd = 'bench train';
    const steps = optNumber(cmd, v, 'steps', { integer: true, positive: true }) ?? 10;
    const repeats = optNumber(cmd, v, 'repeats', { integer: true, positive: true, max: 100 }) ?? 3;
    const epochs = optNumber(cmd, v, 'epochs', { integer: true, positive: true }) ?? 3;
    const models = optString(v, 'models')?.split(',').map((m) => m.trim());
    const unknown = models?.filter((m) => !benchModels.includes(m as (typeof benchModels)[number]));
    if (unknown?.length) throw new ExtraInputError(`${cmd}: unknown --models ${unknown.join(', ')} (known: ${benchModels.join(', ')})`);
    const picked = models ? benchModels.filter((m) => models.includes(m)) : undefined;
    io.out(JSON.stringify(machineInfo()));
    io.out(trainTables(await measureTraining({ steps, repeats, epochs, models: picked, stepsOnly: v['steps-only'] === true }, io.out)));
    return 0;
  },
};
