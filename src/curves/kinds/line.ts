import { lineSpec } from '../../nurbs/index.js';
import { ExtraInputError } from '../../errors.js';
import type { CurveKindEntry } from './types.js';

/** The straight line between the endpoints: nothing to train (a baseline). */
export const lineKind: CurveKindEntry = {
  name: 'line',
  description: 'straight line between the endpoints',
  defaultControls: 2,
  trainWeights: false,
  spec: (n) => {
    if (n !== 2) throw new ExtraInputError(`a line has 2 control points (its endpoints), got ${n}`);
    return lineSpec();
  },
};
