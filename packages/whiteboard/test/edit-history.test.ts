import { CanvasStoreClient, type WebSocketConstructor } from 'canvas-store-client';
import { describe, expect, it } from 'vitest';
import { EditHistory } from '../src/edit-history.js';
import { applyShapeChange } from '../src/shape-change.js';
import { parseShape, type Shape, shapeKey } from '../src/shape-model.js';

/**
 * Undo and redo against a real client's local document. The client starts
 * offline (no socket is ever opened), so every write waits in its buffer and
 * the test reads what the page would send: the buffered edit of each key.
 */

/** Never constructed: the clients below stay offline. */
const NoSocket = class {} as unknown as WebSocketConstructor;

function offlineClient(): CanvasStoreClient {
  return new CanvasStoreClient({
    url: 'ws://unused/',
    roomId: 'r',
    token: 't',
    WebSocket: NoSocket,
    startOffline: true,
  });
}

const rect: Shape = { id: 's1', kind: 'rect', x: 10, y: 20, w: 30, h: 40, color: '#1e1e1e', z: 1 };

function shapeIn(client: CanvasStoreClient, id: string): Shape | undefined {
  const fields = client.get(shapeKey(id));
  return fields && parseShape(id, fields);
}

describe('undo and redo (EditHistory)', () => {
  it('[D4][D5][whiteboard] undoing a creation deletes; redoing re-creates the whole shape with _exists: true', () => {
    const client = offlineClient();
    const history = new EditHistory(client);
    const created = { id: rect.id, before: null, after: rect };
    applyShapeChange(client, created);
    history.record([created]);
    expect(client.get(shapeKey(rect.id))).toMatchObject({ _exists: true, kind: 'rect', x: 10 });

    expect(history.undo()).toBe(true);
    expect(client.get(shapeKey(rect.id))).toBeUndefined();
    expect(history.canUndo).toBe(false);
    expect(history.canRedo).toBe(true);

    expect(history.redo()).toBe(true);
    expect(shapeIn(client, rect.id)).toEqual(rect);
    expect(client.get(shapeKey(rect.id))?._exists).toBe(true);
    client.close();
  });

  it("[D3][whiteboard] undoing a move writes back only the moved fields: another user's recolour survives", () => {
    const client = offlineClient();
    const history = new EditHistory(client);
    applyShapeChange(client, { id: rect.id, before: null, after: rect });
    const moved = { ...rect, x: 110, y: 120 };
    applyShapeChange(client, { id: rect.id, before: rect, after: moved });
    history.record([{ id: rect.id, before: rect, after: moved }]);
    // Someone else recolours the shape (here written through the same document).
    client.set(shapeKey(rect.id), { color: '#e03131' });

    history.undo();
    expect(shapeIn(client, rect.id)).toEqual({ ...rect, color: '#e03131' });
    history.redo();
    expect(shapeIn(client, rect.id)).toEqual({ ...moved, color: '#e03131' });
    client.close();
  });

  it('[D5][whiteboard] undoing a move of a shape someone deleted leaves it deleted (no partial shape)', () => {
    const client = offlineClient();
    const history = new EditHistory(client);
    applyShapeChange(client, { id: rect.id, before: null, after: rect });
    const moved = { ...rect, x: 110 };
    applyShapeChange(client, { id: rect.id, before: rect, after: moved });
    history.record([{ id: rect.id, before: rect, after: moved }]);
    client.delete(shapeKey(rect.id));

    history.undo();
    expect(client.get(shapeKey(rect.id))).toBeUndefined();
    client.close();
  });

  it('[whiteboard] undoing a deletion brings back a stroke with its points; a no-op step is not recorded', () => {
    const client = offlineClient();
    const history = new EditHistory(client);
    const stroke: Shape = {
      id: 's2',
      kind: 'stroke',
      x: 0,
      y: 0,
      w: 8,
      h: 6,
      color: '#1971c2',
      z: 2,
      points: [0, 0, 8, 6],
    };
    applyShapeChange(client, { id: stroke.id, before: null, after: stroke });
    history.record([{ id: stroke.id, before: stroke, after: stroke }]);
    expect(history.canUndo, 'a drag back to where it started changes nothing').toBe(false);

    applyShapeChange(client, { id: stroke.id, before: stroke, after: null });
    history.record([{ id: stroke.id, before: stroke, after: null }]);
    history.undo();
    expect(shapeIn(client, stroke.id)).toEqual(stroke);
    client.close();
  });
});
