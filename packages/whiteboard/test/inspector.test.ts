import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BoardPage,
  BrowserSession,
  chromiumInstalled,
  eventually,
  expectSameBoards,
  type RenderedShape,
  saveScreenshot,
  wave,
} from './helpers/browser.js';
import { type ServerProcess, startServer } from './helpers/server-process.js';

/**
 * The inspector (`/inspect`) in chromium, against a server started with
 * `--admin-secret`: it lists the open room, its sessions and its live document.
 */

const ADMIN_SECRET = 'inspector-browser-test-secret';

/** The text of the element with `data-testid=testId` right now ('' when absent). */
function textOf(page: Page, testId: string): Promise<string> {
  return page.evaluate(
    (id) => document.querySelector(`[data-testid="${CSS.escape(id)}"]`)?.textContent ?? '',
    testId,
  );
}

/** The document the inspector shows, parsed (null while it shows none). */
async function shownDocument(page: Page): Promise<{ state: Record<string, Record<string, unknown>> } | null> {
  const text = await textOf(page, 'document-json');
  if (text.trim() === '') return null;
  return JSON.parse(text) as { state: Record<string, Record<string, unknown>> };
}

/** The document fields of rendered shapes, as the whiteboard writes them (`<id>/Shape`). */
function shapeState(shapes: readonly RenderedShape[]): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    shapes.map(({ id, kind, x, y, w, h, color }) => [`${id}/Shape`, { kind, x, y, w, h, color }]),
  );
}

describe.runIf(chromiumInstalled('inspector.test.ts'))('inspector in chromium', () => {
  let server: ServerProcess;
  let browserA: BrowserSession;
  let browserB: BrowserSession;

  beforeAll(async () => {
    server = await startServer({ adminSecret: ADMIN_SECRET });
    [browserA, browserB] = await Promise.all([BrowserSession.launch(), BrowserSession.launch()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([browserA?.close(), browserB?.close()]);
    await server?.stop();
  }, 60_000);

  it('[D10][whiteboard] the inspector lists the room, its sessions and its live document', {
    timeout: 90_000,
  }, async () => {
    const room = `inspect-${randomUUID().slice(0, 8)}`;
    const a = await BoardPage.open(browserA, server.baseUrl, room, 'Alice');
    const b = await BoardPage.open(browserB, server.baseUrl, room, 'Bob');
    const [idA, idB] = await Promise.all([a.clientId(), b.clientId()]);
    await a.tool('rect');
    await a.color('#1971c2');
    await a.drag({ x: 220, y: 180 }, { x: 400, y: 300 });
    await a.waitForShape({ kind: 'rect', x: 220, y: 180, w: 180, h: 120, color: '#1971c2' });
    await a.tool('pen');
    await a.stroke(wave({ x: 300, y: 420 }, 30));
    await a.waitForShape({ pointsCount: 30 }, (shape) => shape.kind === 'stroke');
    const shapes = await expectSameBoards(a, b);
    await a.screenshot('6-inspect-0-whiteboard-A');

    const inspector = await browserA.context.newPage();
    const pageErrors: string[] = [];
    inspector.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await inspector.goto(`${server.baseUrl}/inspect`);

      // A wrong secret is refused and the login form stays.
      await inspector.getByTestId('admin-secret').fill('not-the-admin-secret');
      await inspector.getByTestId('admin-login').click();
      await eventually(() => textOf(inspector, 'inspect-error')).toBe('The admin secret was not accepted.');
      expect(await inspector.getByTestId('admin-secret').isVisible()).toBe(true);
      await saveScreenshot(inspector, '6-inspect-1-wrong-secret');

      // The right secret lists the open room with its two sessions.
      await inspector.getByTestId('admin-secret').fill(ADMIN_SECRET);
      await inspector.getByTestId('admin-login').click();
      await eventually(() => textOf(inspector, `room-${room}`)).toMatch(
        new RegExp(`^${room}2 sessions · clock \\d+$`),
      );
      expect(await textOf(inspector, 'inspect-error')).toBe('');

      // Selecting it shows both clients' sessions and the document with the shapes.
      await inspector.getByTestId(`room-${room}`).click();
      await eventually(() =>
        inspector.evaluate(
          (id) => document.querySelector(`[data-testid="${CSS.escape(id)}"]`)?.getAttribute('aria-current'),
          `room-${room}`,
        ),
      ).toBe('true');
      await eventually(async () => {
        const sessions = await textOf(inspector, 'sessions');
        return [sessions.includes(idA), sessions.includes(idB), sessions.split('readwrite').length - 1];
      }, 'both sessions, readwrite').toEqual([true, true, 2]);
      await eventually(async () => (await shownDocument(inspector))?.state).toMatchObject(shapeState(shapes));
      const shown = await shownDocument(inspector);
      const stroke = shapes.find((shape) => shape.kind === 'stroke') as RenderedShape;
      expect(shown?.state[`${stroke.id}/Shape`]?.points).toHaveLength(2 * stroke.pointsCount);
      expect(Object.keys(shown?.state ?? {})).toHaveLength(2);
      await saveScreenshot(inspector, '6-inspect-2-room-selected');

      // It is live: a rectangle B draws shows up at the next refresh.
      await b.tool('rect');
      await b.color('#2f9e44');
      await b.drag({ x: 600, y: 200 }, { x: 720, y: 320 });
      const added = await b.waitForShape(
        { kind: 'rect', y: 200, w: 120, h: 120, color: '#2f9e44' },
        (shape) => shape.x === 600,
      );
      await eventually(async () => (await shownDocument(inspector))?.state).toMatchObject(
        shapeState([...shapes, added]),
      );
      // Scroll the document to the new rectangle's fields for the screenshot.
      await inspector.getByTestId('document-json').evaluate((element, key) => {
        const text = element.firstChild;
        const at = (element.textContent ?? '').indexOf(key);
        if (!text || at < 0) return;
        const range = document.createRange();
        range.setStart(text, at);
        range.setEnd(text, at + key.length);
        element.scrollTop += range.getBoundingClientRect().top - element.getBoundingClientRect().top - 12;
      }, `"${added.id}/Shape"`);
      await saveScreenshot(inspector, '6-inspect-3-live-update');
      expect(pageErrors, 'uncaught errors in the inspector').toEqual([]);
      expect([...a.pageErrors, ...b.pageErrors], 'uncaught errors in the whiteboards').toEqual([]);
    } finally {
      await Promise.all([inspector.close(), a.close(), b.close()]);
    }
  });
});
