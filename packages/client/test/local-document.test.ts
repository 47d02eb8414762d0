import { describe, expect, it } from 'vitest';
import { DEFAULT_FRAME_BUDGET } from '../src/frame-budget.js';
import { LocalDocument } from '../src/local-document.js';

const K = 'e1/Shape';

describe('local document', () => {
  it('[O2] a broadcast of a field we have in flight does not show; our acked write lands on top of it', () => {
    const doc = new LocalDocument();
    doc.applyReconnectReply([{ [K]: { _exists: true, x: 0, y: 0 } }], 1, true);
    doc.edit(new Map([[K, { replace: false, data: { x: 5 } }]]));
    doc.takeForWrite('me-1', DEFAULT_FRAME_BUDGET);
    // Another client's write of x and y, handled by the server before ours.
    const changed = doc.applyBroadcast([{ [K]: { x: 7, y: 7 } }], 2);
    expect(doc.get(K)).toEqual({ _exists: true, x: 5, y: 7 });
    expect(changed).toEqual([K]);
    doc.acknowledge('me-1', 3, true);
    expect(doc.get(K)).toEqual({ _exists: true, x: 5, y: 7 });
    expect(doc.confirmed.stampsOf(K)).toEqual({ _exists: 1, x: 3, y: 2 });
  });

  it('[O2] [D5] an in-flight update of a key deleted meanwhile by another client loses: the key stays deleted', () => {
    const doc = new LocalDocument();
    doc.applyReconnectReply([{ [K]: { _exists: true, x: 0, y: 0 } }], 1, true);
    doc.edit(new Map([[K, { replace: false, data: { x: 5 } }]]));
    doc.takeForWrite('me-1', DEFAULT_FRAME_BUDGET);
    doc.applyBroadcast([{ [K]: { _exists: false } }], 2);
    // Only `_exists: true` creates: the server ignored the update, and so does the view.
    expect(doc.get(K)).toBeUndefined();
    doc.acknowledge('me-1', 3, true);
    expect(doc.get(K)).toBeUndefined();
    expect(doc.confirmed.stampsOf(K)).toEqual({ _exists: 2 });
  });

  it('[D5] a broadcast write without `_exists: true` to an absent or deleted key changes nothing', () => {
    const doc = new LocalDocument();
    expect(doc.applyBroadcast([{ [K]: { x: 1 } }], 1)).toEqual([]);
    expect(doc.get(K)).toBeUndefined();
    expect(doc.confirmed.stampsOf(K)).toBeUndefined();
    doc.applyBroadcast([{ [K]: { _exists: true, x: 2 } }], 2);
    doc.applyBroadcast([{ [K]: { _exists: false } }], 3);
    doc.applyBroadcast([{ [K]: { y: 4 } }], 4);
    expect(doc.get(K)).toBeUndefined();
    expect(doc.confirmed.stampsOf(K)).toEqual({ _exists: 3 });
    expect(doc.confirmed.clock).toBe(4);
  });

  it('[D7] [D5] a key our reconnect frame re-created is replaced by the reply, which leads with no tombstone for it', () => {
    const doc = new LocalDocument();
    doc.applyReconnectReply([{ [K]: { _exists: true, x: 0, color: 'a' } }], 1, true);
    // Offline: deleted, then created again with other fields.
    doc.edit(new Map([[K, { replace: false, data: { _exists: false } }]]));
    doc.edit(new Map([[K, { replace: false, data: { _exists: true, p: [1] } }]]));
    doc.takeForReconnect(DEFAULT_FRAME_BUDGET);
    // The server applied the frame; its reply holds the fields stamped after our clock only.
    doc.applyReconnectReply([{ [K]: { _exists: true, p: [1] } }], 2, false);
    expect(doc.get(K)).toEqual({ _exists: true, p: [1] });
    expect(doc.confirmed.get(K)).toEqual({ _exists: true, p: [1] });
  });

  it('[D7] [D3] a key our reconnect frame only updated still merges the reply into what we had', () => {
    const doc = new LocalDocument();
    doc.applyReconnectReply([{ [K]: { _exists: true, x: 0, color: 'a' } }], 1, true);
    doc.edit(new Map([[K, { replace: false, data: { x: 5 } }]]));
    doc.takeForReconnect(DEFAULT_FRAME_BUDGET);
    doc.applyReconnectReply([{ [K]: { x: 5 } }], 2, false);
    expect(doc.get(K)).toEqual({ _exists: true, x: 5, color: 'a' });
  });

  it('[A2] a write acked without being applied (read-only session) is dropped from the view', () => {
    const doc = new LocalDocument();
    doc.edit(new Map([[K, { replace: false, data: { _exists: true, x: 1 } }]]));
    doc.takeForWrite('me-1', DEFAULT_FRAME_BUDGET);
    expect(doc.get(K)).toEqual({ _exists: true, x: 1 });
    expect(doc.acknowledge('me-1', 0, false)).toEqual([K]);
    expect(doc.get(K)).toBeUndefined();
  });

  it('[D7][D3] an incremental reply merges partial updates into the confirmed component', () => {
    const doc = new LocalDocument();
    doc.applyReconnectReply([{ [K]: { _exists: true, x: 0, y: 0 } }], 1, true);
    doc.applyReconnectReply([{ [K]: { x: 1 } }], 2, false);
    expect(doc.get(K)).toEqual({ _exists: true, x: 1, y: 0 });
  });

  it('[D7][D5][D2] a reply that re-creates a key (tombstone, then fields) leaves nothing of the old component', () => {
    const doc = new LocalDocument();
    doc.applyReconnectReply([{ [K]: { _exists: true, x: 0, y: 0 } }], 1, true);
    doc.applyReconnectReply([{ [K]: { _exists: false } }, { [K]: { _exists: true, z: 3 } }], 3, false);
    expect(doc.get(K)).toEqual({ _exists: true, z: 3 });
  });
});
