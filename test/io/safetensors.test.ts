import { describe, it, expect } from 'vitest';
import { encodeSafetensors, decodeSafetensors } from '../../src/io/index.js';
import { FileFormatError } from '../../src/errors.js';

/** An independent reader written from the format description, sharing no code with the writer. */
function referenceParse(bytes: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  let n = 0;
  for (let i = 7; i >= 0; i--) n = n * 256 + bytes[i];
  const header = JSON.parse(new TextDecoder().decode(bytes.slice(8, 8 + n)));
  return { header, data: bytes.slice(8 + n) };
}

describe('safetensors', () => {
  const a = new Float32Array([1, -2.5, 3.25, 1e-7, 0, 6]);
  const b = new Float32Array([Math.PI]);
  const bytes = encodeSafetensors(
    [
      { name: 'conv1.weight', shape: [2, 3], data: a },
      { name: 'conv1.bias', shape: [1], data: b },
    ],
    { format: 'pt' },
  );

  it('follows the format: u64 LE header length, JSON header with dtype/shape/data_offsets, LE F32 data', () => {
    const { header, data } = referenceParse(bytes);
    expect(header.__metadata__).toEqual({ format: 'pt' });
    expect(header['conv1.weight']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(header['conv1.bias']).toEqual({ dtype: 'F32', shape: [1], data_offsets: [24, 28] });
    expect(data.length).toBe(28);
    const dv = new DataView(data.buffer, data.byteOffset);
    expect(dv.getFloat32(8, true)).toBe(3.25);
    expect(dv.getFloat32(24, true)).toBeCloseTo(Math.PI, 6);
    expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
  });

  it('round-trips and refuses truncated or foreign bytes', () => {
    const dec = decodeSafetensors(bytes);
    expect(Array.from(dec.tensors[0].data)).toEqual(Array.from(a));
    expect(() => decodeSafetensors(bytes.slice(0, bytes.length - 3))).toThrow(FileFormatError);
    expect(() => decodeSafetensors(new Uint8Array([1, 2, 3]))).toThrow(FileFormatError);
    expect(() => decodeSafetensors(new TextEncoder().encode('this is not a safetensors file at all'))).toThrow(FileFormatError);
  });
});

describe('safetensors: hostile headers and values are refused with a FileFormatError', () => {
  /** A file with the given header object and `dataBytes` zero bytes of data. */
  function fileWith(header: unknown, dataBytes: number): Uint8Array {
    const h = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + h.length + dataBytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    return out;
  }
  const cases: [string, unknown, number, RegExp][] = [
    ['header null', null, 0, /not a JSON object/],
    ['header a list', [1, 2], 0, /not a JSON object/],
    ['entry null', { w: null }, 0, /no dtype\/shape/],
    ['shape a string', { w: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }, 8, /shape that is not a list/],
    ['shape with a fraction', { w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, 8, /shape that is not a list/],
    ['negative shape', { w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8, /shape that is not a list/],
    ['offsets missing', { w: { dtype: 'F32', shape: [2] } }, 8, /data_offsets/],
    ['offsets reversed', { w: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, 8, /outside the data/],
    ['metadata not strings', { __metadata__: { a: 1 } }, 0, /__metadata__/],
    ['metadata a string', { __metadata__: 'x' }, 0, /__metadata__/],
  ];
  for (const [name, header, n, re] of cases) {
    it(name, () => {
      expect(() => decodeSafetensors(fileWith(header, n))).toThrow(FileFormatError);
      expect(() => decodeSafetensors(fileWith(header, n))).toThrow(re);
    });
  }

  it('a NaN or infinite value is refused, naming the tensor and index', () => {
    for (const v of [NaN, Infinity, -Infinity]) {
      const f = encodeSafetensors([{ name: 'w', shape: [3], data: new Float32Array([1, v, 2]) }]);
      expect(() => decodeSafetensors(f)).toThrow(/tensor w holds a non-finite value .* at index 1/);
    }
  });
});
