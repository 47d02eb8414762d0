import { describe, expect, it } from 'vitest';
import { type BoardPage, chromiumInstalled, eventually, type Point } from './helpers/browser.js';
import { type Box, boxes, overlap } from './helpers/layout.js';
import { byId, newRoom, TEST_TIMEOUT_MS, useTwoBrowsers, VIEWPORTS } from './helpers/two-browsers.js';

/**
 * How the whiteboard looks and moves, in two chromium processes at a laptop
 * and a (touch) phone window size: the layout, pan and zoom, cursor colours,
 * the palette and the `roomId=` URL. Screenshots go to test/artifacts/.
 */

interface CameraState {
  x: number;
  y: number;
  zoom: number;
}

/** The page's camera (`window.__whiteboard.app.camera`). */
async function camera(board: BoardPage): Promise<CameraState> {
  return board.page.evaluate(() => {
    const hook = (window as unknown as { __whiteboard: { app: { camera: CameraState } } }).__whiteboard;
    const { x, y, zoom } = hook.app.camera;
    return { x, y, zoom };
  });
}

function toBoard(cam: CameraState, point: Point): Point {
  return { x: point.x / cam.zoom + cam.x, y: point.y / cam.zoom + cam.y };
}

/** Buttons of the toolbars whose centre is covered by something else (should be none). */
async function coveredButtons(board: BoardPage): Promise<string[]> {
  return board.page.evaluate(() =>
    Array.from(document.querySelectorAll('.toolbar button, .view-bar button, .corner > *'))
      .filter((element) => {
        const rect = element.getBoundingClientRect();
        const hit = document.elementFromPoint(rect.x + rect.width / 2, rect.y + rect.height / 2);
        return !element.contains(hit);
      })
      .map((element) => element.getAttribute('data-testid') ?? element.className),
  );
}

/** Colours of the people list: client id to `data-color` of its dot. */
async function peopleColors(board: BoardPage): Promise<Record<string, string>> {
  return board.page.evaluate(() =>
    Object.fromEntries(
      Array.from(document.querySelectorAll<HTMLElement>('[data-testid^="person-"]')).map((item) => [
        (item.dataset.testid ?? '').slice('person-'.length),
        item.querySelector<HTMLElement>('.person-dot')?.dataset.color ?? '',
      ]),
    ),
  );
}

describe.runIf(chromiumInstalled('board-view.test.ts')).each(VIEWPORTS)(
  'whiteboard view at $name size ($width x $height)',
  (viewport) => {
    const boards = useTwoBrowsers(viewport);
    const shot = (board: BoardPage, name: string) => board.screenshot(`view-${viewport.name}-${name}`);
    const wide = viewport.width >= 900;

    it(
      '[whiteboard] the panels fit the window and never cover each other; the sidebar folds away on phones',
      async () => {
        const a = await boards.open('A', newRoom('layout'), 'Alice');
        const panels = ['toolbar', 'view-bar', 'save-state', 'sidebar-toggle'];
        const check = async () => {
          const found = await boxes(a, [...panels, 'sidebar']);
          const shown = [...panels, ...(found.sidebar?.visible ? ['sidebar'] : [])];
          for (const id of shown) {
            const box = found[id] as Box;
            expect(box.visible, `${id} visible`).toBe(true);
            expect(box.x >= 0 && box.y >= 0, `${id} inside the window`).toBe(true);
            expect(box.x + box.w <= viewport.width && box.y + box.h <= viewport.height, `${id} inside`).toBe(
              true,
            );
          }
          for (const [i, first] of shown.entries()) {
            for (const second of shown.slice(i + 1)) {
              expect(
                overlap(found[first] as Box, found[second] as Box),
                `${first} and ${second} overlap`,
              ).toBe(false);
            }
          }
          expect(await coveredButtons(a)).toEqual([]);
          return found.sidebar?.visible ?? false;
        };

        // Open on a laptop, folded on a phone (where it would cover the board).
        expect(await check()).toBe(wide);
        expect(await a.attr('sidebar-toggle', 'aria-expanded')).toBe(String(wide));
        await shot(a, 'layout-1-start');
        await a.click('sidebar-toggle');
        expect(await check()).toBe(!wide);
        await shot(a, 'layout-2-sidebar-toggled');
        if (!wide) await a.click('sidebar-toggle');

        // A shape drawn in the free part of the board is not covered by anything.
        await a.tool('rect');
        await a.drag({ x: 80, y: 220 }, { x: 240, y: 320 });
        const rect = await a.waitForShape({ kind: 'rect', x: 80, y: 220 });
        const hit = await a.page.evaluate(
          () =>
            document.elementFromPoint(160, 270)?.closest('[data-shape-id]')?.getAttribute('data-shape-id') ??
            null,
        );
        expect(hit).toBe(rect.id);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      '[whiteboard] pan and zoom (buttons, Ctrl+wheel, wheel, hand tool, Space, pinch) move the view, not the shapes',
      async () => {
        const { a, b } = await boards.pair('zoom');
        await a.tool('rect');
        await a.drag({ x: 100, y: 220 }, { x: 200, y: 300 });
        const rect = await a.waitForShape({ kind: 'rect', x: 100, y: 220, w: 100, h: 80 });
        await eventually(() => b.shapes()).toEqual([rect]);

        // The zoom-in button: 125 %, the rectangle drawn larger, its document fields unchanged.
        await a.click('zoom-in');
        await eventually(() => a.text('zoom-reset')).toBe('125%');
        const zoomed = await camera(a);
        expect(zoomed.zoom).toBe(1.25);
        const screenCorner = await a.page.evaluate((id) => {
          const body = document.querySelector(
            `[data-testid="shape-${id}"] .shape-body`,
          ) as SVGGraphicsElement;
          const matrix = body.getScreenCTM() as DOMMatrix;
          return { x: matrix.a * 100 + matrix.e, y: matrix.d * 220 + matrix.f, scale: matrix.a };
        }, rect.id);
        expect(screenCorner.scale).toBeCloseTo(1.25, 5);
        expect(screenCorner.x).toBeCloseTo((100 - zoomed.x) * 1.25, 3);
        expect(screenCorner.y).toBeCloseTo((220 - zoomed.y) * 1.25, 3);
        expect(await a.shapes()).toEqual([rect]);

        // Ctrl+wheel zooms around the pointer: the board point under it stays put.
        const anchor = { x: 150, y: 260 };
        const under = toBoard(zoomed, anchor);
        await a.page.mouse.move(anchor.x, anchor.y);
        await a.page.keyboard.down('Control');
        await a.page.mouse.wheel(0, -100);
        await a.page.keyboard.up('Control');
        await eventually(async () => (await camera(a)).zoom).toBeGreaterThan(1.25);
        const wheeled = await camera(a);
        expect(toBoard(wheeled, anchor).x).toBeCloseTo(under.x, 3);
        expect(toBoard(wheeled, anchor).y).toBeCloseTo(under.y, 3);

        // The wheel alone pans.
        await a.page.mouse.wheel(30, 60);
        await eventually(async () => (await camera(a)).y).toBeCloseTo(wheeled.y + 60 / wheeled.zoom, 3);
        expect((await camera(a)).x).toBeCloseTo(wheeled.x + 30 / wheeled.zoom, 3);

        // The hand tool pans by dragging; so does Space with the pen, which then draws nothing.
        await a.tool('hand');
        const beforeHand = await camera(a);
        await a.drag({ x: 150, y: 450 }, { x: 190, y: 500 });
        await eventually(async () => (await camera(a)).x).toBeCloseTo(beforeHand.x - 40 / beforeHand.zoom, 3);
        expect((await camera(a)).y).toBeCloseTo(beforeHand.y - 50 / beforeHand.zoom, 3);
        await a.tool('pen');
        const beforeSpace = await camera(a);
        await a.page.keyboard.down('Space');
        await a.drag({ x: 200, y: 450 }, { x: 170, y: 420 });
        await a.page.keyboard.up('Space');
        await eventually(async () => (await camera(a)).x).toBeCloseTo(
          beforeSpace.x + 30 / beforeSpace.zoom,
          3,
        );
        expect(await a.shapes(), 'Space+drag drew nothing').toEqual([rect]);

        // Drawing in the moved view lands at the board point under the pointer, for B too.
        await a.tool('rect');
        const view = await camera(a);
        const from = toBoard(view, { x: 60, y: 400 });
        const to = toBoard(view, { x: 160, y: 480 });
        await a.drag({ x: 60, y: 400 }, { x: 160, y: 480 });
        const [x0, y0, x1, y1] = [from.x, from.y, to.x, to.y].map(Math.round) as [
          number,
          number,
          number,
          number,
        ];
        const drawn = await b.waitForShape(
          { x: x0, y: y0, w: x1 - x0, h: y1 - y0 },
          (shape) => shape.id !== rect.id,
        );

        // B's cursor (B's view is not moved) shows where B points, through A's camera.
        const idB = await b.clientId();
        await b.page.mouse.move(150, 250);
        const expected = `translate(${Math.round((150 - view.x) * view.zoom * 10) / 10}px, ${Math.round((250 - view.y) * view.zoom * 10) / 10}px)`;
        await eventually(async () => (await a.probe(`cursor-${idB}`))?.transform).toBe(expected);
        await shot(a, 'zoom-1-zoomed-and-panned-A');
        await shot(b, 'zoom-2-unmoved-B');

        // Reset: back to 100 % at the origin.
        await a.click('zoom-reset');
        await eventually(() => a.text('zoom-reset')).toBe('100%');
        expect(await camera(a)).toEqual({ x: 0, y: 0, zoom: 1 });

        if (viewport.hasTouch) {
          // Two fingers pinch from 100 px apart to 200 px apart around (200, 450): 200 %.
          // The first finger started a pen stroke; the second takes it back.
          await a.tool('pen');
          const cdp = await a.page.context().newCDPSession(a.page);
          const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', points: Point[]) =>
            cdp.send('Input.dispatchTouchEvent', {
              type,
              touchPoints: points.map((point, id) => ({ x: point.x, y: point.y, id })),
            });
          await touch('touchStart', [{ x: 150, y: 450 }]);
          await touch('touchStart', [
            { x: 150, y: 450 },
            { x: 250, y: 450 },
          ]);
          for (let step = 1; step <= 5; step++) {
            await touch('touchMove', [
              { x: 150 - step * 10, y: 450 },
              { x: 250 + step * 10, y: 450 },
            ]);
          }
          await touch('touchEnd', []);
          await eventually(async () => (await camera(a)).zoom).toBeCloseTo(2, 3);
          const pinched = await camera(a);
          // Touch positions reach the page rounded to device pixels: within half a board pixel.
          expect(toBoard(pinched, { x: 200, y: 450 }).x).toBeCloseTo(200, 0);
          expect(toBoard(pinched, { x: 200, y: 450 }).y).toBeCloseTo(450, 0);
          await eventually(() => b.shapes()).toEqual([rect, drawn].sort((p, q) => (p.id < q.id ? -1 : 1)));
          await shot(a, 'zoom-3-pinched-A');
        }
      },
      TEST_TIMEOUT_MS,
    );

    it(
      '[E1][whiteboard] present users get distinct cursor colours, the same on every page, even with equal stored colours',
      async () => {
        const { room, a, b } = await boards.pair('colors');
        // Before, each browser's stored (random) colour was shown: make them all the same.
        for (const board of [a, b]) {
          await board.page.evaluate(() => localStorage.setItem('whiteboard.color', '#e03131'));
          await board.page.reload();
          await board.waitSynced();
        }
        const c = await boards.open('B', room, 'Carol');
        const ids = await Promise.all([a.clientId(), b.clientId(), c.clientId()]);

        let seen: Record<string, string> = {};
        await eventually(async () => {
          // Each list is ordered by name with the viewer first: compare them sorted by id.
          const views = await Promise.all([a, b, c].map(peopleColors));
          seen = views[0] ?? {};
          const sorted = views.map((view) => JSON.stringify(Object.entries(view).sort()));
          const agree = sorted.every((view) => view === sorted[0]);
          return { agree, ids: Object.keys(seen).sort(), distinct: new Set(Object.values(seen)).size };
        }).toEqual({ agree: true, ids: [...ids].sort(), distinct: 3 });

        // Cursors wear the same colours.
        const [idA, idB] = ids as [string, string, string];
        await b.page.mouse.move(200, 300);
        await eventually(() => a.attr(`cursor-${idB}`, 'data-color')).toBe(seen[idB]);
        await a.page.mouse.move(120, 260);
        await eventually(() => c.attr(`cursor-${idA}`, 'data-color')).toBe(seen[idA]);
        await shot(c, 'colors-1-C-sees-A-and-B');
      },
      TEST_TIMEOUT_MS,
    );

    it(
      "[whiteboard] the palette shows the selected shape's colour, and the colour for new shapes when nothing is selected",
      async () => {
        const a = await boards.open('A', newRoom('palette'), 'Alice');
        await a.tool('rect');
        await a.color('#e03131');
        await a.drag({ x: 60, y: 220 }, { x: 160, y: 300 });
        await a.color('#1971c2');
        await a.drag({ x: 200, y: 220 }, { x: 300, y: 300 });
        const red = await a.waitForShape({ color: '#e03131' }, (shape) => shape.x === 60);
        await a.waitForShape({ color: '#1971c2' }, (shape) => shape.x === 200);

        await a.tool('select');
        await a.page.mouse.click(110, 260);
        await eventually(() => a.attr('toolbar', 'data-color')).toBe('#e03131');
        expect(await a.attr('color-e03131', 'aria-pressed')).toBe('true');
        expect(await a.attr('color-1971c2', 'aria-pressed')).toBe('false');
        await shot(a, 'palette-1-red-selected');
        await a.page.keyboard.press('Escape');
        await eventually(() => a.attr('color-1971c2', 'aria-pressed')).toBe('true');
        expect(await a.attr('color-e03131', 'aria-pressed')).toBe('false');
        expect(byId(await a.shapes(), red.id)?.color).toBe('#e03131');
      },
      TEST_TIMEOUT_MS,
    );

    it(
      '[C1][whiteboard] the page takes roomId= like the socket, and room= as an alias it rewrites',
      async () => {
        const room = newRoom('url');
        const b = await boards.open('B', room, 'Bob');
        expect(new URL(b.page.url()).searchParams.get('roomId')).toBe(room);
        expect(b.socketUrls.some((url) => new URL(url).searchParams.get('roomId') === room)).toBe(true);

        const alias = await boards.openUrl('A', `/?room=${room}&name=Ann`, room, 'Ann');
        const url = new URL(alias.page.url());
        expect(url.searchParams.get('roomId')).toBe(room);
        expect(url.searchParams.has('room')).toBe(false);
        expect(await alias.text('room-id')).toBe(room);
        expect(await alias.page.getByTestId('share-link').inputValue()).toContain(`roomId=${room}`);

        await b.tool('rect');
        await b.drag({ x: 80, y: 220 }, { x: 180, y: 300 });
        const rect = await b.waitForShape({ kind: 'rect', x: 80, y: 220 });
        await eventually(() => alias.shapes()).toEqual([rect]);
      },
      TEST_TIMEOUT_MS,
    );
  },
);
