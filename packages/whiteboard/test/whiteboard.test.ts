import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BoardPage,
  BrowserSession,
  centerOf,
  chromiumInstalled,
  eventually,
  expectSameBoards,
  type RenderedShape,
  wave,
} from './helpers/browser.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

/**
 * The whiteboard in real browsers: two chromium processes (separate profiles,
 * so separate IndexedDB) on one canvas-store-server CLI process. Every test
 * uses its own room. Screenshots of each step go to test/artifacts/.
 */

const TEST_TIMEOUT_MS = 90_000;

function newRoom(name: string): string {
  return `${name}-${randomUUID().slice(0, 8)}`;
}

function byId(shapes: readonly RenderedShape[], id: string): RenderedShape | undefined {
  return shapes.find((shape) => shape.id === id);
}

interface BufferDelta {
  __buf: 1;
  len: number;
  runs: [number, number[]][];
}

/** The buffer deltas a sent `patch` frame writes to the `points` field of `key`. */
function pointDeltas(frame: string, key: string): BufferDelta[] {
  const parsed = JSON.parse(frame) as { documentPatches?: Record<string, { points?: unknown }>[] };
  const deltas: BufferDelta[] = [];
  for (const patch of parsed.documentPatches ?? []) {
    const points = patch[key]?.points as Partial<BufferDelta> | undefined;
    if (points?.__buf === 1 && typeof points.len === 'number' && Array.isArray(points.runs)) {
      deltas.push(points as BufferDelta);
    }
  }
  return deltas;
}

describe.runIf(chromiumInstalled('whiteboard.test.ts'))('whiteboard in chromium', () => {
  let server: ServerProcess;
  let browserA: BrowserSession;
  let browserB: BrowserSession;
  const openPages: BoardPage[] = [];
  const extraBrowsers: BrowserSession[] = [];

  async function open(browser: BrowserSession, roomId: string, name: string): Promise<BoardPage> {
    const board = await BoardPage.open(browser, server.baseUrl, roomId, name);
    openPages.push(board);
    return board;
  }

  beforeAll(async () => {
    server = await startServer();
    [browserA, browserB] = await Promise.all([BrowserSession.launch(), BrowserSession.launch()]);
  }, 60_000);

  afterEach(async () => {
    const pages = openPages.splice(0);
    const errors = pages.flatMap((board) => board.pageErrors.map((message) => `${board.label}: ${message}`));
    await Promise.all(pages.map((board) => board.close()));
    await Promise.all(extraBrowsers.splice(0).map((browser) => browser.close()));
    expect(errors, 'uncaught errors in the pages').toEqual([]);
  });

  afterAll(async () => {
    await Promise.all([browserA?.close(), browserB?.close()]);
    await server?.stop();
  }, 60_000);

  it(
    '[A3][S1][whiteboard] a rectangle drawn in A appears in B with the same geometry and colour',
    async () => {
      const room = newRoom('rect');
      const a = await open(browserA, room, 'Alice');
      const b = await open(browserB, room, 'Bob');
      for (const board of [a, b]) {
        await eventually(() => board.text('client-count')).toBe('2');
      }
      await a.screenshot('1-rect-0-both-online-A');

      await a.tool('rect');
      await a.color('#e03131');
      await a.drag({ x: 300, y: 200 }, { x: 460, y: 300 });

      const drawn = await a.waitForShape({ kind: 'rect', x: 300, y: 200, w: 160, h: 100, color: '#e03131' });
      await eventually(() => b.shapes()).toEqual([drawn]);
      await a.screenshot('1-rect-1-drawn-A');
      await b.screenshot('1-rect-2-received-B');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '[D6][whiteboard] a freehand stroke drawn in A arrives whole in B, sent as buffer deltas',
    async () => {
      const room = newRoom('stroke');
      const a = await open(browserA, room, 'Alice');
      const b = await open(browserB, room, 'Bob');
      const path = wave({ x: 150, y: 350 }, 80);

      await a.tool('pen');
      await a.color('#1971c2');
      await a.stroke(path);

      // Every pointer move (8 px apart) added a point, and the polyline goes through them all.
      const drawn = await a.waitForShape({ kind: 'stroke', color: '#1971c2', pointsCount: path.length });
      expect(drawn.polyline).toBe(path.map(({ x, y }) => `${x},${y}`).join(' '));
      const xs = path.map((point) => point.x);
      const ys = path.map((point) => point.y);
      expect(drawn).toMatchObject({
        x: Math.min(...xs),
        y: Math.min(...ys),
        w: Math.max(...xs) - Math.min(...xs),
        h: Math.max(...ys) - Math.min(...ys),
      });

      // B shows the same stroke, all of its points.
      await eventually(() => b.shapes()).toEqual([drawn]);

      // The growing points array travelled as buffer deltas (SPEC D6), in several frames,
      // each carrying only the points added since the previous one.
      const deltaFrames = a.sentFrames.filter((frame) => frame.includes('"__buf"'));
      expect(deltaFrames.length, 'frames with a buffer delta sent by A').toBeGreaterThan(1);
      const deltas = deltaFrames.flatMap((frame) => pointDeltas(frame, `${drawn.id}/Shape`));
      expect(deltas.length).toBeGreaterThanOrEqual(deltaFrames.length);
      expect(Math.max(...deltas.map((delta) => delta.len))).toBe(2 * path.length);
      const appendOnly = deltas.filter((delta) => delta.runs.every(([offset]) => offset > 0));
      expect(appendOnly.length, 'deltas that carry only the tail of the points').toBeGreaterThan(0);
      for (const delta of appendOnly) {
        const sent = delta.runs.reduce((sum, [, values]) => sum + values.length, 0);
        expect(sent).toBeLessThan(delta.len);
      }
      await a.screenshot('2-stroke-1-drawn-A');
      await b.screenshot('2-stroke-2-received-B');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "[E1][E2][E3][S1] each page sees the other's cursor and name; a newcomer gets them at once; a leaver's cursor goes",
    async () => {
      const room = newRoom('cursors');
      const a = await open(browserA, room, 'Alice');
      const b = await open(browserB, room, 'Bob');
      const [idA, idB] = await Promise.all([a.clientId(), b.clientId()]);

      // The people list shows everyone, the local user first.
      for (const [board, self, other, otherName] of [
        [a, idA, idB, 'Bob'],
        [b, idB, idA, 'Alice'],
      ] as const) {
        await eventually(() =>
          board.page.evaluate(() =>
            document.querySelector('[data-testid="people"] > li')?.getAttribute('data-testid'),
          ),
        ).toBe(`person-${self}`);
        await eventually(() => board.text(`person-${other}`)).toContain(otherName);
      }

      // "<label> @ <transform>" of the cursor of `clientId` shown by `board`, or 'absent'.
      const cursorState = async (board: BoardPage, clientId: string) => {
        const cursor = await board.probe(`cursor-${clientId}`);
        return cursor ? `${cursor.text} @ ${cursor.transform}` : 'absent';
      };

      await a.page.mouse.move(640, 360);
      await eventually(() => cursorState(b, idA)).toBe('Alice @ translate(640px, 360px)');
      await b.page.mouse.move(420, 260);
      await eventually(() => cursorState(a, idB)).toBe('Bob @ translate(420px, 260px)');
      // Nobody sees a cursor of their own.
      expect(await cursorState(a, idA)).toBe('absent');
      expect(await cursorState(b, idB)).toBe('absent');
      await a.screenshot('3-cursors-1-A-sees-Bob');
      await b.screenshot('3-cursors-2-B-sees-Alice');

      // A newcomer sees both cursors where they are, without anyone moving (SPEC E2).
      const browserC = await BrowserSession.launch();
      extraBrowsers.push(browserC);
      const c = await open(browserC, room, 'Carol');
      const idC = await c.clientId();
      await eventually(() => cursorState(c, idA)).toBe('Alice @ translate(640px, 360px)');
      await eventually(() => cursorState(c, idB)).toBe('Bob @ translate(420px, 260px)');
      await eventually(() => b.text('client-count')).toBe('3');
      await c.page.mouse.move(200, 500);
      await eventually(() => cursorState(b, idC)).toBe('Carol @ translate(200px, 500px)');
      await c.screenshot('3-cursors-3-newcomer-C-sees-both');
      await b.screenshot('3-cursors-4-B-sees-Alice-and-Carol');

      // Carol leaves: her cursor and list entry go away for the others (SPEC E3).
      await c.close();
      await eventually(() => cursorState(b, idC)).toBe('absent');
      await eventually(() => b.probe(`person-${idC}`)).toBeNull();
      await eventually(() => b.text('client-count')).toBe('2');
      expect(await cursorState(b, idA)).toBe('Alice @ translate(640px, 360px)');
      await b.screenshot('3-cursors-5-B-after-Carol-left');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '[D7][whiteboard] offline edits on both sides converge when A comes back online',
    async () => {
      const room = newRoom('offline');
      const a = await open(browserA, room, 'Alice');
      const b = await open(browserB, room, 'Bob');

      // Two rectangles both boards know about.
      await a.tool('rect');
      await a.drag({ x: 150, y: 150 }, { x: 270, y: 230 });
      await a.color('#1971c2');
      await a.drag({ x: 350, y: 150 }, { x: 510, y: 260 });
      const r0 = await a.waitForShape(
        { kind: 'rect', y: 150, w: 120, h: 80, color: '#1e1e1e' },
        (shape) => shape.x === 150,
      );
      const r1 = await a.waitForShape(
        { kind: 'rect', y: 150, w: 160, h: 110, color: '#1971c2' },
        (shape) => shape.x === 350,
      );
      expect(await expectSameBoards(a, b)).toEqual([r0, r1].sort((x, y) => (x.id < y.id ? -1 : 1)));
      await b.screenshot('4-offline-0-start-B');

      // A goes offline.
      await a.click('offline-toggle');
      await eventually(() => a.attr('offline-toggle', 'data-offline')).toBe('true');
      await a.waitStatus('offline');
      await eventually(async () => (await a.probe('offline-banner'))?.visible).toBe(true);
      await eventually(() => b.text('client-count')).toBe('1');

      // Offline, A draws a green rectangle and recolours r1 red.
      await a.color('#2f9e44');
      await a.drag({ x: 150, y: 350 }, { x: 300, y: 470 });
      const r2 = await a.waitForShape(
        { kind: 'rect', w: 150, h: 120, color: '#2f9e44' },
        (shape) => shape.x === 150 && shape.y === 350,
      );
      await a.tool('select');
      const c1 = centerOf(r1);
      await a.page.mouse.click(c1.x, c1.y);
      await eventually(() => a.attr('delete', 'disabled')).toBeNull();
      await a.color('#e03131');
      await eventually(async () => (await a.shapes()).find((s) => s.id === r1.id)?.color).toBe('#e03131');
      await a.page.keyboard.press('Escape');
      await a.screenshot('4-offline-1-A-offline-edits');

      // Meanwhile B draws a purple stroke, moves r1 and deletes r0.
      await b.tool('pen');
      await b.color('#9c36b5');
      const path = wave({ x: 420, y: 520 }, 50);
      await b.stroke(path);
      const stroke = await b.waitForShape(
        { color: '#9c36b5', pointsCount: path.length },
        (shape) => shape.kind === 'stroke',
      );
      await b.tool('select');
      await b.drag(c1, { x: c1.x + 200, y: c1.y + 100 });
      await eventually(async () => {
        const moved = byId(await b.shapes(), r1.id);
        return moved && { x: moved.x, y: moved.y };
      }).toEqual({ x: 550, y: 250 });
      const c0 = centerOf(r0);
      await b.page.mouse.click(c0.x, c0.y);
      await b.click('delete');
      await eventually(async () => byId(await b.shapes(), r0.id)).toBeUndefined();
      await b.screenshot('4-offline-2-B-edits-while-A-offline');

      // Neither side has seen the other's edits yet.
      const whileApart = { a: await a.shapes(), b: await b.shapes() };
      expect(byId(whileApart.a, stroke.id), 'A offline must not have B stroke').toBeUndefined();
      expect(byId(whileApart.a, r0.id), 'A offline still has r0').toBeDefined();
      expect(byId(whileApart.a, r1.id)).toMatchObject({ x: 350, y: 150, color: '#e03131' });
      expect(byId(whileApart.b, r2.id), 'B must not have A offline rect yet').toBeUndefined();
      expect(byId(whileApart.b, r1.id)).toMatchObject({ x: 550, y: 250, color: '#1971c2' });

      // A comes back online: both boards converge on everyone's edits.
      await a.click('offline-toggle');
      await eventually(() => a.attr('offline-toggle', 'data-offline')).toBe('false');
      await a.waitSynced();
      const converged = await expectSameBoards(a, b);
      expect(converged.map((shape) => shape.id).sort()).toEqual([r1.id, r2.id, stroke.id].sort());
      // r1 keeps B's move and A's offline recolour (different fields, both survive).
      expect(byId(converged, r1.id)).toMatchObject({ kind: 'rect', x: 550, y: 250, w: 160, h: 110 });
      expect(byId(converged, r1.id)?.color).toBe('#e03131');
      // A's offline rectangle reached B; B's stroke reached A whole.
      expect(byId(await b.shapes(), r2.id)).toEqual(r2);
      expect(byId(await a.shapes(), stroke.id)).toEqual(stroke);
      await a.screenshot('4-offline-3-converged-A');
      await b.screenshot('4-offline-4-converged-B');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '[D7][whiteboard] a reload keeps the board: online from the server, offline from IndexedDB',
    async () => {
      const room = newRoom('reload');
      const a = await open(browserA, room, 'Alice');
      const b = await open(browserB, room, 'Bob');

      await a.tool('rect');
      await a.color('#f08c00');
      await a.drag({ x: 200, y: 160 }, { x: 380, y: 280 });
      const rect = await a.waitForShape({ kind: 'rect', x: 200, y: 160, w: 180, h: 120, color: '#f08c00' });
      await a.tool('pen');
      await a.stroke(wave({ x: 420, y: 420 }, 40));
      const stroke = await a.waitForShape({ color: '#f08c00', pointsCount: 40 }, (s) => s.kind === 'stroke');
      const before = await expectSameBoards(a, b);
      expect(before).toEqual([rect, stroke].sort((x, y) => (x.id < y.id ? -1 : 1)));
      await b.screenshot('5-reload-1-before-B');

      // Online reload: after syncing, the same shapes.
      await b.page.reload();
      await b.waitSynced();
      expect(await expectSameBoards(a, b)).toEqual(before);
      await b.screenshot('5-reload-2-after-reload-B');

      // Offline reload: the switch stays off and the board (with the offline edit) comes from IndexedDB.
      await b.click('offline-toggle');
      await b.waitStatus('offline');
      await b.tool('rect');
      await b.color('#2f9e44');
      await b.drag({ x: 600, y: 150 }, { x: 700, y: 230 });
      const offlineRect = await b.waitForShape(
        { kind: 'rect', y: 150, w: 100, h: 80, color: '#2f9e44' },
        (shape) => shape.x === 600,
      );
      await b.whenPersisted();
      await b.page.reload();
      await eventually(() => b.attr('offline-toggle', 'data-offline')).toBe('true');
      await b.waitStatus('offline');
      const expected = [...before, offlineRect].sort((x, y) => (x.id < y.id ? -1 : 1));
      await eventually(() => b.shapes()).toEqual(expected);
      expect(byId(await a.shapes(), offlineRect.id), 'A has not seen the offline rect').toBeUndefined();
      await b.screenshot('5-reload-3-offline-reload-B');

      // Back online, the offline rectangle reaches A.
      await b.click('offline-toggle');
      await b.waitSynced();
      expect(await expectSameBoards(a, b)).toEqual(expected);
      await a.screenshot('5-reload-4-A-after-B-online');
    },
    TEST_TIMEOUT_MS,
  );
});
