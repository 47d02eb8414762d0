/**
 * Turns whatever a runtime hands over as a WebSocket message into text.
 * The seed API takes strings, but `ws` delivers Buffers and callers forget
 * `String(data)`; decoding here keeps such mistakes from becoming crashes.
 */
export function decodeMessage(data: unknown): string {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  if (ArrayBuffer.isView(data))
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  if (Array.isArray(data) && data.every((part) => Buffer.isBuffer(part)))
    return Buffer.concat(data).toString('utf8');
  return String(data);
}
