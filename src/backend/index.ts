import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { registerMissingWasmKernels, kernelEngine, nativeKernelsDecision } from './wasm-kernels.js';
import { assertNativeSettings } from './wasm/native.js';

export { registerMissingWasmKernels, simdKernelsActive, kernelEngine, setNativeThreads, nativeThreads, nativeKernelsDecision, nativeAdam, nativeAdamTensors, nativeBatchNormTraining, nativeGelu, nativeLayerNorm, nativeDenseWithBias, nativeAttention, type AttentionHeads, type HeadLayout, type HeadPlace, type NativeAdam } from './wasm-kernels.js';

/** Backends in order of preference. The native ones are optionalDependencies. */
export const backendOrder = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof backendOrder)[number];

const aliases: Record<string, BackendName> = {
  'tensorflow-gpu': 'tensorflow-gpu',
  'tfjs-node-gpu': 'tensorflow-gpu',
  gpu: 'tensorflow-gpu',
  tensorflow: 'tensorflow',
  'tfjs-node': 'tensorflow',
  node: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

export interface BackendChoice {
  name: BackendName;
  tried: { name: BackendName; error?: string }[];
}

const require = createRequire(import.meta.url);
let current: BackendChoice | null = null;

async function tryLoad(name: BackendName): Promise<void> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      // loading tfjs-node registers the 'tensorflow' backend with this tfjs instance
      const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      await import(pkg);
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not initialise`);
      return;
    }
    case 'wasm': {
      if (process.env.EXTRA_NATIVE_KERNELS === '1') {
        const native = nativeKernelsDecision();
        if (!native.use) throw new ExtraInputError(`EXTRA_NATIVE_KERNELS=1 but the native kernels cannot run: ${native.reason}`);
      }
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
      wasm.setWasmPaths(dir);
      registerMissingWasmKernels();
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
      return;
    }
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
      return;
  }
}

/**
 * Choose the compute backend: the forced one (flag or EXTRA_BACKEND), or the first of
 * tensorflow-gpu → tensorflow → wasm → cpu that loads. Reports the choice on stderr.
 */
export async function selectBackend(opts: { prefer?: string; quiet?: boolean } = {}): Promise<BackendChoice> {
  // PROD silences tfjs's console warnings (e.g. its advert for tfjs-node on the cpu backend), which
  // would break our "one line on stderr" contract for errors; we report the backend ourselves
  tf.env().set('PROD', true);
  assertNativeSettings();
  const forced = opts.prefer ?? process.env.EXTRA_BACKEND ?? undefined;
  let order: BackendName[];
  if (forced) {
    const name = aliases[forced.toLowerCase()];
    if (!name) throw new ExtraInputError(`unknown backend '${forced}' (known: ${backendOrder.join(', ')})`);
    order = [name];
  } else {
    order = [...backendOrder];
  }
  if (current && order.includes(current.name) && (forced ? current.name === order[0] : true) && tf.getBackend() === backendTfName(current.name)) {
    return current;
  }
  const tried: BackendChoice['tried'] = [];
  for (const name of order) {
    try {
      await tryLoad(name);
      tried.push({ name });
      current = { name, tried };
      if (!opts.quiet) process.stderr.write(`[backend] ${name}${tried.length > 1 ? ` (skipped: ${tried.slice(0, -1).map((t) => t.name).join(', ')})` : ''}${engineNote(name)}\n`);
      return current;
    } catch (e) {
      if (e instanceof ExtraInputError) throw e;
      tried.push({ name, error: (e as Error).message.split('\n')[0] });
    }
  }
  const why = tried.map((t) => `${t.name}: ${t.error}`).join('; ');
  if (forced) throw new ExtraInputError(`backend '${forced}' is not available here (${why})`);
  throw new Error(`no tfjs backend could be loaded (${why})`);
}

/** The kernels behind the wasm backend, for the backend line ('' on other backends). */
function engineNote(name: BackendName): string {
  if (name !== 'wasm') return '';
  const { engine, detail } = kernelEngine();
  return engine === 'native' ? `, kernels: native (${detail})` : `, kernels: ${engine} (${detail})`;
}

function backendTfName(n: BackendName): string {
  return n === 'tensorflow-gpu' ? 'tensorflow' : n;
}

export function currentBackend(): BackendName | null {
  return current?.name ?? null;
}
