import { ExtraInputError } from '../../errors.js';
import { bezierKind } from './bezier.js';
import { lineKind } from './line.js';
import { nurbsKind } from './nurbs.js';
import { polychainKind } from './polychain.js';
import type { CurveKindEntry } from './types.js';

export type { CurveKindEntry } from './types.js';

/** The curve kinds, by name. A new kind is one file in this folder and one line here. */
export const curveKindTable: Readonly<Record<string, CurveKindEntry>> = {
  nurbs: nurbsKind,
  bezier: bezierKind,
  polychain: polychainKind,
  line: lineKind,
};

export const curveKinds: readonly string[] = Object.keys(curveKindTable);

export function getCurveKind(name: string): CurveKindEntry {
  const k = Object.hasOwn(curveKindTable, name) ? curveKindTable[name] : undefined;
  if (!k) throw new ExtraInputError(`unknown curve kind '${name}' (known: ${curveKinds.join(', ')})`);
  return k;
}

/** What a kind uses when the caller gives no control-point count. */
export function curveKindDefaults(name: string): { controls: number } {
  return { controls: getCurveKind(name).defaultControls };
}
