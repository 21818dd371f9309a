import { z } from 'zod';
import { count, finite, taskMetricsSchema } from '../io/json-file.js';

/** plane.json: the loss landscape on a plane through three weight vectors (written by `extra plane`). */
const grid2d = z.array(z.array(finite).min(2)).min(2);
const pathMetrics = z.object({ train: z.array(z.array(taskMetricsSchema)), test: z.array(z.array(taskMetricsSchema)) });

export const planeFileSchema = z
  .object({
    format: z.literal('extra-plane'),
    version: z.literal(1),
    curve: z.string(),
    split: z.enum(['train', 'val', 'test']),
    points: z.array(z.object({ spec: z.string(), label: z.string(), a: finite, b: finite, residual: finite })).length(3),
    grid: z.object({ n: z.number().int().min(2), margin: finite, as: z.array(finite).min(2), bs: z.array(finite).min(2) }),
    taskNames: z.array(z.string()).min(1),
    objectives: z.object({ names: z.array(z.string()).min(1), members: z.array(z.array(count).min(1)).min(1) }),
    /**
     * per objective (tasks, then groups when grouped): loss and error at grid node [row b][column a];
     * the error is the error rate, a regression's MAE, or the loss of a group mixing both kinds
     */
    surfaces: z.record(z.object({ loss: grid2d, error: grid2d })),
    /** the curve projected onto the plane, and how far it leaves it */
    curvePath: z.array(z.object({ t: finite, a: finite, b: finite, residual: finite })).min(2),
    barrier: z.object({
      ts: z.array(finite).min(2),
      line: pathMetrics,
      curve: pathMetrics,
      /** per task: max over t of L(t) − ((1 − t)L(0) + tL(1)) on train and test */
      byTask: z.record(z.object({ line: z.object({ train: finite, test: finite }), curve: z.object({ train: finite, test: finite }) })),
    }),
    threads: z.number().int().positive(),
    seconds: finite,
    /** the fingerprint of the curve it measured (readPlane refuses the file once the curve changed) */
    curveFingerprint: z.string().optional(),
  })
  .passthrough()
  .refine((p) => Object.values(p.surfaces).every((s) => s.loss.length === p.grid.n && s.loss.every((r) => r.length === p.grid.n)), { message: 'every surface must be grid.n × grid.n', path: ['surfaces'] });

export type PlaneFile = z.infer<typeof planeFileSchema>;
