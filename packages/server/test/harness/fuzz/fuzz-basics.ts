/**
 * The frame fuzzer's basics: {@link Dice} over one PRNG stream, what a fuzz
 * frame knows about itself, the pools of odd names and numbers, random JSON
 * and strings, and blind frames of unknown validity.
 */

/** Small helpers over one PRNG stream. */
export class Dice {
  constructor(readonly next: () => number) {}

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks from `[weight, value]` pairs. */
  weighted<T>(table: ReadonlyArray<readonly [number, T]>): T {
    const total = table.reduce((sum, [w]) => sum + w, 0);
    let roll = this.next() * total;
    for (const [w, value] of table) {
      roll -= w;
      if (roll < 0) return value;
    }
    return (table[table.length - 1] as readonly [number, T])[1];
  }
}

type Validity = 'valid' | 'invalid' | 'unknown';

/** One frame of a fuzz session. */
export interface FuzzFrame {
  /** Which generator made it (for the figures and failure messages). */
  kind: string;
  /** Text frames are strings; `binary` frames and raw-byte text frames are Buffers. */
  data: string | Buffer;
  binary: boolean;
  validity: Validity;
  /** The `error` code the server must answer with, when the generator is certain of it. */
  expectedCode?: string;
  /** The `messageId` whose `ack` must arrive (valid patch frames holding a non-empty patch). */
  ackId?: string;
}

/** The error codes of packages/protocol/src/frame-error.ts (the documented B3 vocabulary). */
export const FRAME_ERROR_CODES: ReadonlySet<string> = new Set([
  'frame-too-large',
  'invalid-json',
  'not-an-object',
  'unknown-type',
  'invalid-field',
  'invalid-patch',
  'invalid-component',
  'forbidden-name',
  'too-many-keys',
  'too-many-fields',
  'key-too-long',
  'too-deep',
  'invalid-buffer-delta',
  'buffer-too-long',
  'rate-limited',
  'auth-refresh-unsupported',
]);

export const FORBIDDEN = ['__proto__', 'constructor', 'prototype'] as const;

/** The key bystanders write; no fuzz frame ever produces a key starting with it. */
export const BYSTANDER_PREFIX = 'bystander';

// Names that are legal but trip code built on ordinary objects (inherited
// members), numeric-looking names that reorder object keys, unicode, and the
// 512-character maximum.
export const ODD_NAMES = [
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  '__lookupSetter__',
  'Constructor',
  '__PROTO__',
  'prototype ',
  '__buf',
  'len',
  'runs',
  '_version',
  '',
  ' ',
  '0',
  '1',
  '-1',
  '4294967295',
  'null',
  'undefined',
  'a/b/c',
  'ключ',
  '🎨🖌️',
  'e\u0301',
  '\uFFFF',
  'x'.repeat(512),
];

/** A bounded pool, so the fuzzed document stays small while keys are rewritten over and over. */
export const KEY_POOL: readonly string[] = [
  ...Array.from({ length: 12 }, (_, i) => `e${i}/${['Pos', 'Shape', 'Style'][i % 3]}`),
  'SINGLETON/Camera',
  ...ODD_NAMES.map((name, i) => (i % 2 === 0 ? name : `${name}/Comp`)),
];
export const FIELD_POOL: readonly string[] = [
  'x',
  'y',
  'w',
  'h',
  'color',
  'points',
  'text',
  'nested',
  ...ODD_NAMES,
];
export const EPHEMERAL_KEYS: readonly string[] = ['cursor/me', 'selection/me', 'toString', ''];

/** Numbers that stress encoders: extremes, -0, subnormals, beyond-safe integers. */
export const ODD_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER,
  2 ** 53,
  2 ** 31,
  -(2 ** 31),
  123456789.12345679,
];

const WORDS = ['patch', 'reconnect', 'auth-refresh', 'ack', 'synced', 'error', 'documentPatches', '_exists'];

/** A random string: ASCII, JSON syntax, unicode, controls, escapes, lone surrogates, names. */
export function randomString(d: Dice, maxLength = 24): string {
  const mode = d.int(0, 7);
  if (mode === 0) return d.pick([...FORBIDDEN, ...ODD_NAMES, ...WORDS]);
  if (mode === 1) return d.pick(['a', '\u0000', '"', '\\', '{', '%']).repeat(d.int(1, 600));
  const length = d.int(0, maxLength);
  let out = '';
  for (let i = 0; i < length; i++) {
    const kind = d.int(0, 9);
    if (kind <= 3) out += String.fromCharCode(d.int(0x20, 0x7e));
    else if (kind === 4) out += d.pick(['{', '}', '[', ']', '"', ':', ',', '\\', '\\u', 'ÿ']);
    else if (kind === 5) out += String.fromCharCode(d.int(0, 0x1f));
    else if (kind === 6)
      out += String.fromCharCode(d.int(0xd800, 0xdfff)); // lone surrogates
    else if (kind === 7) out += String.fromCodePoint(d.int(0x1f300, 0x1faff));
    else out += String.fromCharCode(d.int(0xa0, 0xfffd));
  }
  return out;
}

/** Sets an own enumerable property, even `__proto__` (which plain assignment would treat as the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A random JSON value of any shape, names included forbidden ones. */
export function randomJson(d: Dice, depth = 4): unknown {
  const roll = d.int(0, depth > 0 ? 9 : 5);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return d.chance(0.5);
    case 2:
      return d.pick(ODD_NUMBERS);
    case 3:
      return (d.next() - 0.5) * 10 ** d.int(0, 20);
    case 4:
    case 5:
      return randomString(d);
    case 6:
    case 7:
      return Array.from({ length: d.int(0, 5) }, () => randomJson(d, depth - 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = d.int(0, 5); i > 0; i--) {
        const name = d.chance(0.3)
          ? d.pick([...FORBIDDEN, 'type', 'messageId', ...WORDS])
          : randomString(d, 8);
        setOwn(out, name, randomJson(d, depth - 1));
      }
      return out;
    }
  }
}

/**
 * True when `text` is certainly not a frame the server accepts: not JSON, not
 * an object, or of an unknown `type`. Anything else is left to the server.
 */
function surelyInvalid(text: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return true;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return true;
  const type = (parsed as Record<string, unknown>).type;
  return type !== 'patch' && type !== 'reconnect' && type !== 'auth-refresh';
}

/** Classifies a blind frame as the server will decode it (a Buffer is read as UTF-8, as the server does). */
export function blind(kind: string, data: string | Buffer, binary = false): FuzzFrame {
  const text = typeof data === 'string' ? Buffer.from(data).toString('utf8') : data.toString('utf8');
  return { kind, data, binary, validity: surelyInvalid(text) ? 'invalid' : 'unknown' };
}
