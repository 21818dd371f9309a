import type { TaskKindEntry } from './types.js';
import { bceKind, ceKind } from './classification.js';
import { mseKind } from './regression.js';
import { segKind } from './seg.js';
import { depthKind } from './depth.js';
import { normalKind } from './normal.js';

/** The kinds of task, by name: a new kind is one file in this folder and one line here. */
export const taskKinds = {
  ce: ceKind,
  bce: bceKind,
  mse: mseKind,
  seg: segKind,
  depth: depthKind,
  normal: normalKind,
} as const satisfies Record<string, TaskKindEntry>;

export type TaskKind = keyof typeof taskKinds;
/** The kind names: the one list that the compile step, the flags and run.json's schema share. */
export const taskKindNames = Object.keys(taskKinds) as TaskKind[];

export function taskKind(name: TaskKind): TaskKindEntry {
  return taskKinds[name];
}

export function isTaskKind(name: string): name is TaskKind {
  return Object.hasOwn(taskKinds, name);
}
