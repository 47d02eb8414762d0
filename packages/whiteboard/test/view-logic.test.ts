import { describe, expect, it } from 'vitest';
import { Camera, MAX_ZOOM, MIN_ZOOM } from '../src/camera.js';
import { assignUserColors } from '../src/cursor-colors.js';
import { USER_COLORS } from '../src/palette.js';
import { saveState } from '../src/save-indicator.js';

/** Pure parts of the whiteboard (no browser): camera maths, colour assignment, save labels. */

describe('camera', () => {
  it('[whiteboard] zooming keeps the board point under the anchor, and toScreen inverts toBoard', () => {
    const camera = new Camera();
    camera.panBy(-37, 12);
    const anchor = { x: 140, y: 90 };
    const before = camera.toBoard(anchor);
    camera.zoomBy(2.5, anchor);
    expect(camera.zoom).toBe(2.5);
    expect(camera.toBoard(anchor).x).toBeCloseTo(before.x, 9);
    expect(camera.toBoard(anchor).y).toBeCloseTo(before.y, 9);
    const point = { x: 321.5, y: -44 };
    const back = camera.toBoard(camera.toScreen(point));
    expect(back.x).toBeCloseTo(point.x, 9);
    expect(back.y).toBeCloseTo(point.y, 9);
  });

  it('[whiteboard] zoom is clamped, reset returns to the origin at 100 %, and listeners hear each change', () => {
    const camera = new Camera();
    let changes = 0;
    camera.onChange(() => changes++);
    camera.zoomTo(1000, { x: 0, y: 0 });
    expect(camera.zoom).toBe(MAX_ZOOM);
    camera.zoomTo(0, { x: 0, y: 0 });
    expect(camera.zoom).toBe(MIN_ZOOM);
    camera.panBy(10, 10);
    camera.reset();
    expect({ x: camera.x, y: camera.y, zoom: camera.zoom }).toEqual({ x: 0, y: 0, zoom: 1 });
    expect(changes).toBe(4);
    camera.reset();
    expect(changes, 'a reset that changes nothing is silent').toBe(4);
  });
});

describe('user colours', () => {
  const ids = ['k3v9x2qa1', 'b8m2', 'zz-top', 'client-4', 'q', 'a1b2c3', 'Tab 7', 'x'];

  it('[E1][whiteboard] present clients get distinct colours while there are no more than the palette holds', () => {
    for (let count = 1; count <= USER_COLORS.length; count++) {
      const colors = assignUserColors(ids.slice(0, count));
      expect(new Set(colors.values()).size).toBe(count);
      for (const color of colors.values()) expect(USER_COLORS).toContain(color);
    }
  });

  it('[E1][whiteboard] every page computes the same colours, whatever order it knows the clients in', () => {
    const reference = assignUserColors(ids);
    const reversed = assignUserColors([...ids].reverse());
    expect([...reversed].sort()).toEqual([...reference].sort());
    // More clients than colours: everyone still gets one (some shared).
    const many = assignUserColors([...ids, 'extra-1', 'extra-2']);
    expect(many.size).toBe(ids.length + 2);
  });
});

describe('save indicator labels', () => {
  it('[whiteboard] Saving… while writes are unacked, Saved when none are, Offline — N unsaved edits', () => {
    expect(saveState(true, 0)).toEqual({ state: 'saved', label: 'Saved' });
    expect(saveState(true, 3)).toEqual({ state: 'saving', label: 'Saving…' });
    expect(saveState(false, 0)).toEqual({ state: 'offline-saved', label: 'Offline — all edits saved' });
    expect(saveState(false, 1)).toEqual({ state: 'offline-unsaved', label: 'Offline — 1 unsaved edit' });
    expect(saveState(false, 4)).toEqual({ state: 'offline-unsaved', label: 'Offline — 4 unsaved edits' });
  });
});
