/**
 * A .npy writer of our own, from the format description (numpy.lib.format, version 1.0): magic,
 * version, little-endian u16 header length, a Python dict literal padded with spaces to a multiple
 * of 64 bytes and ended by a newline, then the C-order data. Independent of npyjs, which the loader uses.
 */
export function npy(descr: string, shape: number[], data: ArrayBufferView, fortran = false): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
