import { bezierSpec } from '../../nurbs/index.js';
import type { CurveKindEntry } from './types.js';

/** Bézier curve: degree nControls−1 with unit weights (the requested degree is not used). */
export const bezierKind: CurveKindEntry = {
  name: 'bezier',
  description: 'Bézier curve of degree controls−1',
  defaultControls: 4,
  trainWeights: false,
  spec: (n) => bezierSpec(n),
};
