import { z } from 'zod';
import { count, finite, positiveInt, taskMetricsSchema } from '../io/json-file.js';
import { checkModelSpec } from '../models/registry.js';
import { graphSpecSchema, taskLossKinds, type TaskLoss } from '../models/graph/index.js';
import type { DatasetRecipe } from '../data/types.js';

/** The data set recipe (DatasetRecipe, src/data/types.ts); sizes are checked again against memory when it loads. */
export const datasetRecipeSchema = z.object({
  name: z.string().min(1),
  seed: count,
  // the same bound as the --train-size/--val-size/--test-size flags
  trainSize: positiveInt.max(10_000_000).optional(),
  valSize: positiveInt.max(10_000_000).optional(),
  testSize: positiveInt.max(10_000_000).optional(),
  dataDir: z.string().optional(),
  valFraction: z.number().gt(0).lt(1).optional(),
  // celeba ≤ 218 and dense-digits ≤ 128 check their own bound; nyuv2 and cityscapes refuse more than their images' height
  resolution: positiveInt.max(4096).optional(),
  attributes: z.array(z.string().min(1)).min(1).optional(),
  ignoreLabel: z.number().int().min(-1).max(2 ** 31 - 1).optional(),
});
// the schema and the domain type are one: a field added to either and not the other, or typed differently, fails to compile
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
export const recipeSchemaIsTheType: SameKeys<DatasetRecipe, z.infer<typeof datasetRecipeSchema>> = true;
export const recipeSchemaFits: z.ZodType<DatasetRecipe, z.ZodTypeDef, unknown> = datasetRecipeSchema;

/** A model spec: the common fields, then the architecture's own check (src/models/registry.ts). */
const modelSpecSchema = z
  // keys in the order the architectures write them, so a re-export stays byte-identical
  .object({
    arch: z.string(),
    inputShape: z.array(positiveInt).min(1),
    hidden: z.array(positiveInt).optional(),
    numClasses: z.array(positiveInt).min(1),
    taskNames: z.array(z.string()).min(1),
    graph: graphSpecSchema.optional(),
    // every loss a model can have (the same list the compile step accepts), so what train writes reopens
    losses: z.array(z.enum(taskLossKinds as [TaskLoss, ...TaskLoss[]])).optional(),
    onnx: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), opset: z.number().int().positive(), transposed: z.array(z.string()), renamed: z.record(z.string()).optional() }).optional(),
  })
  .superRefine((spec, ctx) => {
    const bad = checkModelSpec(spec);
    if (bad) ctx.addIssue({ code: z.ZodIssueCode.custom, message: bad, path: ['arch'] });
  });

/** run.json (written by writeRun, which checks it against this very schema). */
export const runInfoSchema = z
  .object({
    format: z.literal('extra-run'),
    version: z.literal(1),
    created: z.string(),
    dataset: datasetRecipeSchema
      .extend({
        fingerprint: z.string(),
        taskNames: z.array(z.string()).min(1),
        numClasses: z.array(positiveInt).min(1),
        inputShape: z.array(positiveInt).min(1),
        // a data set with per-pixel tasks: each task's kind (src/tasks)
        taskKinds: z.array(z.enum(taskLossKinds as [TaskLoss, ...TaskLoss[]])).optional(),
      })
      .passthrough(),
    model: modelSpecSchema,
    seed: count,
    backend: z.string(),
    packages: z.record(z.string()),
  })
  .passthrough()
  .refine((r) => r.model.taskNames.length === r.model.numClasses.length, { message: 'model.taskNames and model.numClasses differ in length', path: ['model'] });

/** endpoints/ID/metrics.json (written by trainEndpoint); only the fields read back are checked. */
export const metricsSchema = z
  .object({
    method: z.string().min(1),
    preference: z.array(finite.nonnegative()).min(1),
    val: z.record(taskMetricsSchema).optional(),
    test: z.record(taskMetricsSchema).optional(),
  })
  .passthrough();
