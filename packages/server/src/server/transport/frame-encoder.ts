/** A frame ready to send: its UTF-8 bytes and its `type`. */
interface EncodedFrame {
  bytes: Buffer;
  type: string;
}

const TYPE_PREFIX = '{"type":"';

/** Reads the `type` of a frame we serialised (`type` is always its first key) without parsing it. */
function frameType(data: string): string {
  if (!data.startsWith(TYPE_PREFIX)) return 'unknown';
  const end = data.indexOf('"', TYPE_PREFIX.length);
  return end === -1 ? 'unknown' : data.slice(TYPE_PREFIX.length, end);
}

/**
 * Encodes outgoing frames to UTF-8 once per distinct frame. A room serialises
 * a broadcast once and hands the same string to every recipient in a row, so
 * remembering the last string (compared by identity first) turns N encodings
 * of a broadcast into one.
 */
export class FrameEncoder {
  private lastText: string | null = null;
  private last: EncodedFrame | null = null;

  encode(text: string): EncodedFrame {
    if (this.last && text === this.lastText) return this.last;
    const frame = { bytes: Buffer.from(text, 'utf8'), type: frameType(text) };
    this.lastText = text;
    this.last = frame;
    return frame;
  }
}
