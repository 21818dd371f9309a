// What a benchmark ran on: printed with every result (one definition, in src/bench/machine.ts).
export { machineInfo } from '../dist/bench/machine.js';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
