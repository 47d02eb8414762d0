import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FRAME_LIMITS, type Patch, parseClientFrame } from '../../src/index.js';
import { plain } from '../harness/reference-doc.js';
import { scaled } from '../harness/reliability-harness.js';
import { framePatchesArb, KEYS } from './arbitraries.js';

const FORBIDDEN = ['__proto__', 'constructor', 'prototype'] as const;
const MAX_BUF = DEFAULT_FRAME_LIMITS.maxBufferLength;

const messageIdArb = fc.string({ maxLength: 20 });

/** A valid frame as its parts: type, patches, and whether the patches go in documentPatches or ephemeralPatches. */
const validFrameArb = fc.record({
  type: fc.constantFrom('patch' as const, 'reconnect' as const),
  messageId: messageIdArb,
  lastTimestamp: fc.nat(1000),
  documentPatches: framePatchesArb,
  ephemeralPatches: fc.option(framePatchesArb, { nil: undefined }),
});

type FrameParts = typeof validFrameArb extends fc.Arbitrary<infer T> ? T : never;

/** Writes a frame as JSON text with the patch lists given as raw JSON item texts. */
function frameText(parts: FrameParts, documentItems: string[], ephemeralItems?: string[]): string {
  const head =
    parts.type === 'patch'
      ? `"type":"patch","messageId":${JSON.stringify(parts.messageId)}`
      : `"type":"reconnect","lastTimestamp":${parts.lastTimestamp},"protocolVersion":2`;
  const eph = ephemeralItems ? `,"ephemeralPatches":[${ephemeralItems.join(',')}]` : '';
  return `{${head},"documentPatches":[${documentItems.join(',')}]${eph}}`;
}

function items(patches: readonly Patch[]): string[] {
  return patches.map((p) => JSON.stringify(p));
}

/** One forbidden thing, as raw JSON text: either a whole patch to insert or a rewrite of an existing patch text. */
type Injection =
  | { kind: 'insert'; text: string }
  | { kind: 'rewrite'; rewrite: (patchText: string) => string };

const keyArb = fc.constantFrom(...KEYS);
const forbiddenArb = fc.constantFrom(...FORBIDDEN);

const injectionArb: fc.Arbitrary<Injection> = fc.oneof(
  // A null (or other non-object) patch.
  fc
    .constantFrom('null', '1', '"x"', 'true', '[]', '[{"e0/S":{"a":1}}]')
    .map((text): Injection => ({ kind: 'insert', text })),
  // A non-object component.
  fc
    .tuple(keyArb, fc.constantFrom('null', '0', '"s"', 'false', '[]', '[1,2]'))
    .map(([key, value]): Injection => ({ kind: 'insert', text: `{${JSON.stringify(key)}:${value}}` })),
  // A forbidden key, as a new patch or added to an existing one.
  forbiddenArb.map((name): Injection => ({ kind: 'insert', text: `{"${name}":{"a":1}}` })),
  forbiddenArb.map(
    (name): Injection => ({
      kind: 'rewrite',
      rewrite: (patchText) =>
        patchText === '{}' ? `{"${name}":{"a":1}}` : `{"${name}":{"a":1},${patchText.slice(1)}`,
    }),
  ),
  // A forbidden field name, as raw text (so `__proto__` really is an own property after JSON.parse).
  fc.tuple(keyArb, forbiddenArb, fc.constantFrom('1', '{}', '{"a":1}', 'null')).map(
    ([key, name, value]): Injection => ({
      kind: 'insert',
      text: `{${JSON.stringify(key)}:{"a":1,"${name}":${value}}}`,
    }),
  ),
  // A buffer delta longer than the cap.
  fc.tuple(keyArb, fc.integer({ min: MAX_BUF + 1, max: MAX_BUF * 10 })).map(
    ([key, len]): Injection => ({
      kind: 'insert',
      text: JSON.stringify({ [key]: { p: { __buf: 1, len, runs: [] } } }),
    }),
  ),
  // A buffer delta run with a negative offset.
  fc
    .tuple(
      keyArb,
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: -1000, max: -1 }),
      fc.array(fc.integer(), { maxLength: 3 }),
    )
    .map(
      ([key, len, offset, values]): Injection => ({
        kind: 'insert',
        text: JSON.stringify({ [key]: { p: { __buf: 1, len, runs: [[offset, values]] } } }),
      }),
    ),
);

function inject(list: string[], injection: Injection, at: number): string[] {
  const out = [...list];
  if (injection.kind === 'rewrite' && out.length > 0) {
    const i = at % out.length;
    out[i] = injection.rewrite(out[i] as string);
    return out;
  }
  const text = injection.kind === 'insert' ? injection.text : injection.rewrite('{}');
  out.splice(at % (out.length + 1), 0, text);
  return out;
}

describe('parseClientFrame properties', () => {
  it('[B2] accepts valid patch and reconnect frames and returns their patches unchanged', () => {
    fc.assert(
      fc.property(validFrameArb, (parts) => {
        const ephemeral = parts.ephemeralPatches;
        const text = frameText(parts, items(parts.documentPatches), ephemeral && items(ephemeral));
        const result = parseClientFrame(text, DEFAULT_FRAME_LIMITS);
        if (!result.ok) throw new Error(`rejected ${text}: ${result.error.code} ${result.error.message}`);
        const frame = result.frame;
        expect(frame.type).toBe(parts.type);
        if (frame.type === 'auth-refresh') throw new Error('unexpected frame type');
        expect(plain(frame.documentPatches)).toEqual(plain(parts.documentPatches));
        if (ephemeral) expect(plain(frame.ephemeralPatches)).toEqual(plain(ephemeral));
        else expect(frame.ephemeralPatches).toBeUndefined();
        if (frame.type === 'patch') expect(frame.messageId).toBe(parts.messageId);
        else expect(frame.lastTimestamp).toBe(parts.lastTimestamp);
      }),
      { numRuns: scaled(300, 5_000) },
    );
  });

  it('[B2][B1] rejects a valid frame with one forbidden thing injected, without throwing', () => {
    fc.assert(
      fc.property(
        validFrameArb,
        injectionArb,
        fc.nat(),
        fc.boolean(),
        (parts, injection, at, intoEphemeral) => {
          let documentItems = items(parts.documentPatches);
          let ephemeralItems = parts.ephemeralPatches && items(parts.ephemeralPatches);
          if (intoEphemeral) ephemeralItems = inject(ephemeralItems ?? [], injection, at);
          else documentItems = inject(documentItems, injection, at);
          const text = frameText(parts, documentItems, ephemeralItems);
          let result: ReturnType<typeof parseClientFrame> | undefined;
          expect(() => {
            result = parseClientFrame(text, DEFAULT_FRAME_LIMITS);
          }).not.toThrow();
          if (result === undefined || result.ok) throw new Error(`accepted ${text}`);
          // Rejected for the injected thing, not because the test wrote broken JSON.
          expect(result.error.code, text).not.toBe('invalid-json');
        },
      ),
      { numRuns: scaled(500, 10_000) },
    );
  });
});
