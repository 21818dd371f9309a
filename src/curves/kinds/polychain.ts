import { polychainSpec } from '../../nurbs/index.js';
import type { CurveKindEntry } from './types.js';

/** PolyChain (Garipov et al.): straight segments through the control points, a knot at every bend. */
export const polychainKind: CurveKindEntry = {
  name: 'polychain',
  description: 'polygonal chain through the control points',
  defaultControls: 3,
  trainWeights: false,
  spec: (n) => polychainSpec(n),
};
