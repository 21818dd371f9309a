import * as tf from '@tensorflow/tfjs';

/** The topology JSON tfjs itself writes for a model (what `model.save()` puts in model.json). */
export async function topologyOf(model: tf.LayersModel): Promise<unknown> {
  let topology: unknown;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      topology = a.modelTopology;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return { modelTopology: topology };
}
