/**
 * SPEC H4, B6: the export file format is validated like any outside input.
 * Each malformed file is refused with a stable code and the path of the bad
 * field; nothing is parsed past a size or depth bound.
 */
import { describe, expect, it } from 'vitest';
import {
  buildRoomExport,
  parseRoomExport,
  parseRoomExportText,
  ROOM_EXPORT_FORMAT,
  ROOM_EXPORT_VERSION,
} from '../../src/storage/room-export.js';
import { RoomImportError } from '../../src/storage/room-import-error.js';
import { TEST_IMPORT_LIMITS } from './history-helpers.js';

function valid(): Record<string, unknown> {
  return {
    format: ROOM_EXPORT_FORMAT,
    version: ROOM_EXPORT_VERSION,
    roomId: 'r',
    exportedAt: '2026-01-01T00:00:00.000Z',
    clock: 3,
    components: [
      { key: 'a/Shape', data: { x: 1 }, stamps: { x: 3 } },
      { key: 'b/Shape', data: { _exists: false }, stamps: { _exists: 2 } },
      { key: 'c/Shape', data: { y: 'z' }, stamps: { y: 3 }, deletedAt: 1 },
    ],
  };
}

function refusal(value: unknown): RoomImportError {
  try {
    parseRoomExport(value, TEST_IMPORT_LIMITS);
  } catch (error) {
    if (error instanceof RoomImportError) return error;
    throw error;
  }
  throw new Error('the file was accepted');
}

function withComponent(component: unknown, clock = 3): Record<string, unknown> {
  return { ...valid(), clock, components: [component] };
}

describe('[H4] export file validation', () => {
  it('[H4] a valid file parses to the same document', () => {
    const file = parseRoomExport(valid(), TEST_IMPORT_LIMITS);
    expect(file.clock).toBe(3);
    expect(file.components).toEqual(valid().components);
  });

  it('[H4] buildRoomExport writes the format, version, room, time and clock', () => {
    const file = buildRoomExport('room', { timestamp: 5, components: [] }, [
      { clock: 5, time: 1, clientId: 'c', keys: ['k'] },
    ]);
    expect(file).toMatchObject({ format: ROOM_EXPORT_FORMAT, version: 1, roomId: 'room', clock: 5 });
    expect(Number.isNaN(Date.parse(file.exportedAt))).toBe(false);
    expect(parseRoomExport(JSON.parse(JSON.stringify(file)), TEST_IMPORT_LIMITS).history).toHaveLength(1);
  });

  it.each<[string, unknown, string, string | undefined]>([
    ['not an object', [1, 2], 'import_invalid', '(the file)'],
    ['another format', { ...valid(), format: 'tldraw' }, 'import_invalid', 'format'],
    ['a later version', { ...valid(), version: 2 }, 'import_unsupported_version', 'version'],
    ['a negative clock', { ...valid(), clock: -1 }, 'import_invalid', 'clock'],
    ['a fractional clock', { ...valid(), clock: 1.5 }, 'import_invalid', 'clock'],
    ['a clock past 2^53', { ...valid(), clock: 2 ** 60 }, 'import_invalid', 'clock'],
    ['components not a list', { ...valid(), components: {} }, 'import_invalid', 'components'],
    ['an unknown top-level field', { ...valid(), extra: 1 }, 'import_invalid', '(the file)'],
    [
      'a component without a key',
      withComponent({ data: {}, stamps: {} }),
      'import_invalid',
      'components[0].key',
    ],
    ['an empty key', withComponent({ key: '', data: {}, stamps: {} }), 'import_invalid', 'components[0].key'],
    [
      'data that is a list',
      withComponent({ key: 'k', data: [], stamps: {} }),
      'import_invalid',
      'components[0].data',
    ],
    [
      'a string stamp',
      withComponent({ key: 'k', data: { x: 1 }, stamps: { x: '3' } }),
      'import_invalid',
      'components[0].stamps',
    ],
    [
      'an unknown component field',
      withComponent({ key: 'k', data: {}, stamps: {}, v: 1 }),
      'import_invalid',
      'components[0]',
    ],
    [
      'a key with NUL',
      withComponent({ key: 'a\u0000b', data: {}, stamps: {} }),
      'import_invalid',
      'components[0].key',
    ],
    [
      'a key longer than allowed',
      withComponent({ key: 'k'.repeat(513), data: {}, stamps: {} }),
      'import_invalid',
      'components[0].key',
    ],
    [
      'a malformed history entry',
      { ...valid(), history: [{ clock: 1 }] },
      'import_invalid',
      'history[0].time',
    ],
  ])('[H4][B2] %s is refused with the path of the bad field', (_name, value, code, path) => {
    const error = refusal(value);
    expect(error.code).toBe(code);
    expect(error.path).toBe(path);
    expect(error.message).toContain(path === '(the file)' ? '' : (path as string));
  });

  it.each<[string, unknown]>([
    ['a stamp after the clock', withComponent({ key: 'k', data: { x: 1 }, stamps: { x: 4 } })],
    [
      'a deletion stamp after the clock',
      withComponent({ key: 'k', data: { x: 1 }, stamps: { x: 1 }, deletedAt: 9 }),
    ],
    ['a forbidden key', withComponent({ key: '__proto__', data: {}, stamps: {} })],
    ['a forbidden field', withComponent({ key: 'k', data: JSON.parse('{"constructor":1}'), stamps: {} })],
    ['a key twice', { ...valid(), components: [valid().components, valid().components].flat().slice(0, 4) }],
  ])('[H4][D9] %s breaks the document rules and is refused', (_name, value) => {
    const error = refusal(value);
    expect(error.code).toBe('import_invalid');
    expect(error.message).toMatch(/clock|integer|forbidden|twice|\[0, 3\]/);
  });

  it('[H4][B7] a document over the room key or byte quota is refused', () => {
    const components = Array.from({ length: 11 }, (_, i) => ({
      key: `k${i}`,
      data: { x: i },
      stamps: { x: 1 },
    }));
    const file = { ...valid(), clock: 1, components };
    expect(parseRoomExport(file, TEST_IMPORT_LIMITS).components).toHaveLength(11);
    expect(() => parseRoomExport(file, { ...TEST_IMPORT_LIMITS, maxRoomKeys: 10 })).toThrow(/at most 10/);
    expect(() => parseRoomExport(file, { ...TEST_IMPORT_LIMITS, maxRoomBytes: 50 })).toThrowError(
      expect.objectContaining({ code: 'import_exceeds_room_limits' }),
    );
  });

  it('[H4][B6] a file over the byte limit is refused before it is parsed', () => {
    const text = JSON.stringify(valid());
    expect(() => parseRoomExportText(`${text}   `, text.length, TEST_IMPORT_LIMITS)).toThrowError(
      expect.objectContaining({ code: 'import_too_large' }),
    );
    expect(parseRoomExportText(text, text.length, TEST_IMPORT_LIMITS).clock).toBe(3);
  });

  it('[H4][B6] a value nested deeper than --max-depth is refused by a scan, not a parser', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const text = JSON.stringify(withComponent({ key: 'k', data: { x: 'DEEP' }, stamps: {} })).replace(
      '"DEEP"',
      deep,
    );
    expect(() => parseRoomExportText(text, 10 ** 9, TEST_IMPORT_LIMITS)).toThrowError(
      expect.objectContaining({ code: 'import_too_deep' }),
    );
  });

  it('[H4] text that is not JSON is refused as such', () => {
    expect(() => parseRoomExportText('{"format":', 1000, TEST_IMPORT_LIMITS)).toThrowError(
      expect.objectContaining({ code: 'import_not_json' }),
    );
  });
});
