import protobuf from 'protobufjs';
import { z } from 'zod';
import { FileFormatError } from '../../errors.js';

/**
 * The part of the ONNX protobuf schema (onnx/onnx.proto, IR version ≤ 10) that a model file needs,
 * with the official field numbers, parsed and encoded by protobufjs. Messages extra never reads
 * (training info, functions, sparse tensors, type protos other than tensors) are skipped by the
 * decoder as unknown fields, and kept out of what it writes.
 */
const onnxSchema = `
syntax = "proto3";
package onnx;
message StringStringEntryProto { string key = 1; string value = 2; }
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message TensorShapeProto {
  message Dimension { int64 dim_value = 1; string dim_param = 2; string denotation = 3; }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  Tensor tensor_type = 1;
  string denotation = 6;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; string doc_string = 3; }
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4;
  repeated int32 int32_data = 5;
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7;
  string name = 8;
  bytes raw_data = 9;
  repeated double double_data = 10;
  repeated uint64 uint64_data = 11;
  string doc_string = 12;
  repeated StringStringEntryProto external_data = 13;
  int32 data_location = 14;
}
message AttributeProto {
  string name = 1;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  string doc_string = 13;
  int32 type = 20;
  string ref_attr_name = 21;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string doc_string = 6;
  string domain = 7;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
`;

const root = protobuf.parse(onnxSchema, { keepCase: true }).root;
const ModelType = root.lookupType('onnx.ModelProto');

/** ONNX TensorProto.DataType codes extra reads (others are named in errors). */
export const onnxDataTypes: Record<number, string> = { 0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16' };
export const FLOAT = 1;
export const INT64 = 7;
export const INT32 = 6;

const bytes = z.instanceof(Uint8Array);
const long = z.number();
const tensorSchema = z.object({
  dims: z.array(long),
  data_type: z.number().int(),
  float_data: z.array(z.number()),
  int32_data: z.array(z.number()),
  int64_data: z.array(long),
  double_data: z.array(z.number()),
  name: z.string(),
  raw_data: bytes,
  external_data: z.array(z.object({ key: z.string(), value: z.string() })),
  data_location: z.number().int(),
});
export type OnnxTensor = z.infer<typeof tensorSchema>;

export interface OnnxAttribute {
  name: string;
  type: number;
  f: number;
  i: number;
  s: Uint8Array;
  t?: OnnxTensor | null;
  g?: unknown;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
}
const attributeSchema: z.ZodType<OnnxAttribute, z.ZodTypeDef, unknown> = z.object({
  name: z.string(),
  type: z.number().int(),
  f: z.number(),
  i: long,
  s: bytes,
  t: tensorSchema.nullish(),
  g: z.unknown().optional(),
  floats: z.array(z.number()),
  ints: z.array(long),
  strings: z.array(bytes),
});
const nodeSchema = z.object({ input: z.array(z.string()), output: z.array(z.string()), name: z.string(), op_type: z.string(), domain: z.string(), attribute: z.array(attributeSchema) });
export type OnnxNode = z.infer<typeof nodeSchema>;
const dimSchema = z.object({ dim_value: long, dim_param: z.string() });
const valueInfoSchema = z.object({
  name: z.string(),
  type: z.object({ tensor_type: z.object({ elem_type: z.number().int(), shape: z.object({ dim: z.array(dimSchema) }).nullish() }).nullish() }).nullish(),
});
export type OnnxValueInfo = z.infer<typeof valueInfoSchema>;
const graphSchema = z.object({ node: z.array(nodeSchema), name: z.string(), initializer: z.array(tensorSchema), input: z.array(valueInfoSchema), output: z.array(valueInfoSchema) });
export type OnnxGraph = z.infer<typeof graphSchema>;
const modelSchema = z.object({
  ir_version: long,
  producer_name: z.string(),
  producer_version: z.string(),
  graph: graphSchema.nullish(),
  opset_import: z.array(z.object({ domain: z.string(), version: long })),
});
export type OnnxModel = z.infer<typeof modelSchema>;

/** Decode and check an ONNX file's bytes (one line naming the file when it is not an ONNX model). */
export function decodeOnnx(data: Uint8Array, where: string): OnnxModel {
  let message: protobuf.Message;
  try {
    message = ModelType.decode(data);
  } catch (e) {
    throw new FileFormatError(`${where} is not an ONNX model (${(e as Error).message.split('\n')[0]}; truncated or another format?)`);
  }
  const obj = ModelType.toObject(message, { longs: Number, bytes: Uint8Array, defaults: true, arrays: true });
  const parsed = modelSchema.safeParse(obj);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new FileFormatError(`${where} is not an ONNX model this reader understands (${i.path.join('.')}: ${i.message})`);
  }
  if (!parsed.data.graph || !parsed.data.graph.node.length) throw new FileFormatError(`${where} is not an ONNX model (it holds no graph)`);
  return parsed.data;
}

/**
 * The same file with some initializers' values replaced (float32, same shapes): everything else —
 * nodes, names, opsets, metadata — as the file had it. Works on the raw message so fields this
 * schema leaves out survive only where protobufjs keeps them; the nodes and initializers it
 * rewrites are the ones the schema above knows completely.
 */
export function replaceInitializers(data: Uint8Array, values: ReadonlyMap<string, Float32Array>, where: string): Uint8Array {
  const message = ModelType.decode(data) as unknown as { graph: { initializer: { name: string; dims: unknown[]; data_type: number; raw_data: Uint8Array; float_data: number[] }[] } };
  const done = new Set<string>();
  for (const init of message.graph.initializer) {
    const v = values.get(init.name);
    if (!v) continue;
    if (init.data_type !== FLOAT) throw new FileFormatError(`${where}: initializer ${init.name} is not float32`);
    init.raw_data = new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
    init.float_data = [];
    done.add(init.name);
  }
  // a weight the exporter merged into another (an Identity of it under the weight's own name) gets its own initializer back
  const graph = message.graph as unknown as { node: { input: string[]; output: string[]; op_type: string }[]; initializer: Record<string, unknown>[] };
  for (const [name, v] of values) {
    if (done.has(name)) continue;
    const at = graph.node.findIndex((n) => n.op_type === 'Identity' && n.output[0] === name && message.graph.initializer.some((i) => i.name === n.input[0]));
    if (at < 0) continue;
    const source = message.graph.initializer.find((i) => i.name === graph.node[at].input[0])!;
    graph.node.splice(at, 1);
    graph.initializer.push({ name, dims: source.dims, data_type: FLOAT, raw_data: new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)) });
    done.add(name);
  }
  const missing = [...values.keys()].filter((k) => !done.has(k));
  if (missing.length) throw new FileFormatError(`${where} has no initializer ${missing.slice(0, 5).join(', ')}`);
  return ModelType.encode(message as unknown as protobuf.Message).finish();
}

/** Encode a model given as plain objects with the schema's field names (the ONNX writer). */
export function encodeOnnx(model: Record<string, unknown>): Uint8Array {
  const err = ModelType.verify(model);
  if (err) throw new Error(`ONNX writer produced an invalid message: ${err}`);
  return ModelType.encode(ModelType.fromObject(model)).finish();
}

/** A tensor's values as float32 (FLOAT) or as plain numbers (INT64 / INT32 shape constants). */
export function tensorValues(t: OnnxTensor, where: string): { dtype: 'float32'; data: Float32Array } | { dtype: 'int'; data: number[] } {
  if (t.data_location === 1 || t.external_data.length) throw new FileFormatError(`${where}: tensor '${t.name}' is stored in an external data file; save the model with its weights inside (torch.onnx.export of a model under 2 GB does; onnx.save(..., save_as_external_data=False))`);
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data_type === FLOAT) {
    let data: Float32Array;
    if (t.raw_data.length) {
      if (t.raw_data.length !== 4 * n) throw new FileFormatError(`${where}: tensor '${t.name}' holds ${t.raw_data.length} bytes for ${n} float32 values`);
      data = new Float32Array(n);
      new Uint8Array(data.buffer).set(t.raw_data);
    } else {
      if (t.float_data.length !== n) throw new FileFormatError(`${where}: tensor '${t.name}' holds ${t.float_data.length} values for shape [${t.dims.join(',')}]`);
      data = Float32Array.from(t.float_data);
    }
    return { dtype: 'float32', data };
  }
  if (t.data_type === INT64 || t.data_type === INT32) {
    const size = t.data_type === INT64 ? 8 : 4;
    if (t.raw_data.length) {
      if (t.raw_data.length !== size * n) throw new FileFormatError(`${where}: tensor '${t.name}' holds ${t.raw_data.length} bytes for ${n} values`);
      const dv = new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
      return { dtype: 'int', data: Array.from({ length: n }, (_, i) => (size === 8 ? Number(dv.getBigInt64(8 * i, true)) : dv.getInt32(4 * i, true))) };
    }
    return { dtype: 'int', data: t.data_type === INT64 ? t.int64_data : t.int32_data };
  }
  // BOOL constants (masks, Where conditions of shape arithmetic) as 0 / 1: one byte each, or int32_data
  if (t.data_type === 9) {
    if (t.raw_data.length) {
      if (t.raw_data.length !== n) throw new FileFormatError(`${where}: tensor '${t.name}' holds ${t.raw_data.length} bytes for ${n} booleans`);
      return { dtype: 'int', data: Array.from(t.raw_data, (v) => (v ? 1 : 0)) };
    }
    return { dtype: 'int', data: t.int32_data.map((v) => (v ? 1 : 0)) };
  }
  throw new FileFormatError(`${where}: tensor '${t.name}' is ${onnxDataTypes[t.data_type] ?? `type ${t.data_type}`}; extra reads float32 weights (export the model in float32: model.float())`);
}

/** A row-major [r, c] matrix as its [c, r] transpose (initializers stored [in, out] where the state_dict holds [out, in]). */
export function transposed2d(data: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = data[i * c + j];
  return out;
}
