import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/index.js';
import {
  DEEP,
  deepArray,
  docFrame,
  expectRejectedWithoutEffect,
  fieldFrame,
  hostileRoom,
} from '../helpers/hostile-inputs.js';

const MiB = 1024 * 1024;
const KEYS = 200_000;

/** One patch holding `count` keys, the last of which targets the seeded `e1/Pos`. */
function manyKeysFrame(count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count - 1; i++) parts.push(`"k${i}/C":{"v":${i}}`);
  parts.push('"e1/Pos":{"x":99}');
  return docFrame(`[{${parts.join(',')}}]`);
}

describe('oversized frames', () => {
  it('[B2][B3][B4] 200,000 keys in one frame are rejected as too-many-keys when the frame size allows them', async () => {
    const ctx = await hostileRoom({ limits: { maxFrameBytes: 64 * MiB } });
    const raw = manyKeysFrame(KEYS);
    expect(Buffer.byteLength(raw)).toBeGreaterThan(2 * MiB);
    await expectRejectedWithoutEffect(ctx, raw, 'too-many-keys');
  });

  it('[B2][B4] 200,000 single-key patches in one frame share one key budget', async () => {
    const ctx = await hostileRoom({ limits: { maxFrameBytes: 64 * MiB } });
    const patches = Array.from({ length: KEYS }, (_, i) => `{"k${i}/C":{"v":1}}`).join(',');
    await expectRejectedWithoutEffect(ctx, docFrame(`[${patches}]`), 'too-many-keys');
  });

  it('[B3][B4] with default limits the same 200,000-key frame is rejected as too large and the session closed (1009)', async () => {
    const ctx = await hostileRoom();
    await expectRejectedWithoutEffect(ctx, manyKeysFrame(KEYS), 'frame-too-large', {
      closeCode: CloseCode.FrameTooLarge,
    });
  });

  it('[B1][B3][B4] a 64 MiB frame is rejected as frame-too-large and the session closed with 1009', async () => {
    const ctx = await hostileRoom();
    const raw = fieldFrame(`"${'x'.repeat(64 * MiB)}"`);
    expect(raw.length).toBeGreaterThan(64 * MiB);
    await expectRejectedWithoutEffect(ctx, raw, 'frame-too-large', { closeCode: CloseCode.FrameTooLarge });
  });

  it('[B1][B2] a field value nested 100,000 levels deep is rejected as too-deep in both lists of one frame', async () => {
    const ctx = await hostileRoom();
    const deep = deepArray(DEEP);
    const raw = `{"type":"patch","messageId":"d","documentPatches":[{"e1/Pos":{"x":1}}],"ephemeralPatches":[{"c/h":{"x":${deep}}}]}`;
    await expectRejectedWithoutEffect(ctx, raw, 'too-deep');
  });
});
