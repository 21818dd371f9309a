import { ExtraInputError } from '../errors.js';
import type { Objective } from './types.js';
import { ls } from './ls.js';
import { chebyshev } from './chebyshev.js';
import { mgda } from './mgda.js';
import { cagrad } from './cagrad.js';
import { fairgrad } from './fairgrad.js';
import { pcgrad } from './pcgrad.js';
import { nashMtl } from './nash.js';
import { dibsMtl } from './dibs.js';
import { famo } from './famo.js';
import { flatRegion } from './flat.js';

const registry = new Map<string, Objective>();

/** Add a method; adding one is one file plus this call. */
export function registerObjective(o: Objective): void {
  registry.set(o.name, o);
}

[ls, chebyshev, mgda, cagrad, fairgrad, pcgrad, nashMtl, dibsMtl, famo, ...[ls, mgda, pcgrad, cagrad].map(flatRegion)].forEach(registerObjective);

export function objectiveNames(): string[] {
  return [...registry.keys()];
}

export function getObjective(name: string): Objective {
  const o = registry.get(name);
  if (!o) throw new ExtraInputError(`unknown method '${name}' (known: ${objectiveNames().join(', ')})`);
  return o;
}
