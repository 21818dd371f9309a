import os from 'node:os';
import * as tf from '@tensorflow/tfjs';

/** What a benchmark ran on: printed with every result. */
export function machineInfo(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    tfjs: tf.version.tfjs,
    date: new Date().toISOString(),
  };
}
