export { encodeSafetensors, decodeSafetensors, writeSafetensors, readSafetensors } from './safetensors.js';
export type { NamedTensor, DecodedSafetensors } from './safetensors.js';
