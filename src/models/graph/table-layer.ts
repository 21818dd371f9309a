import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';

/**
 * A layer class of extra's own (one that tfjs-layers lacks: grouped convolutions, slices, broadcasting
 * arithmetic, attention's products) as a tfjs layer, so that a graph holding it is still a tfjs
 * layers checkpoint: the class is registered under its table name (tf.loadLayersModel finds it), its
 * weights are added in the table's order, and its call is the table entry's own pure forward.
 */
export interface TableLayerEntry<C> {
  config: z.ZodType<C, z.ZodTypeDef, unknown>;
  outShape(cfg: C, inShapes: number[][], name: string): number[];
  weights(cfg: C, inShapes: number[][]): { keras: string; shape: number[] }[];
  forward(cfg: C, xs: tf.Tensor[], params: tf.Tensor[], norm: object): tf.Tensor;
}

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type ShapeArg = tf.Shape | tf.Shape[];

const perSample = (s: ShapeArg): number[][] => {
  const list = (Array.isArray(s[0]) || s[0] === undefined ? s : [s]) as tf.Shape[];
  return list.map((x) => x.slice(1).map((d) => d ?? -1));
};

/** Keras' snake_case back from tfjs' camelCase deserialization (keys and string values, nested). */
function snakeCase(v: unknown): unknown {
  const snake = (t: string) => t.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
  if (typeof v === 'string') return snake(v);
  if (Array.isArray(v)) return v.map(snakeCase);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [snake(k), snakeCase(x)]));
  return v;
}

/** The tfjs layer class of one table entry, registered for deserialization under `className`. */
export function tableLayerClass<C>(className: string, entry: TableLayerEntry<C>): (cfg: C, name: string) => tf.layers.Layer {
  class TableLayer extends tf.layers.Layer {
    static className = className;
    private readonly cfg: C;

    constructor(args: LayerArgs & Record<string, unknown>) {
      super(args);
      // tf.loadLayersModel hands a config over with its keys and string values camelCased: the table reads snake_case
      this.cfg = entry.config.parse(snakeCase(args));
    }

    override build(inputShape: ShapeArg): void {
      for (const w of entry.weights(this.cfg, perSample(inputShape))) this.addWeight(w.keras, w.shape, 'float32', tf.initializers.zeros());
      this.built = true;
    }

    override computeOutputShape(inputShape: ShapeArg): tf.Shape {
      return [null, ...entry.outShape(this.cfg, perSample(inputShape), this.name)];
    }

    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.tidy(() => entry.forward(this.cfg, Array.isArray(inputs) ? inputs : [inputs], this.weights.map((w) => w.read()), {}));
    }

    override getConfig(): tf.serialization.ConfigDict {
      return { ...super.getConfig(), ...(this.cfg as tf.serialization.ConfigDict) };
    }
  }
  tf.serialization.registerClass(TableLayer);
  return (cfg, name) => new TableLayer({ name, ...(cfg as Record<string, unknown>) });
}
